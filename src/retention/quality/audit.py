"""The audit: run the reconciliation checks on a build database and let great-expectations judge them.

Every check's result is kept (one Parquet file per run under the state folder, also for runs that
fail) and published as `audit.check_results`, so the history of every run shows up with the next
publish; great-expectations keeps its own validation results and builds Data Docs (HTML) into
`$RETENTION_STATE_DIR/data_docs` on every run, whose index.html starts with this run's checks.

Anything that keeps a check from being judged — the build database cannot be opened, a query
fails, a query returns no rows, great-expectations raises or reports no element count — makes
that check "error", which fails the audit like a failed check: nothing passes by default.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb
import pandas as pd

from .. import durable, faults
from ..config import Settings
from ..database import connect
from ..errors import AuditFailed
from ..sql import sql_text
from .check import BLOCKING, JUDGED, Check, CheckStatus
from .checks import checks_for
from .gx import validate, write_docs_summary
from .judge import CheckResult, judge, skipped

log = logging.getLogger(__name__)
FRAME_COLUMNS = ("check", "key", "observed", "expected")  # one row per thing a check judges


def _judged(batches: list[str] | None) -> str:
    if batches is None:
        return "true"
    if not batches:
        return "false"
    return "batch_date in (" + ", ".join(f"date {sql_text(b)}" for b in batches) + ")"


def reconciliation_frame(
    con: duckdb.DuckDBPyConnection, checks: list[Check], through: dt.date, batches: list[str] | None = None
) -> pd.DataFrame:
    frames, errors = [], {}
    for check in checks:
        sql = check.sql.replace("{through}", f"date {sql_text(through.isoformat())}").replace(JUDGED, _judged(batches))
        try:
            rows = con.execute(sql).fetchall()
        except Exception as e:  # noqa: BLE001 - a broken connection or query must fail the check, loudly
            errors[check.name] = f"{type(e).__name__}: " + (str(e).splitlines() or [""])[0]
            continue
        frames.append(
            pd.DataFrame(
                {
                    "check": check.name,
                    "key": [str(r[0]) for r in rows],
                    "observed": [_number(r[1]) for r in rows],
                    "expected": [_number(r[2]) for r in rows],
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FRAME_COLUMNS))
    frame.attrs["query_errors"] = errors
    return frame


def _number(value) -> float:
    try:
        return float("nan") if value is None else float(value)
    except (TypeError, ValueError):
        return float("nan")  # not a number: compares unequal to everything, so the row fails


def history_file(settings: Settings, run_id: str) -> Path:
    return settings.audit_dir / f"{run_id}.parquet"


def keep(settings: Settings, run_id: str, results: list[CheckResult], checked_at: dt.datetime) -> None:
    settings.audit_dir.mkdir(parents=True, exist_ok=True)
    # the enums' values, so the history holds the same plain strings as it always did
    rows = [r.__dict__ | {"severity": r.severity.value, "status": r.status.value} for r in results]
    frame = pd.DataFrame([{"run_id": run_id, "checked_at": checked_at, **row} for row in rows])
    con = duckdb.connect()
    try:
        con.register("results", frame)
        with durable.replacing(history_file(settings, run_id)) as tmp:
            con.execute(f"copy results to {sql_text(str(tmp))} (format parquet)")
    finally:
        con.close()


def _open(settings: Settings, database: Path) -> duckdb.DuckDBPyConnection:
    """The build database, read-only: the audit can look but never change what it judges."""
    if not Path(database).is_file():
        raise FileNotFoundError(f"no build database at {database}")
    return connect(settings, database, read_only=True)


def _unopened(
    settings: Settings,
    database: Path,
    run_id: str,
    checks: list[Check],
    skips: dict[str, str],
    checked_at: dt.datetime,
    error: Exception,
) -> AuditFailed:
    """An unreadable build fails every check it would have evaluated (kept in the history like any run)."""
    reason = f"could not open the build database {database}: {type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    evaluated = [c for c in checks if c.name not in skips]
    results = [CheckResult(c.name, c.description, c.severity, CheckStatus.ERROR, 0, 0, "", "", reason) for c in evaluated]
    results += judge(pd.DataFrame(columns=list(FRAME_COLUMNS)), [c for c in checks if c.name in skips], {}, skips)
    keep(settings, run_id, results, checked_at)
    return AuditFailed(f"audit failed: {reason} (checks not evaluated: {', '.join(c.name for c in evaluated)})")


def audit(
    settings: Settings,
    database: Path,
    run_id: str,
    through: dt.date | None,
    checks: list[Check] | None = None,
    batches: list[str] | None = None,
) -> list[CheckResult]:
    """Run every check against `database`; raise AuditFailed when any failing-severity check did not
    pass. `batches`: the batches this run loaded, which the volume check judges (None: all)."""
    checks = checks_for(settings) if checks is None else checks
    checked_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    skips = {c.name: reason for c in checks if (reason := skipped(c, through))}
    evaluated = [c for c in checks if c.name not in skips]
    try:
        con = _open(settings, database)
    except Exception as e:  # noqa: BLE001 - an unreadable build must fail the audit, not skip it
        raise _unopened(settings, database, run_id, checks, skips, checked_at, e) from e
    try:
        frame = reconciliation_frame(con, evaluated, through or dt.date(9999, 12, 31), batches)
    finally:
        con.close()
    faults.failpoint("audit.queried")
    try:
        verdicts = validate(settings, frame, evaluated, run_id)
    except Exception as e:  # noqa: BLE001 - a validator that cannot run must not let data through
        log.warning("great-expectations could not run: %s: %s", type(e).__name__, e)
        log.debug("great-expectations could not run", exc_info=True)
        verdicts = {c.name: {"success": False, "evaluated": None, "error": f"{type(e).__name__}: {e}"} for c in evaluated}
    results = judge(frame, checks, verdicts, skips)
    keep(settings, run_id, results, checked_at)
    try:
        write_docs_summary(settings, run_id, results)
    except OSError:
        log.warning("could not add the run's summary to the Data Docs index", exc_info=True)
    faults.failpoint("audit.kept")
    failed = [r for r in results if r.status in BLOCKING]
    if failed:
        raise AuditFailed("audit failed: " + " | ".join(f"{r.check_name} {r.status}: {r.details}" for r in failed))
    return results
