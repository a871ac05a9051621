"""The nightly run: ingest → build → audit → publish. The CLI and the Airflow DAG call these.

Each stage takes and returns a small JSON-able plan, so the DAG can pass it between tasks; the CLI
runs all four under one writer lock. Nothing readers see changes before `publish`, and `publish`
happens only after ingest, dbt and the audit all passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import faults, progress, speedups
from .config import Settings
from .demo import is_demo_output
from .errors import RunFailed
from .fingerprint import EMPTY_LAKE_STATE, fingerprint, lake_as_of, lake_state
from .freshness import label as freshness_label
from .freshness import reference_date, stale_feed
from .ingest import lake
from .ingest.batch_log import removed_batches_sql
from .ingest.load import IngestReport, ingest
from .ingest.mapping import mapping_for
from .ingest.quarantine import EXAMPLES_SQL, REASON_SQL
from .lock import writer_lock
from .outputs.sets import Locations, locations, outputs_run_id
from .outputs.write import write_outputs
from .quality.audit import CheckResult, audit
from .quality.check import CheckStatus
from .quality.checks import checks_for
from .run_info import changes, run_info, run_info_sql
from .run_record import now, outcome_recorded, rejections_file, write_json
from .sql import sql_text
from .warehouse.build import build, docs_target
from .warehouse.publish import Candidate, read_marker, read_snapshot_marker

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
    as_of: str | None = None  # the newest batch date the marts are built from (docs/reference.md §3)
    reference_date: str = ""  # freshness is judged against it: the through date, else the run's start day
    warnings: list[str] = field(default_factory=list)  # said on the terminal and recorded (last_run.json)
    target: str = "warehouse"  # "warehouse", or "snapshot" when the published marts are newer than this run's
    full_refresh: bool = False  # rebuild and publish even when the target is up to date

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


FAILED_MARK = "FAILED"  # in a run's build folder: its audit or publish failed; kept for inspection until the next ingest
CRASHED_AFTER = dt.timedelta(days=1)  # a build folder untouched this long belongs to a run that died unrecorded


def run_build(settings: Settings, run_id: str) -> Path:
    return settings.run_build_dir(run_id) / "build.duckdb"  # the stem names the catalog: `build`, as dbt built it


def _clean_build_dirs(settings: Settings, run_id: str) -> None:
    """A failed run's build is kept for inspection until the next run starts. Other runs' finished builds
    stay: an interleaved DAG run may still audit and publish its own."""
    if settings.build_dir.is_dir():
        shutil.rmtree(settings.build_dir)
    stale = dt.datetime.now().timestamp() - CRASHED_AFTER.total_seconds()
    for folder in settings.run_build_dir(run_id).parent.glob("*"):
        if folder.name != run_id and ((folder / FAILED_MARK).exists() or folder.stat().st_mtime < stale):
            shutil.rmtree(folder, ignore_errors=True)
    for debris in settings.warehouse.parent.glob(f".{settings.warehouse.name}.*.tmp"):
        debris.unlink(missing_ok=True)


@contextmanager
def _failure_marked(settings: Settings, plan: Plan) -> Iterator[None]:
    """A stage that fails leaves the run's build for inspection, marked so that the next run removes it."""
    try:
        yield
    except BaseException as e:
        folder = settings.run_build_dir(plan.run_id)
        if folder.is_dir():
            (folder / FAILED_MARK).write_text(f"{type(e).__name__}: {e}\n")
        raise


def preflight(settings: Settings) -> None:
    """What can be known wrong before any work: the column mapping (MappingError names the setting or
    file at fault), and a development salt on real data (a warning, on every run)."""
    mapping_for(settings.landing_dir, settings.column_mapping)
    if settings.uses_development_salt and not is_demo_output(settings.landing_dir):
        log.warning(
            "RETENTION_PII_SALT is not set: personal data is hashed with the built-in development salt, which "
            "anyone can reproduce; set a secret salt for real CRM exports (changing it reloads every batch)"
        )


def publish_target(settings: Settings, as_of: str) -> str:
    """Publishing never moves readers back in time (docs/reference.md §3): a run older than the published marts
    writes a snapshot instead. Decided at ingest (for the up-to-date check) and again under the lock at publish."""
    published_as_of = (read_marker(settings) or {}).get("as_of")
    return "snapshot" if settings.warehouse.exists() and published_as_of and as_of < published_as_of else "warehouse"


def target_path(settings: Settings, plan: Plan) -> Path:
    return settings.snapshot(str(plan.as_of)) if plan.target == "snapshot" else settings.warehouse


def _target_marker(settings: Settings, target: str, as_of: str) -> dict | None:
    return read_snapshot_marker(settings, as_of) if target == "snapshot" else read_marker(settings)


