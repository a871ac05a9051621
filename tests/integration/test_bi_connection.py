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

from tests.support.environments import throwaway_venv
from tests.support.warehouse import ROOT

pytestmark = pytest.mark.slow

BI_REQUIREMENTS = ["sqlalchemy>=2.0,<2.1", "duckdb-engine==0.17.*", "duckdb==2.0.0", "pandas", "polars", "pyarrow"]
READER = ROOT / "tests" / "bi" / "long_lived_reader.py"
# the sources the recommended process reads through (tests/bi/long_lived_reader.py)
RECOMMENDED = ["uri", "pandas@uri", "polars@uri", "attach", "pandas@attach", "polars@attach", "polars@parquet"]
# the process that holds a connection open: what stays on the first publish, and what does not
HOLDING_STALE = ["held", "pooled", "uri_beside_held"]
HOLDING_FRESH = "attach_beside_held"
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

    stop, files = tmp_path / "stop", {m: (tmp_path / f"{m}.jsonl", tmp_path / f"{m}.ready") for m in ("recommended", "holding")}
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
            fresh = _first_seen(_events(files["recommended"][0])) | _first_seen(_events(files["holding"][0]))
            return all((s, second) in fresh for s in [*RECOMMENDED, HOLDING_FRESH])

        _wait(every_source_saw_it, list(procs.values()), f"seen {second} by every fresh source", timeout=30)
    finally:
        stop.touch()  # each reads once more after this
        stderr = {mode: p.communicate(timeout=120)[1] for mode, p in procs.items()}
    assert "published" in done.stdout and second != first
    assert {mode: p.returncode for mode, p in procs.items()} == {"recommended": 0, "holding": 0}, stderr

    recommended, holding = _events(files["recommended"][0]), _events(files["holding"][0])
    assert [e for e in recommended + holding if e["event"] == "error"] == []
    reflected = {e["source"]: e["marts"] for e in recommended if e["event"] == "reflected"}
    assert reflected == {"uri": marts, "attach": marts}  # every mart, every column, in order

    rename = warehouse.path.stat().st_ctime  # when the new file was renamed into place
    renamed = {"polars@parquet": os.lstat(outputs / "current").st_ctime}  # ... and the new Parquet set
    lags = _assert_fresh(recommended, RECOMMENDED, first, second, renamed, rename, exited)
    seen = _first_seen(recommended)
    for s in RECOMMENDED:  # what each read in the new file is the published marts
        got = seen[s, second]["counts"]
        assert got == {t: counts[t] for t in got} and got, s
    assert set(seen["polars@parquet", second]["counts"]) == set(marts)  # a Parquet copy of every mart

    # the contrast, in the process holding a connection: the default pool keeps it, so the old file, for the
    # life of the process, and NullPool beside it shares that file; ATTACH per connection does not
    assert {(s, r) for s, r in _first_seen(holding)} == {(s, first) for s in HOLDING_STALE} | {
        (HOLDING_FRESH, first),
        (HOLDING_FRESH, second),
    }
    stale_reads = next(e["reads"] for e in holding if e["event"] == "reads")
    assert all(stale_reads[s][first]["last_start"] > exited for s in HOLDING_STALE)  # still reading it after the run
    lags |= _assert_fresh(holding, [HOLDING_FRESH], first, second, {}, rename, exited)
    rounds = [next(e for e in events if e["event"] == "done") for events in (recommended, holding)]
    print(f"renamed {exited - rename:.3f}s before the run's exit; seconds from the exit to a first read of it: {lags}; {rounds}")


def _assert_fresh(events, sources, first, second, renamed, rename, exited) -> dict[str, float]:
    """Each source read the first publish before the run, no read of it that started after the rename (its own
    in `renamed`, else `rename`) returned the old run_id, and each read the new one within SEEN_WITHIN_SECONDS
    of the run's exit. Returns those seconds by source."""
    seen = _first_seen(events)
    assert {s for s, r in seen if r == first} >= set(sources)
    reads = next(e["reads"] for e in events if e["event"] == "reads")
    late = {s: reads[s][first]["last_start"] - renamed.get(s, rename) for s in sources}
    stale = {s: round(d, 3) for s, d in late.items() if d > CLOCK_TICK}
    assert stale == {}, f"seconds after the rename that a read started and still returned the old run_id: {stale}"
    lags = {s: round(seen[s, second]["t"] - exited, 3) for s in sources}
    assert max(lags.values()) <= SEEN_WITHIN_SECONDS, f"seconds from the run's exit to a source's first read of it: {lags}"
    return lags
