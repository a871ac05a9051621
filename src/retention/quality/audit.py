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
import html
import logging
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from .. import faults
from ..config import Settings
from ..errors import AuditFailed
from ..sql import sql_text
from .checks import JUDGED, Check, checks_for

log = logging.getLogger(__name__)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no telemetry from a nightly job
SUITE = "retention_reconciliation"


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    description: str
    severity: str
    status: str  # passed, failed, warned, error, skipped
    rows_checked: int
    rows_failed: int
    observed: str  # the first failing row's observed value (or the single row's)
    expected: str
    details: str  # the failing rows, readable


def _judged(batches: list[str] | None) -> str:
    if batches is None:
        return "true"
    if not batches:
        return "false"
    return "batch_date in (" + ", ".join(f"date {sql_text(b)}" for b in batches) + ")"


def skipped(check: Check, through: dt.date | None) -> str | None:
    """Why `check` is not evaluated in this run, or None."""
    if check.skip_reason:
        return check.skip_reason
    if check.needs_through and through is None:
        return "skipped: the run has no through date (run with --through, as the DAG does, to check freshness)"
    return None


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
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["check", "key", "observed", "expected"])
    frame.attrs["query_errors"] = errors
    return frame


def _number(value) -> float:
    try:
        return float("nan") if value is None else float(value)
    except (TypeError, ValueError):
        return float("nan")  # not a number: compares unequal to everything, so the row fails


def _suite_expectations(checks: list[Check]):
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    out = []
    for c in checks:
        common = dict(
            row_condition=Column("check") == c.name,
            meta={"check": c.name, "description": c.description, "severity": c.severity},
            description=f"{c.name} ({c.severity}): {c.description}",
        )
        if c.compare == "at_most":
            out.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="expected", column_B="observed", or_equal=True, **common)
            )
        elif c.compare == "equal":
            out.append(gxe.ExpectColumnPairValuesToBeEqual(column_A="observed", column_B="expected", **common))
        else:
            raise ValueError(f"check {c.name}: unknown comparison {c.compare!r}")
    return out


def verdict_of(result) -> dict:
    """One GX ExpectationValidationResult as {"success", "evaluated", "error"}. A result that raised,
    or that carries no element count (GX did not look at the rows), is not a success."""
    info = result.exception_info or {}
    raised = info.get("raised_exception") or any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
    evaluated = (result.result or {}).get("element_count")
    error = "GX raised an exception" if raised else (None if evaluated is not None else "no element count")
    return {"success": bool(result.success) and not raised and evaluated is not None, "evaluated": evaluated, "error": error}


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root = settings.state_dir / "gx"
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    site = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(settings.data_docs_dir)},
    }
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if "retention" not in context.get_site_names():
        context.add_data_docs_site(site_name="retention", site_config=site)
    return context


