"""Judging the checks: each check's rows against its comparison, with GX's verdict, into one
result that names the offending rows. Nothing passes by default: no rows, a failed query or no
verdict from GX makes the check "error"."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from .check import Check, CheckStatus, Severity


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    description: str
    severity: Severity
    status: CheckStatus
    rows_checked: int
    rows_failed: int
    observed: str  # the first failing row's observed value (or the single row's)
    expected: str
    details: str  # the failing rows, readable

    def __post_init__(self) -> None:
        # text from elsewhere (a test, a history file) becomes the enums, or fails here on a misspelling
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "status", CheckStatus(self.status))


def skipped(check: Check, through: dt.date | None) -> str | None:
    """Why `check` is not evaluated in this run, or None."""
    if check.skip_reason:
        return check.skip_reason
    if check.needs_through and through is None:
        return "skipped: the run has no through date (run with --through, as the DAG does, to check freshness)"
    return None


def _bad_rows(check: Check, rows: pd.DataFrame) -> pd.DataFrame:
    if check.compare == "at_most":
        return rows[~(rows["observed"] <= rows["expected"] + 1e-9)]  # NaN on either side is bad
    both_nan = rows["observed"].isna() & rows["expected"].isna()
    return rows[~both_nan & ~(rows["observed"] - rows["expected"]).abs().le(1e-9)]


def judge(
    frame: pd.DataFrame, checks: list[Check], verdicts: dict[str, dict], skips: dict[str, str] | None = None
) -> list[CheckResult]:
    results = []
    for check in checks:
        if skips and check.name in skips:
            results.append(
                CheckResult(check.name, check.description, check.severity, CheckStatus.SKIPPED, 0, 0, "", "", skips[check.name])
            )
            continue
        rows = frame[frame["check"] == check.name]
        bad = _bad_rows(check, rows)
        verdict = verdicts.get(check.name) or {"success": False, "evaluated": None, "error": "not validated"}
        query_error = frame.attrs.get("query_errors", {}).get(check.name)
        status: CheckStatus
        if query_error:
            status, details = CheckStatus.ERROR, f"query failed: {query_error}"
        elif rows.empty:
            status, details = CheckStatus.ERROR, "no rows to check: the check could not be evaluated"
        elif verdict["error"] or verdict["evaluated"] is None or verdict["evaluated"] != len(rows):
            status = CheckStatus.ERROR
            details = f"great-expectations did not evaluate it ({verdict['error'] or 'no observed value'})"
        elif verdict["success"] and bad.empty:
            status, details = CheckStatus.PASSED, ""
        else:
            status = CheckStatus.WARNED if check.severity == Severity.WARN else CheckStatus.FAILED
            if (
                status == CheckStatus.WARNED
                and check.fail_above is not None
                and (bad.empty or (bad["observed"].isna() | (bad["observed"] > check.fail_above + 1e-9)).any())
            ):
                status = CheckStatus.FAILED
                bad = bad[bad["observed"].isna() | (bad["observed"] > check.fail_above + 1e-9)]
            unit = f" {check.unit}" if check.unit else ""
            bound = "at most " if check.compare == "at_most" else ""
            details = "; ".join(
                f"{k}: observed {_show(o)}{unit}, expected {bound}{_show(e)}{unit}"
                for k, o, e in bad[["key", "observed", "expected"]].head(10).itertuples(index=False)
            )
            if len(bad) > 10:
                details += f"; … {len(bad) - 10} more"
            if bad.empty:  # GX failed it but our own comparison did not: trust the stricter verdict
                details = "great-expectations reported unexpected values"
            elif check.fail_above is not None and status == CheckStatus.FAILED:
                details += f" (fails above {_show(check.fail_above)})"
            if check.advice and not bad.empty:
                details += f" — {check.advice}"
        first = bad.iloc[0] if not bad.empty else (rows.iloc[0] if len(rows) == 1 else None)
        results.append(
            CheckResult(
                check.name,
                check.description,
                check.severity,
                status,
                len(rows),
                len(bad),
                _show(first["observed"]) if first is not None else "",
                _show(first["expected"]) if first is not None else "",
                details,
            )
        )
    return results


def _show(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