def stage_ingest(settings: Settings, through: dt.date | None, run_id: str | None = None, full_refresh: bool = False) -> Plan:
    run_id = run_id or new_run_id()
    preflight(settings)
    _clean_build_dirs(settings, run_id)
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
    as_of = lake_as_of(settings, through)
    target = publish_target(settings, str(as_of))
    marker = _target_marker(settings, target, str(as_of))
    reference = reference_date(settings, through)
    plan = Plan(
        run_id=run_id,
        through=through.isoformat() if through else None,
        fingerprint=fp,
        up_to_date=False,
        loaded_batches=sorted({m["batch_date"].isoformat() for m in report.loaded}),
        unchanged_batches=len(report.unchanged),
        rows={key: sum(int(m[key]) for m in report.loaded) for key in ("rows_read", "rows_loaded", "rows_quarantined")},
        lake_state=state,
        as_of=as_of.isoformat() if as_of else None,
        reference_date=reference.isoformat(),
        warnings=list(report.warnings),
        target=target,
        full_refresh=full_refresh,
    )
    published = marker and marker.get("fingerprint") == fp and target_path(settings, plan).exists()
    plan.up_to_date = bool(published and not full_refresh)
    if not plan.up_to_date:
        plan.warnings += changes(marker, run_info(settings, run_id, fp, plan.as_of, plan.through))
    elif stale := stale_feed(settings, as_of, reference, freshness_label(settings, plan.through)):
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
    built = build(settings, plan.through_date)
    # dbt builds at one fixed path; the finished build moves to the run's own folder (same file system: a rename)
    kept = run_build(settings, plan.run_id)
    kept.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        if Path(f"{built}{suffix}").exists():
            os.replace(f"{built}{suffix}", f"{kept}{suffix}")
    site = docs_target(settings) / "static_index.html"
    if site.is_file():  # the dbt docs of this build go with it, for this run's outputs (interleaved runs share dbt's folder)
        os.replace(site, dbt_docs_of(settings, plan.run_id))
    faults.failpoint("build.done")
    return kept


def _own_build(settings: Settings, plan: Plan) -> Path:
    database = run_build(settings, plan.run_id)
    if not database.exists():
        raise RunFailed(f"the build of run {plan.run_id} is gone ({database} does not exist); run again")
    return database


def stage_audit(settings: Settings, plan: Plan) -> list[CheckResult]:
    if plan.up_to_date:
        return []
    with _failure_marked(settings, plan):
        database = _own_build(settings, plan)
        reference = dt.date.fromisoformat(plan.reference_date) if plan.reference_date else plan.through_date
        checks = checks_for(settings, reference, freshness_label(settings, plan.through))
        return audit(settings, database, plan.run_id, plan.through_date, checks, plan.loaded_batches)


def _published_extras(settings: Settings, info: dict, through: str | None) -> dict[str, str]:
    """The audit tables published beside the marts (their descriptions: retention.warehouse.audit_docs.AUDIT_TABLES).
    The raw views read the whole lake: the manifest and quarantine keep to the batches this run built from
    (a later run may have loaded newer ones since)."""
    history = sql_text(str(settings.audit_dir / "*.parquet"))
    built_from = f"batch_date <= date {sql_text(through)}" if through else "true"
    return {
        "audit.run_info": run_info_sql(info),
        "audit.removed_batches": removed_batches_sql(settings.lake_dir),
        "audit.check_results": f"select * from read_parquet({history}, union_by_name = true) order by checked_at, check_name",
        "audit.load_manifest": f"""
            select * exclude (rules) from build.raw.manifest where {built_from} order by batch_date, file_name""",
        "audit.quarantine_summary": f"""
            select batch_date, source_file, table_name, {REASON_SQL} as reason, count(*) as rows_quarantined,
                   min(source_line) as first_line, {EXAMPLES_SQL} as example_values
            from build.raw.quarantine where {built_from} group by all order by batch_date, source_file, reason""",
    }


@dataclass(frozen=True)
class Publication:
    """What `stage_publish` did: `plan` is the run's plan with the target decided under the lock (the
    caller's plan is left as it was), `file` the file published, None when it was up to date."""

    plan: Plan
    file: Path | None


