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

from . import faults
from .config import Settings
from .demo import is_demo_output
from .errors import RunFailed
from .fingerprint import EMPTY_LAKE_STATE, fingerprint, lake_state
from .ingest import lake
from .ingest.load import IngestReport, ingest
from .ingest.mapping import mapping_for
from .lock import writer_lock
from .quality.audit import CheckResult, audit
from .quality.checks import checks_for
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

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        return cls(**data)

    @property
    def through_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.through) if self.through else None


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
    return Plan(
        run_id=run_id,
        through=through.isoformat() if through else None,
        fingerprint=fp,
        up_to_date=bool(marker and marker.get("fingerprint") == fp and settings.warehouse.exists()),
        loaded_batches=sorted({m["batch_date"].isoformat() for m in report.loaded}),
        unchanged_batches=len(report.unchanged),
        rows=rows,
        lake_state=state,
    )


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
    return audit(settings, build_database(settings), plan.run_id, plan.through_date, checks_for(settings), plan.loaded_batches)


def _published_extras(settings: Settings) -> dict[str, str]:
    history = sql_text(str(settings.audit_dir / "*.parquet"))
    return {
        "audit.check_results": f"select * from read_parquet({history}, union_by_name = true) order by checked_at, check_name",
        "audit.load_manifest": "select * exclude (rules) from build.raw.manifest order by batch_date, file_name",
        "audit.quarantine_summary": """
            select batch_date, source_file, table_name, split_part(reason, ':', 1) as reason, count(*) as rows_quarantined,
                   min(source_line) as first_line
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
    publish(
        settings,
        build_db,
        _published_extras(settings),
        {
            "run_id": plan.run_id,
            "fingerprint": plan.fingerprint,
            "through": plan.through,
            "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )
    faults.failpoint("publish.done")
    build_db.unlink(missing_ok=True)
    return True


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
        stage_build(settings, plan)
        checks = stage_audit(settings, plan)
        published = stage_publish(settings, plan)
        outcome["status"] = "published" if published else "up to date"
    return RunSummary(plan, published, checks)


def locked(settings: Settings, what: str):
    """The writer lock, for one DAG task at a time."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return writer_lock(settings.lock_file, what, settings.lock_wait_seconds)
