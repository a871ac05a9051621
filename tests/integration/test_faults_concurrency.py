"""One writer at a time; readers never see a half-done publish and never block the run.

Also checks the published file's storage format: readers bundle their own DuckDB, so DuckDB 1.0 and
1.1 are installed from PyPI into throwaway virtual environments and made to open it (skipped, with
the reason in the summary, when PyPI cannot be reached; $RETENTION_TEST_DUCKDB1_PYTHON names a
Python with DuckDB 1.x to use instead).
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retention.demo import write_demo_landing
from retention.warehouse.publish import storage_version
from tests.support.compare import MARTS_QUERIES, marts_digest
from tests.support.warehouse import RETENTION, ROOT

pytestmark = pytest.mark.slow

# A reader that opens a new connection for every read; `ready` appears after its first read, and it
# reads once more after `stop` appears (so it has seen the state the run left).
READER = r"""
import duckdb, hashlib, json, os, sys
path, out, stop, ready, queries = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
seen, errors, n = {}, [], 0
while True:
    last = os.path.exists(stop)
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            rows = [con.execute(q).fetchall() for q in queries]
        finally:
            con.close()
        d = hashlib.sha256(repr(rows).encode()).hexdigest()
        seen[d] = seen.get(d, 0) + 1
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    n += 1
    open(ready, "a").close()
    if last:
        break
json.dump({"seen": seen, "errors": errors[:20], "n": n}, open(out, "w"))
"""

# A dashboard: one connection held open for the whole run.
BI_TOOL = r"""
import duckdb, json, os, sys, time
path, out, stop, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
con = duckdb.connect(path, read_only=True)
counts = set()
while True:
    last = os.path.exists(stop)
    counts.add(con.execute("select count(*), sum(customers_end) from marts.period_retention").fetchall()[0])
    open(ready, "a").close()
    if last:
        break
    time.sleep(0.05)
