"""One writer at a time; readers never see a half-done publish and never block the run.

Also checks the published file's storage format: readers bundle their own DuckDB.
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
from tests.conftest import RETENTION, ROOT

pytestmark = pytest.mark.slow

READER = r"""
import duckdb, hashlib, json, sys, time
path, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
import os
seen = {}
errors = []
n = 0
while not os.path.exists(stop):
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            rows = [con.execute("select * from marts.period_retention order by period_grain, period_start").fetchall(),
                    con.execute("select * from marts.cohort_retention order by cohort_start, period_number").fetchall()]
        finally:
            con.close()
        d = hashlib.sha256(repr(rows).encode()).hexdigest()
        seen[d] = seen.get(d, 0) + 1
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    n += 1
json.dump({"seen": seen, "errors": errors[:20], "n": n}, open(out, "w"))
"""

BI_TOOL = r"""
import duckdb, hashlib, json, os, sys, time
path, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect(path, read_only=True)   # held open for the whole run, as a dashboard would
counts = set()
while not os.path.exists(stop):
    counts.add(con.execute("select count(*), sum(customers_end) from marts.period_retention").fetchall()[0])
    time.sleep(0.05)
con.close()
json.dump({"counts": sorted(counts)}, open(out, "w"))
"""

DIGEST = (
    READER.split("while")[0]
    + r"""
con = duckdb.connect(path, read_only=True)
rows = [con.execute("select * from marts.period_retention order by period_grain, period_start").fetchall(),
        con.execute("select * from marts.cohort_retention order by cohort_start, period_number").fetchall()]
print(hashlib.sha256(repr(rows).encode()).hexdigest())
"""
)


def _digest(path: Path) -> str:
    done = subprocess.run([sys.executable, "-c", DIGEST, str(path), "-", "-"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_readers_see_the_old_or_the_new_marts_never_a_mix_and_never_block_the_run(warehouse, tmp_path):
    write_demo_landing(warehouse.landing, customers=200, months=6)
    warehouse.run("run", "--through", "2023-04-15")
    old = _digest(warehouse.path)
    bi_counts_before = warehouse.query("select count(*), sum(customers_end) from marts.period_retention")[0]

    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse.path), str(tmp_path / "reader.json"), str(stop)])
    bi = subprocess.Popen([sys.executable, "-c", BI_TOOL, str(warehouse.path), str(tmp_path / "bi.json"), str(stop)])
    try:
        time.sleep(1.0)
        done = warehouse.run("run")  # raises unless it exits 0, with the BI tool holding the file open
        time.sleep(1.0)
    finally:
        stop.touch()
        reader.wait(timeout=60)
        bi.wait(timeout=60)
    new = _digest(warehouse.path)
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
    old_duckdb = os.environ.get("RETENTION_TEST_DUCKDB1_PYTHON", "/tmp/duck11/bin/python")
    if Path(old_duckdb).exists():  # a Python with duckdb 1.x installed (see the module docstring)
        probe = subprocess.run(
            [
                old_duckdb,
                "-c",
                "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
                "print(duckdb.__version__, c.execute('select count(*) from marts.cohort_retention')"
                ".fetchall()[0][0])",
                str(warehouse.path),
            ],
            capture_output=True,
            text=True,
        )
        assert probe.returncode == 0, probe.stderr
        version, rows = probe.stdout.split()
        assert version.startswith("1.") and int(rows) == warehouse.query("select count(*) from marts.cohort_retention")[0][0]


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
