"""The build database of one run: raw views over the lake, then `dbt build` into it.

Readers never open this file; it becomes visible only through `publish`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .. import progress
from ..config import Settings
from ..database import connect, session_settings
from ..errors import BuildFailed
from ..ingest import lake
from ..lock import held_descriptors
from . import dbt_steps

RAW_TABLES = ("customers", "orders", "quarantine", "manifest")
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


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


def _failures(results_dir: Path) -> list[str]:
    """The failed nodes of the last dbt step that ran, each with dbt's headline and the database's reason
    (a failed model's message is "Runtime Error in model …" and then DuckDB's error on the next line)."""
    steps = sorted(results_dir.glob("*.json"))
    try:
        results = json.loads(steps[-1].read_text())["results"] if steps else []
    except (OSError, ValueError, KeyError):
        return []
    out = []
    for r in results:
        if r.get("status") in ("error", "fail", "runtime error"):
            text = ANSI_COLOUR.sub("", r.get("message") or "")  # a failed unit test's diff comes coloured
            message = [line.strip() for line in text.splitlines() if line.strip()][:2]
            out.append(f"{r['unique_id']}: {r['status']}" + (f" ({' / '.join(message)[:500]})" if message else ""))
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


# The models built on the lifetime-value fit (dbt source `clv`, written by lifetime_value.py) and
# everything downstream of them: dbt builds the rest first, then the fit runs, then these.
AFTER_FIT = "source:clv+"
THREADS = "2"  # independent models and tests overlap: dbt's own per-node work then hides behind DuckDB's


def _unit_tests_digest(settings: Settings) -> str:
    """What dbt's unit tests are a function of: the project's code, the calendar zone, dbt's version."""
    from importlib.metadata import version

    from ..fingerprint import tree_digest

    parts = [tree_digest(settings.dbt_project_dir), settings.timezone, version("dbt-core"), version("dbt-duckdb")]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def docs_target(settings: Settings) -> Path:
    """Where the build's dbt docs site goes (`static_index.html`, the readers' docs/index.html)."""
    return settings.dbt_dir / "docs"


def _unit_tests_passed(settings: Settings) -> Path:
    return settings.dbt_dir / "unit_tests_passed"


def run_steps(settings: Settings, database: Path, through: dt.date | None) -> None:
    """dbt build of everything but the lifetime-value marts, the fit, then dbt build of those, in one
    child process (dbt_steps.py); raises BuildFailed naming the models and tests that failed.

    dbt's unit tests prove the formulas, which change only with the code: they run when the project,
    the calendar zone or dbt changed since they last passed (so on every fresh state folder), not every night."""
    settings.dbt_dir.mkdir(parents=True, exist_ok=True)
    kept = _build_results(settings)
    shutil.rmtree(kept, ignore_errors=True)
    shutil.rmtree(docs_target(settings), ignore_errors=True)  # never an earlier build's docs beside this one
    digest = _unit_tests_digest(settings)
    passed = _unit_tests_passed(settings)
    proven = passed.is_file() and passed.read_text().strip() == digest
    skip_units = ["--exclude-resource-type", "unit_test"] if proven else []
    target = settings.dbt_dir / "target"
    steps: list = [["--exclude", AFTER_FIT, *skip_units], "fit", ["--select", AFTER_FIT, *skip_units]]
    request = {
        "database": str(database),
        "common_args": [
            "--threads", THREADS,
            "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_project_dir),
            "--target-path", str(target),
            "--log-path", str(settings.dbt_dir / "logs"),
            # dbt.log at info: each node's start, end and outcome. At debug it also logged every statement
            # and cost about 1 s a build; `last_output.log` keeps what dbt printed either way.
            "--log-level-file", "info",
            # no manifest.json after each invocation (1.2 MB of JSON, 0.3 s each): the child keeps each
            # step's run_results itself; partial parsing keeps its own file
            "--no-write-json",
        ],
        "steps": steps,
        "results_dir": str(kept),
        "docs_target": str(docs_target(settings)),
        "duckdb_settings": session_settings(settings),
        "clv_horizon_days": settings.clv_horizon_days,
    }  # fmt: skip
    request_file = settings.dbt_dir / "steps_request.json"
    request_file.write_text(json.dumps(request, indent=2))
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
    cli = [sys.executable, "-m", "retention.warehouse.dbt_steps", str(request_file)]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, pass_fds=held_descriptors())
    output = settings.dbt_dir / "last_output.log"
    output.write_text(done.stdout + done.stderr)
    if done.returncode == 0:
        if not proven:
            passed.write_text(digest + "\n")
        _tell_steps(kept, len(steps))
        return
    said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    if done.returncode in (dbt_steps.EXIT_FIT_FAILED, dbt_steps.EXIT_DBT_ERROR):
        raise BuildFailed(f"{said} (full output: {output})")
    failures = _failures(kept) if done.returncode == dbt_steps.EXIT_STEP_FAILED else []
    if not failures:
        tail = [line for line in (done.stdout + done.stderr).strip().splitlines() if line.strip()][-3:]
        failures = [" / ".join(tail) or f"exit code {done.returncode}"]
    raise BuildFailed("dbt build failed: " + "; ".join(failures) + f" (full output: {output})")


def _tell_steps(results_dir: Path, steps: int) -> None:
    """One progress step per dbt step and the fit, told once the child returned: the steps run in the child
    (dbt_steps.py), whose output is captured, so this is the first moment the parent knows how they went."""
    for number in range(steps):
        step = results_dir / f"{number:02d}.json"
        if not step.is_file():
            progress.step("lifetime-value fit done", number + 1, steps)
            continue
        try:
            results = json.loads(step.read_text())["results"]
        except (OSError, ValueError, KeyError):
            results = []
        statuses = [str(r.get("status")) for r in results]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
        progress.step(f"dbt step {number + 1}: {len(results)} nodes ({counts or 'none'})", number + 1, steps)


def build(settings: Settings, through: dt.date | None) -> Path:
    database = build_database(settings)
    database.unlink(missing_ok=True)
    create_raw_views(settings, database)
    run_steps(settings, database, through)
    return database