def validate(settings: Settings, frame: pd.DataFrame, checks: list[Check], run_id: str) -> dict[str, dict]:
    """GX verdict per check: {"success": bool, "evaluated": rows GX saw, "error": str | None}."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    context = _context(settings)
    source = context.data_sources.add_or_update_pandas("reconciliation")
    asset = next((a for a in source.assets if a.name == "checks"), None) or source.add_dataframe_asset("checks")
    batch = next((b for b in asset.batch_definitions if b.name == "run"), None) or asset.add_batch_definition_whole_dataframe(
        "run"
    )
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=SUITE, expectations=_suite_expectations(checks)))
    definition = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=SUITE, data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="retention_audit",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=["retention"])],
        )
    )
    outcome = checkpoint.run(
        batch_parameters={"dataframe": frame},
        run_id=gx.core.run_identifier.RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC)),
    )
    prune_validation_pages(settings)
    verdicts = {}
    for result in outcome.run_results.values():
        for r in result.results:
            verdicts[(r.expectation_config.meta or {}).get("check")] = verdict_of(r)
    return verdicts


DATA_DOCS_RUNS_KEPT = 60  # nightly: two months of HTML; audit.check_results keeps every run for good


def prune_validation_pages(settings: Settings, keep: int = DATA_DOCS_RUNS_KEPT) -> list[Path]:
    """Drop the Data Docs pages (and GX's stored results) of all but the newest `keep` runs, so the
    HTML does not grow by a megabyte a night forever. Run names sort by time (see new_run_id)."""
    removed = []
    for root in (
        settings.data_docs_dir / "validations" / SUITE,
        settings.state_dir / "gx" / "gx" / "uncommitted" / "validations" / SUITE,
    ):
        if root.is_dir():
            runs = sorted(p for p in root.iterdir() if p.is_dir())
            for old in runs[:-keep] if keep > 0 else runs:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old)
    return removed


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
            results.append(CheckResult(check.name, check.description, check.severity, "skipped", 0, 0, "", "", skips[check.name]))
            continue
        rows = frame[frame["check"] == check.name]
        bad = _bad_rows(check, rows)
        verdict = verdicts.get(check.name) or {"success": False, "evaluated": None, "error": "not validated"}
        query_error = frame.attrs.get("query_errors", {}).get(check.name)
        if query_error:
            status, details = "error", f"query failed: {query_error}"
        elif rows.empty:
            status, details = "error", "no rows to check: the check could not be evaluated"
        elif verdict["error"] or verdict["evaluated"] is None or verdict["evaluated"] != len(rows):
            status = "error"
            details = f"great-expectations did not evaluate it ({verdict['error'] or 'no observed value'})"
        elif verdict["success"] and bad.empty:
            status, details = "passed", ""
        else:
            status = "warned" if check.severity == "warn" else "failed"
            if (
                status == "warned"
                and check.fail_above is not None
                and (bad.empty or (bad["observed"].isna() | (bad["observed"] > check.fail_above + 1e-9)).any())
            ):
                status = "failed"
                bad = bad[bad["observed"].isna() | (bad["observed"] > check.fail_above + 1e-9)]
            details = "; ".join(
                f"{k}: observed {_show(o)}, expected {_show(e)}"
                for k, o, e in bad[["key", "observed", "expected"]].head(10).itertuples(index=False)
            )
            if len(bad) > 10:
                details += f"; … {len(bad) - 10} more"
            if bad.empty:  # GX failed it but our own comparison did not: trust the stricter verdict
                details = "great-expectations reported unexpected values"
            elif check.fail_above is not None and status == "failed":
                details += f" (fails above {_show(check.fail_above)})"
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


def history_file(settings: Settings, run_id: str) -> Path:
    return settings.audit_dir / f"{run_id}.parquet"


def keep(settings: Settings, run_id: str, results: list[CheckResult], checked_at: dt.datetime) -> None:
    settings.audit_dir.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{"run_id": run_id, "checked_at": checked_at, **r.__dict__} for r in results])
    con = duckdb.connect()
    try:
        con.register("results", frame)
        tmp = history_file(settings, run_id).with_suffix(".tmp")
        con.execute(f"copy results to {sql_text(str(tmp))} (format parquet)")
        tmp.replace(history_file(settings, run_id))
    finally:
        con.close()


def _open(settings: Settings, database: Path) -> duckdb.DuckDBPyConnection:
    """The build database, read-only: the audit can look but never change what it judges."""
    if not Path(database).is_file():
        raise FileNotFoundError(f"no build database at {database}")
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute(f"set memory_limit = {sql_text(settings.memory_limit)}")
        con.execute(f"set temp_directory = {sql_text(str(settings.temp_dir))}")
        con.execute(f"set threads = {settings.threads}")
        con.execute("set TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


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
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    try:
        con = _open(settings, database)
    except Exception as e:  # noqa: BLE001 - an unreadable build must fail the audit, not skip it
        reason = f"could not open the build database {database}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        results = [CheckResult(c.name, c.description, c.severity, "error", 0, 0, "", "", reason) for c in evaluated]
        results += judge(
            pd.DataFrame(columns=["check", "key", "observed", "expected"]), [c for c in checks if c.name in skips], {}, skips
        )
        keep(settings, run_id, results, checked_at)
        raise AuditFailed(f"audit failed: {reason} (checks not evaluated: {', '.join(c.name for c in evaluated)})") from e
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
    failed = [r for r in results if r.status in ("failed", "error")]
    if failed:
        raise AuditFailed("audit failed: " + " | ".join(f"{r.check_name} {r.status}: {r.details}" for r in failed))
    return results


SUMMARY_START, SUMMARY_END = "<!-- retention-audit-summary -->", "<!-- /retention-audit-summary -->"


def write_docs_summary(settings: Settings, run_id: str, results: list[CheckResult]) -> Path | None:
    """Put this run's checks at the top of the Data Docs index.html (GX's index lists suites and
    runs only), so that the page a person opens names every check and its outcome."""
    index = settings.data_docs_dir / "index.html"
    if not index.is_file():
        return None
    text = index.read_text(encoding="utf-8")
    if SUMMARY_START in text:
        text = text[: text.index(SUMMARY_START)] + text[text.index(SUMMARY_END) + len(SUMMARY_END) :]
    rows = "".join(
        f"<tr><td>{html.escape(r.check_name)}</td><td>{html.escape(r.status)}</td><td>{html.escape(r.severity)}</td>"
        f"<td>{r.rows_checked}</td><td>{html.escape(r.observed)}</td><td>{html.escape(r.expected)}</td>"
        f"<td>{html.escape(r.details)}</td></tr>"
        for r in results
    )
    block = (
        f'{SUMMARY_START}<div class="container" style="margin-top:1em"><h3>Retention audit, run '
        f'{html.escape(run_id)}</h3><table class="table table-sm"><thead><tr><th>check</th><th>status</th>'
        f"<th>severity</th><th>rows</th><th>observed</th><th>expected</th><th>details</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>{SUMMARY_END}"
    )
    at = text.find("<body>")
    text = text[: at + 6] + block + text[at + 6 :] if at >= 0 else block + text
    tmp = index.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, index)
    return index
