"""The audit: run the reconciliation checks on a build database and let great-expectations judge them.

Every check's result is kept (one Parquet file per run under the state folder) and published as
`audit.check_results`; great-expectations keeps its own validation results and builds Data Docs
(HTML) into `$RETENTION_STATE_DIR/data_docs` on every run.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..config import Settings
from ..ingest.load import connect
from ..ingest.rows import sql_text
from .checks import CHECKS, Check

log = logging.getLogger(__name__)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no telemetry from a nightly job
SUITE = "retention_reconciliation"


class AuditFailed(RuntimeError):
    """A check failed or could not be evaluated; the message names the check and the rows."""


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    description: str
    severity: str
    status: str          # passed, failed, warned, error
    rows_checked: int
    rows_failed: int
    observed: str        # the first failing row's observed value (or the single row's)
    expected: str
    details: str         # the failing rows, readable


def reconciliation_frame(con: duckdb.DuckDBPyConnection, checks: list[Check], through: dt.date) -> pd.DataFrame:
    frames, errors = [], {}
    for check in checks:
        try:
            rows = con.execute(check.sql.replace("{through}", f"date {sql_text(through.isoformat())}")).fetchall()
        except duckdb.Error as e:
            errors[check.name] = str(e).splitlines()[0]
            continue
        frames.append(pd.DataFrame({"check": check.name, "key": [str(r[0]) for r in rows],
                                    "observed": [_number(r[1]) for r in rows],
                                    "expected": [_number(r[2]) for r in rows]}))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["check", "key", "observed", "expected"])
    frame.attrs["query_errors"] = errors
    return frame


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _suite_expectations(checks: list[Check]):
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnPairValuesToBeEqual(
        column_A="observed", column_B="expected", row_condition=f'check=="{c.name}"',
        condition_parser="pandas", meta={"check": c.name, "description": c.description},
        description=f"{c.name}: {c.description}") for c in checks]


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root = settings.state_dir / "gx"
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    site = {"class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(settings.data_docs_dir)}}
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
    batch = next((b for b in asset.batch_definitions if b.name == "run"), None) \
        or asset.add_batch_definition_whole_dataframe("run")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=SUITE, expectations=_suite_expectations(checks)))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=SUITE, data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name="retention_audit", validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name="data_docs", site_names=["retention"])]))
    outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx.core.run_identifier.RunIdentifier(
        run_name=run_id))
    verdicts = {}
    for result in outcome.run_results.values():
        for r in result.results:
            name = (r.expectation_config.meta or {}).get("check")
            info = r.exception_info or {}
            raised = info.get("raised_exception") or any(
                isinstance(v, dict) and v.get("raised_exception") for v in info.values())
            evaluated = (r.result or {}).get("element_count")
            verdicts[name] = {"success": bool(r.success) and not raised and evaluated is not None,
                              "evaluated": evaluated, "error": "GX raised an exception" if raised else None}
    return verdicts


def judge(frame: pd.DataFrame, checks: list[Check], verdicts: dict[str, dict]) -> list[CheckResult]:
    results = []
    for check in checks:
        rows = frame[frame["check"] == check.name]
        both_nan = rows["observed"].isna() & rows["expected"].isna()
        bad = rows[~both_nan & ~(rows["observed"] - rows["expected"]).abs().le(1e-9)]
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
            details = "; ".join(f"{k}: observed {_show(o)}, expected {_show(e)}"
                                for k, o, e in bad[["key", "observed", "expected"]].head(10).itertuples(index=False))
            if len(bad) > 10:
                details += f"; … {len(bad) - 10} more"
            if bad.empty:  # GX failed it but our own comparison did not: trust the stricter verdict
                details = "great-expectations reported unexpected values"
        first = bad.iloc[0] if not bad.empty else (rows.iloc[0] if len(rows) == 1 else None)
        results.append(CheckResult(
            check.name, check.description, check.severity, status, len(rows), len(bad),
            _show(first["observed"]) if first is not None else "", _show(first["expected"]) if first is not None else "",
            details))
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


def audit(settings: Settings, database: Path, run_id: str, through: dt.date | None,
          checks: list[Check] | None = None) -> list[CheckResult]:
    """Run every check against `database`; raise AuditFailed when any failing-severity check did not pass."""
    checks = CHECKS if checks is None else checks
    checked_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    con = connect(settings, str(database))
    try:
        frame = reconciliation_frame(con, checks, through or dt.date(9999, 12, 31))
    finally:
        con.close()
    try:
        verdicts = validate(settings, frame, checks, run_id)
    except Exception as e:  # noqa: BLE001 - a validator that cannot run must not let data through
        log.exception("great-expectations could not run")
        verdicts = {c.name: {"success": False, "evaluated": None, "error": f"{type(e).__name__}: {e}"} for c in checks}
    results = judge(frame, checks, verdicts)
    keep(settings, run_id, results, checked_at)
    failed = [r for r in results if r.status in ("failed", "error")]
    if failed:
        raise AuditFailed("audit failed: " + " | ".join(f"{r.check_name} {r.status}: {r.details}" for r in failed))
    return results
