"""A data-quality check: a query over the build database returning rows `(key, observed, expected)`,
and how to compare them. See checks.py for the checks and the rules they share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Severity(StrEnum):
    """What a check that does not pass does to the run; the value is what the audit tables record."""

    FAIL = "fail"  # stops the publish
    WARN = "warn"  # reported and kept


class CheckStatus(StrEnum):
    """A check's outcome in a run; the value is what the audit tables, the report and the DAG's XCom hold."""

    PASSED = "passed"
    FAILED = "failed"  # a failing-severity check, or a warning one beyond its fail_above
    WARNED = "warned"  # a warning-severity check: reported, the run publishes
    ERROR = "error"  # could not be judged (query failed, no rows, no verdict): fails like FAILED
    SKIPPED = "skipped"  # not evaluated this run (turned off, or no through date)


BLOCKING = frozenset({CheckStatus.FAILED, CheckStatus.ERROR})  # outcomes that stop the publish


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str
    severity: Severity = Severity.FAIL
    compare: Literal["equal", "at_most"] = "equal"  # "equal": observed = expected; "at_most": observed <= expected
    fail_above: float | None = None  # at_most, severity warn: rows with observed above this fail
    needs_through: bool = False  # skipped (passed) when the run has no through date
    skip_reason: str | None = None  # set: not evaluated this run, recorded as skipped
    unit: str = ""  # of observed and expected, said with them ("days", "times the median")
    advice: str = ""  # what to do when it fails or warns, appended to its details

    def __post_init__(self) -> None:
        # mypy catches a misspelt severity in the code; this catches one that arrives as text at run time
        object.__setattr__(self, "severity", Severity(self.severity))


THROUGH = "{through}"  # replaced by the run's through date, a date literal
JUDGED = "{judged_batches}"  # replaced by a condition on batch_date: the batches this run loaded
