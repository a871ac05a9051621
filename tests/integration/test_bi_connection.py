"""README, "Reading the marts from BI tools": a long-lived BI process with the recommended settings sees
each publish right after it, and never makes the run fail; SQLAlchemy's default pool keeps the old file.

DuckDB keeps one database instance per file path in a process, dropped only when its last connection
closes; `retention run` renames a new file over the old one, so a connection opened while any other
connection to the path is open reads the old file. The BI side runs in a separate virtual environment
(SQLAlchemy 2.0, duckdb-engine 0.17, DuckDB 2.0, pandas, polars, pyarrow from PyPI): duckdb-engine 0.17
fails on table reflection with the SQLAlchemy 2.1 of the project's venv. Skipped, with the reason, when
PyPI cannot be reached; $RETENTION_TEST_BI_PYTHON names a Python with those packages to use instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import throwaway_venv

pytestmark = pytest.mark.slow

BI_REQUIREMENTS = ["sqlalchemy>=2.0,<2.1", "duckdb-engine==0.17.*", "duckdb==2.0.0", "pandas", "polars", "pyarrow"]
READER = ROOT / "tests" / "bi" / "long_lived_reader.py"
# the sources the recommended process reads through (tests/bi/long_lived_reader.py)
RECOMMENDED = ["uri", "pandas@uri", "polars@uri", "attach", "pandas@attach", "polars@attach", "polars@parquet"]
NAIVE = ["naive_held", "naive_pooled"]
# "right after the publish": a round of reads takes ~0.2 s on an idle machine; the cores are shared
SEEN_WITHIN_SECONDS = 2.0
# a file's ctime comes from the kernel's coarse clock, up to a tick behind time.time()
CLOCK_TICK = 0.05


@pytest.fixture(scope="session")
def bi_python(tmp_path_factory) -> str:
    if given := os.environ.get("RETENTION_TEST_BI_PYTHON"):
        return given
    return throwaway_venv(tmp_path_factory.mktemp("bi_venv"), BI_REQUIREMENTS)


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _first_seen(events: list[dict]) -> dict[tuple[str, str], dict]:
    """(source, run_id) -> the `seen` event: when a source first read that publish, and its row counts."""
    return {(e["source"], e["run_id"]): e for e in events if e["event"] == "seen"}


def _wait(condition, procs: list[subprocess.Popen], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert all(p.poll() is None for p in procs), f"a BI process ended early, waiting for {what}"
        assert time.monotonic() < deadline, f"not {what} after {timeout}s"
        time.sleep(0.05)


def _published(warehouse) -> tuple[str, dict[str, list[str]], dict[str, int]]:
    """The run_id, the marts with their columns in order, and their row counts, read from the published
    file with the project's own DuckDB (not through the BI stack under test)."""
    run_id = warehouse.query("select run_id from audit.run_info")[0][0]
    marts: dict[str, list[str]] = {}
    for table, column in warehouse.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' order by table_name, column_index"
    ):
        marts.setdefault(table, []).append(column)
    counts = {t: warehouse.query(f'select count(*) from marts."{t}"')[0][0] for t in marts}
    return run_id, marts, counts


def test_a_long_lived_bi_process_sees_each_publish_with_the_readme_settings(warehouse, small_landing, bi_python, tmp_path):
    warehouse.env["RETENTION_LANDING_DIR"] = str(small_landing)
    warehouse.run("run", "--through", "2023-04-15")
    first, _, _ = _published(warehouse)

    stop, files = tmp_path / "stop", {m: (tmp_path / f"{m}.jsonl", tmp_path / f"{m}.ready") for m in ("recommended", "naive")}
    outputs = warehouse.path.parent / "outputs"
    procs = {
        mode: subprocess.Popen(
            [bi_python, str(READER), mode, str(warehouse.path), str(outputs), str(events), str(ready), str(stop)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode, (events, ready) in files.items()
    }
    try:
        _wait(lambda: all(r.exists() for _, r in files.values()), list(procs.values()), "ready", timeout=120)
        done = warehouse.run("run")  # raises unless it exits 0, with both BI processes reading
        exited = time.time()
        second, marts, counts = _published(warehouse)

        def every_source_saw_it() -> bool:
            return all((s, second) in _first_seen(_events(files["recommended"][0])) for s in RECOMMENDED)

        _wait(every_source_saw_it, list(procs.values()), f"seen {second} by {RECOMMENDED}", timeout=30)
    finally:
        stop.touch()  # each reads once more after this
        stderr = {mode: p.communicate(timeout=120)[1] for mode, p in procs.items()}
    assert "published" in done.stdout and second != first
    assert {mode: p.returncode for mode, p in procs.items()} == {"recommended": 0, "naive": 0}, stderr

    recommended, naive = _events(files["recommended"][0]), _events(files["naive"][0])
    assert [e for e in recommended + naive if e["event"] == "error"] == []
    reflected = {e["source"]: e["marts"] for e in recommended if e["event"] == "reflected"}
    assert reflected == {"uri": marts, "attach": marts}  # every mart, every column, in order

    seen = _first_seen(recommended)
    assert {s for s, r in seen if r == first} == set(RECOMMENDED)  # each read the first publish before the run
    # when the new file (the new Parquet set) was renamed into place: every read that started later saw it
    renamed = dict.fromkeys(RECOMMENDED, warehouse.path.stat().st_ctime)
    renamed["polars@parquet"] = os.lstat(outputs / "current").st_ctime
    last_old = {s: next(e["reads"] for e in recommended if e["event"] == "reads")[s][first]["last_start"] for s in RECOMMENDED}
    stale = {s: round(last_old[s] - renamed[s], 3) for s in RECOMMENDED if last_old[s] > renamed[s] + CLOCK_TICK}
    assert stale == {}, f"seconds after the publish that a read started and still returned the old run_id: {stale}"
    lags = {s: round(seen[s, second]["t"] - exited, 3) for s in RECOMMENDED}
    assert max(lags.values()) <= SEEN_WITHIN_SECONDS, f"seconds from the run's exit to a source's first read of it: {lags}"
    for s in RECOMMENDED:  # what each read in the new file is the published marts
        got = seen[s, second]["counts"]
        assert got == {t: counts[t] for t in got} and got, s
    assert set(seen["polars@parquet", second]["counts"]) == set(marts)  # a Parquet copy of every mart

    # the contrast: the default pool keeps the connection, so the old file, for the life of the process
    assert {(s, r) for s, r in _first_seen(naive)} == {(s, first) for s in NAIVE}
    naive_reads = next(e["reads"] for e in naive if e["event"] == "reads")
    assert all(naive_reads[s][first]["last_start"] > exited for s in NAIVE)  # still reading it after the run
    done_events = {mode: [e for e in events if e["event"] == "done"] for mode, events in (("rec", recommended), ("naive", naive))}
    print(
        f"first {first}, second {second}; renamed {exited - renamed['uri']:.3f}s before the run's exit; "
        f"seconds from exit to first read of it: {lags}; last read of the old file started {last_old} "
        f"(vs rename {renamed}); rounds: {done_events}"
    )
