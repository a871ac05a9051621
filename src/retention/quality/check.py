"""A data-quality check: a query over the build database returning rows `(key, observed, expected)`,
and how to compare them. See checks.py for the checks and the rules they share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str
    severity: str = "fail"  # "fail" stops the publish; "warn" is reported and kept
    compare: str = "equal"  # "equal": observed = expected; "at_most": observed <= expected
    fail_above: float | None = None  # at_most, severity warn: rows with observed above this fail
    needs_through: bool = False  # skipped (passed) when the run has no through date
    skip_reason: str | None = None  # set: not evaluated this run, recorded as skipped
    unit: str = ""  # of observed and expected, said with them ("days", "times the median")
    advice: str = ""  # what to do when it fails or warns, appended to its details


THROUGH = "{through}"  # replaced by the run's through date, a date literal
JUDGED = "{judged_batches}"  # replaced by a condition on batch_date: the batches this run loaded