con.close()
json.dump({"counts": sorted(counts)}, open(out, "w"))
"""


def _wait_for(*paths: Path, procs: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert all(p.poll() is None for p in procs), "a reader ended before it was ready"
        assert time.monotonic() < deadline, f"not ready after {timeout}s: {[str(p) for p in paths if not p.exists()]}"
        time.sleep(0.02)


def test_readers_see_the_old_or_the_new_marts_never_a_mix_and_never_block_the_run(published_demo, tmp_path):
    warehouse = published_demo(customers=200, months=6, through="2023-04-15")
    old = marts_digest(warehouse.path)
    bi_counts_before = warehouse.query("select count(*), sum(customers_end) from marts.period_retention")[0]

    stop, ready = tmp_path / "stop", [tmp_path / "reader.ready", tmp_path / "bi.ready"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse.path), str(tmp_path / "reader.json"), str(stop), str(ready[0])]
        + [json.dumps(MARTS_QUERIES)]
    )
    bi = subprocess.Popen(
        [sys.executable, "-c", BI_TOOL, str(warehouse.path), str(tmp_path / "bi.json"), str(stop), str(ready[1])]
    )
    try:
        _wait_for(*ready, procs=[reader, bi])  # both have read the old marts before the run starts
        done = warehouse.run("run")  # raises unless it exits 0, with the BI tool holding the file open
    finally:
        stop.touch()  # each reads once more after this, so each has seen what the run left
        reader.wait(timeout=60)
        bi.wait(timeout=60)
    new = marts_digest(warehouse.path)
    assert new != old
    seen = json.loads((tmp_path / "reader.json").read_text())
    assert seen["errors"] == []
    assert set(seen["seen"]) == {old, new}, f"reader saw {len(seen['seen'])} states in {seen['n']} reads"
    bi_seen = json.loads((tmp_path / "bi.json").read_text())
    assert [tuple(c) for c in bi_seen["counts"]] == [bi_counts_before]  # its open connection kept the old view
    assert "published" in done.stdout
    print(f"reader: {seen['n']} reads, {seen['seen'][old]} old, {seen['seen'][new]} new, 0 errors")

    # the published file is in DuckDB's v1.0.0 storage format (storage number 64)
    header = warehouse.path.read_bytes()[:64]
    assert header[8:12] == b"DUCK" and struct.unpack_from("<Q", header, 12)[0] == 64
    assert storage_version(warehouse.path).startswith("v1.0.0")


@pytest.fixture(scope="session")
def duckdb1_python(tmp_path_factory, request):
    """A Python with DuckDB `version` (1.x) installed from PyPI into a throwaway virtual environment,
    or $RETENTION_TEST_DUCKDB1_PYTHON. Skipped, with the reason, when it cannot be installed."""
    found: dict[str, str] = {}

    def python_for(version: str) -> str:
        if given := os.environ.get("RETENTION_TEST_DUCKDB1_PYTHON"):
            return given
        if version not in found:
            venv = tmp_path_factory.mktemp(f"duckdb{version}")
            uv = Path(sys.executable).parent / "uv"
            steps = [
                [str(uv), "venv", "-q", "--python", sys.executable, str(venv)],
                [str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"duckdb=={version}"],
            ]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    why = done.stderr.strip()[-300:]
                    pytest.skip(f"could not install duckdb=={version} from PyPI ({' '.join(step[:3])}): {why}")
            found[version] = str(venv / "bin" / "python")
        return found[version]

    return python_for


@pytest.mark.parametrize("version", ["1.0.0", "1.1.3"])
def test_duckdb_1x_readers_open_the_published_file(demo_published, duckdb1_python, version):
    """README: DuckDB 1.0 and 1.1 (bundled by BI tools) open the published file."""
    python = duckdb1_python(version)
    probe = subprocess.run(
        [
            python,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
            "print(duckdb.__version__, c.execute('select count(*), sum(customers_end) from marts.period_retention')"
            ".fetchall()[0], c.execute('select count(*) from marts.cohort_retention').fetchall()[0][0])",
            str(demo_published.path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    got_version, rest = probe.stdout.split(" ", 1)
    if not os.environ.get("RETENTION_TEST_DUCKDB1_PYTHON"):
        assert got_version == version
    assert got_version.startswith("1.")
    periods = demo_published.query("select count(*), sum(customers_end) from marts.period_retention")[0]
    cohorts = demo_published.query("select count(*) from marts.cohort_retention")[0][0]
    assert rest.strip() == f"{periods} {cohorts}"


def test_two_runs_started_together_one_proceeds_the_other_refuses(warehouse):
    write_demo_landing(warehouse.landing, customers=100, months=4)
    procs = [
        subprocess.Popen(
            [str(RETENTION), "run"], env=warehouse.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    started = time.monotonic()
    ended = {}
    while len(ended) < 2:
        for i, p in enumerate(procs):
            if i not in ended and p.poll() is not None:
                ended[i] = time.monotonic() - started
        time.sleep(0.05)
    outs = [p.communicate() for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 75], (codes, outs)
    loser, winner = codes.index(75), codes.index(0)
    assert "another run is writing this warehouse" in outs[loser][1]
    assert f"pid {procs[winner].pid}" in outs[loser][1]
    assert ended[loser] < ended[winner]  # it did not wait for the winner
    assert "published" in outs[winner][0]


def test_a_busy_writer_lock_is_waited_for_up_to_the_setting(warehouse):
    write_demo_landing(warehouse.landing, customers=100, months=4)
    lock = warehouse.state / "writer.lock"
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": "a test holding the lock", "since": "now"}).encode(), 0)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [str(RETENTION), "run"],
            env=dict(warehouse.env, RETENTION_LOCK_WAIT_SECONDS="2"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        waited = time.monotonic() - started
        assert done.returncode == 75 and "a test holding the lock" in done.stderr
        assert waited >= 2
        assert not warehouse.path.exists()
        proc = subprocess.Popen(
            [str(RETENTION), "run"],
            env=dict(warehouse.env, RETENTION_LOCK_WAIT_SECONDS="120"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert proc.poll() is None and not (warehouse.state / "lake").exists()  # waiting, writing nothing
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "published" in out