def stage_publish(settings: Settings, plan: Plan) -> Publication:
    """Swap the audited build in: over $RETENTION_WAREHOUSE, or as the snapshot of the run's as-of date
    when the published marts are newer (docs/reference.md §3). Returns the file published with the plan whose
    target says which it was; later stages (outputs, the run's record) take that plan, not the ingest's."""
    if plan.up_to_date:
        return Publication(plan, None)
    # Only the lake matters here: code edited while the run built does not change what it built from
    # (the marker keeps the fingerprint taken at ingest, so the next run rebuilds with the new code).
    with _failure_marked(settings, plan):
        if lake_state(settings, plan.through_date) != plan.lake_state:
            raise RunFailed("the lake changed since this run's build (another run loaded batches); run again")
        build_db = _own_build(settings, plan)
        # under the lock again: a newer run may have published since this one's ingest
        plan = replace(plan, target=publish_target(settings, str(plan.as_of)))
        snapshot = plan.target == "snapshot"
        info = run_info(settings, plan.run_id, plan.fingerprint, plan.as_of, plan.through)
        candidate = Candidate(settings, build_db, target_path(settings, plan), plan.run_id)
        target = candidate.swap_in(
            _published_extras(settings, info, plan.through),
            info | {"through": plan.through, "as_of": plan.as_of},
            marker_file=settings.snapshot_marker(str(plan.as_of)) if snapshot else settings.published_marker,
        )
    if snapshot:
        log.info(
            "as of %s, older than the published marts: published the snapshot %s; %s is unchanged",
            plan.as_of,
            target,
            settings.warehouse,
        )
    faults.failpoint("publish.done")
    for suffix in ("", ".wal"):  # the folder keeps what the outputs still need (stage_outputs removes it)
        Path(f"{build_db}{suffix}").unlink(missing_ok=True)
    return Publication(plan, target)


def check_warnings(checks: list[CheckResult]) -> list[str]:
    return [f"{c.check_name}: {c.details}" for c in checks if c.status == CheckStatus.WARNED]


@dataclass
class RunSummary:
    plan: Plan
    published: Path | None  # $RETENTION_WAREHOUSE or a snapshot; None when nothing new
    checks: list[CheckResult]
    outputs: Locations | None = None  # where readers find the report, Parquet and docs of what is published
    outputs_error: str | None = None  # the outputs could not be written (the marts are published all the same)


def run(settings: Settings, through: dt.date | None = None, full_refresh: bool = False) -> RunSummary:
    """The whole run under the writer lock (docs/reference.md §3, `retention run`)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (
        writer_lock(settings.lock_file, f"retention run (through {through or 'all'})", settings.lock_wait_seconds),
        outcome_recorded(settings, "retention run") as outcome,
    ):
        outcome["run_id"] = run_id = new_run_id()
        with progress.stage("ingest", str(settings.landing_dir)):
            plan = stage_ingest(settings, through, run_id, full_refresh)
        if not plan.up_to_date:
            # great-expectations takes seconds to import: do it on the other core while dbt builds
            speedups.import_beside("great_expectations")
        outcome["warnings"] = plan.warnings
        with progress.stage("build", "dbt build" if not plan.up_to_date else "up to date"):
            stage_build(settings, plan)
        with progress.stage("audit"):
            checks = stage_audit(settings, plan)
        outcome["warnings"] = plan.warnings + check_warnings(checks)
        with progress.stage("publish"):
            publication = stage_publish(settings, plan)
        plan, published = publication.plan, publication.file  # the target as decided under the lock
        outcome["status"] = ("published " + plan.target) if published else "up to date"
        summary = RunSummary(plan, published, checks)
        with progress.stage("outputs"):
            summary.outputs, summary.outputs_error = stage_outputs(settings, plan, published)
        if summary.outputs_error:
            outcome["warnings"] = outcome["warnings"] + [summary.outputs_error]
    return summary


def stage_outputs(settings: Settings, plan: Plan, published: Path | None) -> tuple[Locations | None, str | None]:
    """The readers' files of what was just published (outputs.write). Their failure never un-publishes the
    marts: it is returned as one sentence (and logged) for the caller to say plainly. With nothing
    published, the outputs already there are returned as they are."""
    snapshot_as_of = str(plan.as_of) if plan.target == "snapshot" else None
    if published is None:
        published = target_path(settings, plan)
        marker = _target_marker(settings, plan.target, str(plan.as_of)) or {}
        if not published.exists() or outputs_run_id(settings, snapshot_as_of) == marker.get("run_id"):
            return locations(settings, snapshot_as_of), None
        # up to date, but the outputs are not those of the published marts (they failed, or predate them)
        run_id = str(marker.get("run_id"))
    else:
        run_id = plan.run_id
    try:
        return write_outputs(settings, run_id, published, snapshot_as_of, dbt_docs_of(settings, run_id)), None
    except Exception as e:  # noqa: BLE001 - any failure here leaves the published marts as they are
        message = (
            f"the marts were published, but the outputs for readers were not written ({type(e).__name__}: {e}); "
            f"{locations(settings, snapshot_as_of).folder} still holds an earlier run's; the next `retention run` "
            "writes them again"
        )
        log.error("%s", message)
        return None, message
    finally:
        shutil.rmtree(settings.run_build_dir(run_id), ignore_errors=True)


def dbt_docs_of(settings: Settings, run_id: str) -> Path:
    """The dbt docs site built with run `run_id`, kept in its build folder until its outputs are written."""
    return settings.run_build_dir(run_id) / "dbt_docs.html"
