"""The build database of one run: raw views over the lake, then `dbt build` into it.

Readers never open this file; it becomes visible only through `publish`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..config import Settings
from ..database import connect
from ..errors import BuildFailed
from ..ingest import lake
from ..lock import held_descriptors
from . import lifetime_value

RAW_TABLES = ("customers", "orders", "quarantine", "manifest")


def build_database(settings: Settings) -> Path:
    # One fixed path: dbt re-parses the whole project whenever its profile (this path) changes.
    return settings.build_dir / "build.duckdb"


def create_raw_views(settings: Settings, database: Path) -> None:
    if not lake.has_batches(settings.lake_dir):
        raise BuildFailed(f"the lake holds no batches yet: nothing was loaded from {settings.landing_dir}")
    database.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings, str(database))
    try:
        con.execute("create schema if not exists raw")
        for table in RAW_TABLES:
            con.execute(f"create or replace view raw.{table} as {lake.table_sql(settings.lake_dir, table)}")
    finally:
        con.close()


def _dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def _failures(target: Path) -> list[str]:
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []
    out = []
    for r in results:
        if r.get("status") in ("error", "fail", "runtime error"):
            message = (r.get("message") or "").strip().splitlines()
            out.append(f"{r['unique_id']}: {r['status']}" + (f" ({message[0][:300]})" if message else ""))
    return out


def _build_results(settings: Settings) -> Path:
    """dbt's run_results.json of each dbt step of the current build, in order (the build runs dbt twice)."""
    return settings.dbt_dir / "build_results"


def node_results(settings: Settings) -> list[str]:
    """One line per model, test and unit test of every dbt step of the last build: status, time, rows
    (for the task log)."""
    lines = []
    for step in sorted(_build_results(settings).glob("*.json")):
        try:
            results = json.loads(step.read_text())["results"]
        except (OSError, ValueError, KeyError):
            continue
        for r in results:
            rows = (r.get("adapter_response") or {}).get("rows_affected")
            lines.append(
                f"{r['unique_id']}: {r.get('status')} in {float(r.get('execution_time') or 0):.2f}s"
                + (f", {rows} rows" if rows not in (None, -1) else "")
            )
    return lines


def run_dbt(settings: Settings, database: Path, args: list[str], through: dt.date | None) -> None:
    """`dbt <args>` against `database` in a child process (dbt keeps its DuckDB connection open for
    as long as its process lives); raises BuildFailed naming the models and tests that failed."""
    settings.dbt_dir.mkdir(parents=True, exist_ok=True)
    target = settings.dbt_dir / "target"
    (target / "run_results.json").unlink(missing_ok=True)
    env = dict(
        os.environ,
        RETENTION_BUILD_DATABASE=str(database),
        RETENTION_MEMORY_LIMIT=settings.memory_limit,
        RETENTION_DUCKDB_TEMP_DIR=str(settings.temp_dir),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        # read by the models through env_var(): unlike --vars, a change does not force a full re-parse
        RETENTION_TIMEZONE=settings.timezone,
        RETENTION_CLV_HORIZON_DAYS=str(settings.clv_horizon_days),
        RETENTION_THROUGH_DATE=(through or dt.date(9999, 12, 31)).isoformat(),
    )
    cli = [
        _dbt_executable(),
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(settings.dbt_dir / "logs"),
    ]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, pass_fds=held_descriptors())
    (settings.dbt_dir / "last_output.log").write_text(done.stdout + done.stderr)
    kept = _build_results(settings)
    if (target / "run_results.json").is_file():  # kept per step: the next dbt step overwrites it
        kept.mkdir(exist_ok=True)
        shutil.copyfile(target / "run_results.json", kept / f"{len(list(kept.glob('*.json'))):02d}.json")
    if done.returncode == 0:
        return
    failures = _failures(target)
    if not failures:
        tail = [line for line in (done.stdout + done.stderr).strip().splitlines() if line.strip()][-3:]
        failures = [" / ".join(tail) or f"exit code {done.returncode}"]
    raise BuildFailed(f"dbt {args[0]} failed: " + "; ".join(failures) + f" (full output: {settings.dbt_dir / 'last_output.log'})")


# The models built on the lifetime-value fit (dbt source `clv`, written by lifetime_value.py) and
# everything downstream of them: dbt builds the rest first, then the fit runs, then these.
AFTER_FIT = "source:clv+"


def fit_lifetime_value(settings: Settings, database: Path) -> None:
    con = connect(settings, str(database))
    try:
        lifetime_value.fit_lifetime_value(con, settings.clv_horizon_days)
    finally:
        con.close()


def build(settings: Settings, through: dt.date | None) -> Path:
    database = build_database(settings)
    database.unlink(missing_ok=True)
    shutil.rmtree(_build_results(settings), ignore_errors=True)
    create_raw_views(settings, database)
    run_dbt(settings, database, ["build", "--threads", "1", "--exclude", AFTER_FIT], through)
    fit_lifetime_value(settings, database)
    run_dbt(settings, database, ["build", "--threads", "1", "--select", AFTER_FIT], through)
    return database
