"""The nightly run: ingest → build → audit → publish. The CLI and the Airflow DAG call these.

Each stage takes and returns a small JSON-able plan, so the DAG can pass it between tasks; the CLI
runs all four under one writer lock. Nothing readers see changes before `publish`, and `publish`
happens only after ingest, dbt and the audit all passed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import faults
from .config import Settings
from .database import connect
from .demo import is_demo_output
from .errors import RunFailed
from .fingerprint import EMPTY_LAKE_STATE, fingerprint, lake_state
from .ingest import lake
from .ingest.batch_log import removed_batches_sql
from .ingest.load import IngestReport, ingest
from .ingest.mapping import mapping_for
from .ingest.quarantine import EXAMPLES_SQL, REASON_SQL
from .lock import writer_lock
from .quality.audit import CheckResult, audit
from .quality.checks import FRESHNESS_ADVICE, checks_for
from .run_info import changes, run_info, run_info_sql
from .run_record import now, outcome_recorded, rejections_file, write_json
from .sql import sql_text
from .warehouse.build import build, build_database
from .warehouse.publish import publish, read_marker

log = logging.getLogger(__name__)


@dataclass
class Plan:
    run_id: str
    through: str | None
    fingerprint: str  # of everything the marts depend on: lake state, settings, code
    up_to_date: bool
    loaded_batches: list[str] = field(default_factory=list)
    unchanged_batches: int = 0
    rows: dict = field(default_factory=dict)
    lake_state: str = ""  # the loaded batches alone (the fingerprint also covers code and settings)
    as_of: str | None = None  # the newest batch date the marts are built from (contract §3)
    reference_date: str = ""  # freshness is judged against it: the through date, else the run's start day
    warnings: list[str] = field(default_factory=list)  # said on the terminal and recorded (last_run.json)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        return cls(**data)

    @property
    def through_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.through) if self.through else None


def _freshness_label(settings: Settings, plan: Plan) -> str:
    return "through date" if plan.through else f"today ({settings.timezone})"


def reference_date(settings: Settings, through: dt.date | None) -> dt.date:
    """What freshness compares the newest batch with: the through date, else the day the run
    started in RETENTION_TIMEZONE (so a plain `retention run` from cron flags a stopped feed too)."""
    return through or dt.datetime.now(ZoneInfo(settings.timezone)).date()


def _as_of(settings: Settings, through: dt.date | None) -> dt.date | None:
    """The newest batch date in the lake on or before `through` (contract §3's as-of date)."""
    con = connect(settings)
    try:
        dates = [r["batch_date"] for r in lake.manifest(con, settings.lake_dir) if through is None or r["batch_date"] <= through]
    finally:
        con.close()
    return max(dates) if dates else None


def _stale_feed(settings: Settings, as_of: dt.date | None, reference: dt.date, label: str) -> str | None:
    """The freshness verdict for a run that does not audit (nothing new), worded as the check's."""
    days = settings.freshness_max_days
    if not days or as_of is None or (reference - as_of).days <= days:
        return None
    return (
        f"freshness: newest batch {as_of} vs {label} {reference}: observed {(reference - as_of).days} days, "
        f"expected at most {days} days — {FRESHNESS_ADVICE}"
    )


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _clean_build_dir(settings: Settings) -> None:
    if settings.build_dir.is_dir():
        shutil.rmtree(settings.build_dir)  # a failed run's build is kept for inspection until the next run
    for debris in settings.warehouse.parent.glob(f".{settings.warehouse.name}.*.tmp"):
        debris.unlink(missing_ok=True)


def preflight(settings: Settings) -> None:
    """What can be known wrong before any work: the column mapping (MappingError names the setting or
    file at fault), and a development salt on real data (a warning, on every run)."""
    mapping_for(settings.landing_dir, settings.column_mapping)
    if settings.uses_development_salt and not is_demo_output(settings.landing_dir):
        log.warning(
            "RETENTION_PII_SALT is not set: personal data is hashed with the built-in development salt, which "
            "anyone can reproduce; set a secret salt for real CRM exports (changing it reloads every batch)"
        )


def stage_ingest(settings: Settings, through: dt.date | None, run_id: str | None = None) -> Plan:
    run_id = run_id or new_run_id()
    preflight(settings)
    _clean_build_dir(settings)
    report: IngestReport = ingest(settings, through)
    faults.failpoint("ingest.done")
    for name in report.removed_loads:
        log.info("removed an unfinished or replaced load: %s", name)
    _record_rejections(settings, run_id, report)
    if not lake.has_batches(settings.lake_dir):
        raise RunFailed(f"no batches to load in {settings.landing_dir}" + (f" dated on or before {through}" if through else ""))
    state = lake_state(settings, through)
    if state == EMPTY_LAKE_STATE:
        raise RunFailed(f"no batch is dated on or before {through}: there is nothing to build the marts from")
    fp = fingerprint(settings, through, state)
    marker = read_marker(settings)
    rows = {key: sum(int(m[key]) for m in report.loaded) for key in ("rows_read", "rows_loaded", "rows_quarantined")}
    as_of = _as_of(settings, through)
    reference = reference_date(settings, through)
    plan = Plan(
        run_id=run_id,
        through=through.isoformat() if through else None,
        fingerprint=fp,
        up_to_date=bool(marker and marker.get("fingerprint") == fp and settings.warehouse.exists()),
        loaded_batches=sorted({m["batch_date"].isoformat() for m in report.loaded}),
        unchanged_batches=len(report.unchanged),
        rows=rows,
        lake_state=state,
        as_of=as_of.isoformat() if as_of else None,
        reference_date=reference.isoformat(),
        warnings=list(report.warnings),
    )
    if not plan.up_to_date:
        plan.warnings += changes(marker, run_info(settings, run_id, fp, plan.as_of, plan.through))
    elif stale := _stale_feed(settings, as_of, reference, _freshness_label(settings, plan)):
        if settings.freshness_severity == "fail":
            raise RunFailed(stale)
        plan.warnings.append(stale)
    for warning in plan.warnings:
        log.warning("%s", warning)
    return plan


def _record_rejections(settings: Settings, run_id: str, report: IngestReport) -> None:
    """Keep this ingest's verdicts for `retention status`; any rejected batch stops the run."""
    rejected = [{"batch": e.batch, "file": e.file, "problem": e.problem} for e in report.rejected]
    write_json(rejections_file(settings), {"run_id": run_id, "checked_at": now(), "rejected": rejected})
    if report.rejected:
        raise RunFailed(
            "ingest rejected "
            + "; ".join(str(e) for e in report.rejected)
            + ". Nothing of those batches was loaded; the published marts are unchanged."
        )


def stage_build(settings: Settings, plan: Plan) -> Path | None:
    if plan.up_to_date:
        return None
    database = build(settings, plan.through_date)
    faults.failpoint("build.done")
    return database


def stage_audit(settings: Settings, plan: Plan) -> list[CheckResult]:
    if plan.up_to_date:
        return []
    reference = dt.date.fromisoformat(plan.reference_date) if plan.reference_date else plan.through_date
    checks = checks_for(settings, reference, _freshness_label(settings, plan))
    return audit(settings, build_database(settings), plan.run_id, plan.through_date, checks, plan.loaded_batches)


def _published_extras(settings: Settings, info: dict) -> dict[str, str]:
    """The audit tables published beside the marts (their descriptions: publish_docs.AUDIT_TABLES)."""
    history = sql_text(str(settings.audit_dir / "*.parquet"))
    return {
        "audit.run_info": run_info_sql(info),
        "audit.removed_batches": removed_batches_sql(settings.lake_dir),
        "audit.check_results": f"select * from read_parquet({history}, union_by_name = true) order by checked_at, check_name",
        "audit.load_manifest": "select * exclude (rules) from build.raw.manifest order by batch_date, file_name",
        "audit.quarantine_summary": f"""
            select batch_date, source_file, table_name, {REASON_SQL} as reason, count(*) as rows_quarantined,
                   min(source_line) as first_line, {EXAMPLES_SQL} as example_values
            from build.raw.quarantine group by all order by batch_date, source_file, reason""",
    }


def stage_publish(settings: Settings, plan: Plan) -> bool:
    """Swap the audited build in; returns False when the published file was already up to date."""
    if plan.up_to_date:
        return False
    # Only the lake matters here: code edited while the run built does not change what it built from
    # (the marker keeps the fingerprint taken at ingest, so the next run rebuilds with the new code).
    if lake_state(settings, plan.through_date) != plan.lake_state:
        raise RunFailed("the lake changed since this run's build (another run loaded batches); run again")
    build_db = build_database(settings)
    info = run_info(settings, plan.run_id, plan.fingerprint, plan.as_of, plan.through)
    publish(settings, build_db, _published_extras(settings, info), info | {"through": plan.through})
    faults.failpoint("publish.done")
    build_db.unlink(missing_ok=True)
    return True


def check_warnings(checks: list[CheckResult]) -> list[str]:
    return [f"{c.check_name}: {c.details}" for c in checks if c.status == "warned"]


@dataclass
class RunSummary:
    plan: Plan
    published: bool
    checks: list[CheckResult]


def run(settings: Settings, through: dt.date | None = None) -> RunSummary:
    """The whole run under the writer lock (contract §3, `retention run`)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (
        writer_lock(settings.lock_file, f"retention run (through {through or 'all'})", settings.lock_wait_seconds),
        outcome_recorded(settings, "retention run") as outcome,
    ):
        outcome["run_id"] = run_id = new_run_id()
        plan = stage_ingest(settings, through, run_id)
        if not plan.up_to_date:
            # great-expectations takes seconds to import: do it on the other core while dbt builds
            threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
        outcome["warnings"] = plan.warnings
        stage_build(settings, plan)
        checks = stage_audit(settings, plan)
        outcome["warnings"] = plan.warnings + check_warnings(checks)
        published = stage_publish(settings, plan)
        outcome["status"] = "published" if published else "up to date"
    return RunSummary(plan, published, checks)


def locked(settings: Settings, what: str):
    """The writer lock, for one DAG task at a time."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return writer_lock(settings.lock_file, what, settings.lock_wait_seconds)
