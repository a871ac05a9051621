"""The nightly run: ingest → build → audit → publish. The CLI and the Airflow DAG call these.

Each stage takes and returns a small JSON-able plan, so the DAG can pass it between tasks; the CLI
runs all four under one writer lock. Nothing readers see changes before `publish`, and `publish`
happens only after ingest, dbt and the audit all passed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import json
import logging
import os
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, faults
from .config import Settings
from .errors import RunFailed
from .ingest import lake
from .ingest.load import IngestReport, connect, ingest
from .lock import writer_lock
from .quality.audit import CheckResult, audit
from .quality.checks import checks_for
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


SOURCE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md"}


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    sources = (
        p
        for p in folder.rglob("*")
        if p.suffix in SOURCE_SUFFIXES
        and p.is_file()
        and not {"target", "logs", "__pycache__"} & set(p.relative_to(folder).parts)
    )
    for path in sorted(sources):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lake_state(settings: Settings, through: dt.date | None) -> str:
    """Which loads of which batches the lake holds for this through date (a reload changes it)."""
    con = connect(settings)
    try:
        rows = [
            (str(r["batch_date"]), r["table_name"], r["sha256"], r["load_id"])
            for r in lake.manifest(con, settings.lake_dir)
            if through is None or r["batch_date"] <= through
        ]
    finally:
        con.close()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:20]


EMPTY_LAKE_STATE = hashlib.sha256(b"[]").hexdigest()[:20]


def fingerprint(settings: Settings, through: dt.date | None, state: str) -> str:
    """What the marts are a function of: the loaded batches (`state`, see lake_state), the settings
    and the code."""
    parts = [
        state,
        str(through),
        settings.timezone,
        __version__,
        _tree_digest(settings.dbt_project_dir),
        _tree_digest(Path(__file__).parent),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def _clean_build_dir(settings: Settings) -> None:
    if settings.build_dir.is_dir():
        shutil.rmtree(settings.build_dir)  # a failed run's build is kept for inspection until the next run
    for debris in settings.warehouse.parent.glob(f".{settings.warehouse.name}.*.tmp"):
        debris.unlink(missing_ok=True)


def stage_ingest(settings: Settings, through: dt.date | None, run_id: str | None = None) -> Plan:
    run_id = run_id or new_run_id()
    _clean_build_dir(settings)
    report: IngestReport = ingest(settings, through)
    faults.failpoint("ingest.done")
    for name in report.removed_loads:
        log.info("removed an unfinished or replaced load: %s", name)
    _write_json(
        settings.state_dir / "rejections.json",
        {
            "run_id": run_id,
            "checked_at": _now(),
            "rejected": [{"batch": e.batch, "file": e.file, "problem": e.problem} for e in report.rejected],
        },
    )
    if report.rejected:
        raise RunFailed(
            "ingest rejected "
            + "; ".join(str(e) for e in report.rejected)
            + ". Nothing of those batches was loaded; the published marts are unchanged."
        )
    if not lake.has_batches(settings.lake_dir):
        raise RunFailed(f"no batches to load in {settings.landing_dir}" + (f" dated on or before {through}" if through else ""))
    state = lake_state(settings, through)
    if state == EMPTY_LAKE_STATE:
        raise RunFailed(f"no batch is dated on or before {through}: there is nothing to build the marts from")
    fp = fingerprint(settings, through, state)
    marker = read_marker(settings)
    up_to_date = bool(marker and marker.get("fingerprint") == fp and settings.warehouse.exists())
    rows = {}
    for m in report.loaded:
        for key in ("rows_read", "rows_loaded", "rows_quarantined"):
            rows[key] = rows.get(key, 0) + int(m[key])
    return Plan(
        run_id,
        through.isoformat() if through else None,
        fp,
        up_to_date,
        sorted({m["batch_date"].isoformat() for m in report.loaded}),
        len(report.unchanged),
        rows,
        state,
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


@contextlib.contextmanager
def outcome_recorded(settings: Settings, what: str):
    """Record how a run (or a DAG task) ended in state/last_run.json for `retention status`, and say
    "out of disk space" plainly when that is what went wrong."""
    outcome = {"what": what, "started_at": _now(), "status": "failed"}
    try:
        yield outcome
    except Exception as e:
        outcome["error"] = str(e)[:2000]
        if disk_full(e):
            outcome["error"] = disk_full_message(settings, e)
            raise RunFailed(outcome["error"]) from e
        raise
    finally:
        outcome["finished_at"] = _now()
        try:
            _write_json(settings.state_dir / "last_run.json", outcome)
        except OSError:
            log.warning("could not record the run's outcome in %s", settings.state_dir)


def disk_full(error: BaseException) -> bool:
    """Did `error` (or what caused it) come from a full disk or an exceeded file-size limit?"""
    import errno

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        text = str(error).lower()
        if "no space left on device" in text or "disk quota exceeded" in text or "file too large" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_message(settings: Settings, error: BaseException) -> str:
    free = []
    for label, folder in (("warehouse folder", settings.warehouse.parent), ("state folder", settings.state_dir)):
        try:
            free.append(f"{label} {folder}: {shutil.disk_usage(folder).free / 2**20:.1f} MiB free")
        except OSError:
            pass
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()] or [type(error).__name__]
    cause = next((line for line in lines if "space" in line.lower() or "too large" in line.lower()), lines[0])
    first = lines[0][:200] + (f" — {cause[:400]}" if cause != lines[0] else "")
    return f"out of disk space: {first} ({'; '.join(free)}). Free some space and run again; the published marts are unchanged"


def locked(settings: Settings, what: str):
    """The writer lock, for one DAG task at a time."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return writer_lock(settings.lock_file, what, settings.lock_wait_seconds)
