"""SIGKILL at every stage of a run: the published file stays whole, the next run recovers.

Deterministic kills come from failpoints (retention.faults; RETENTION_FAILPOINT=<point>), plus one
kill from outside at a random moment while dbt builds. After each kill the published file must
open and hold exactly a state some complete run produced; after the recovery run the marts must
equal the plain-Python reference and the lake must hold every input row exactly once.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from retention.demo import write_demo_landing
from tests.support.compare import assert_marts_equal_reference, file_digest, inode, marts_digest
from tests.support.warehouse import RETENTION, ROOT

pytestmark = pytest.mark.slow


def killed_run(warehouse, point: str, hit: int = 1) -> subprocess.CompletedProcess:
    env = dict(warehouse.env, RETENTION_FAILPOINT=point, RETENTION_FAILPOINT_HIT=str(hit))
    done = subprocess.run([str(RETENTION), "run"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == -signal.SIGKILL, f"{point}: exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert f"failpoint {point}" in done.stderr
    return done


def killed_during_dbt(warehouse, rng: random.Random) -> float:
    """Start a run, wait until dbt has created the build database, kill the run's whole process
    group (the CLI and dbt, as a supervisor would) at a random moment; returns when it was."""
    build_db = warehouse.state / "build" / "build.duckdb"
    proc = subprocess.Popen(
        [str(RETENTION), "run"],
        env=warehouse.env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not build_db.exists():
        assert proc.poll() is None, "the run ended before dbt started"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    delay = rng.uniform(0.0, 2.5)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    return delay


def input_rows(landing: Path) -> dict[tuple[str, str], int]:
    out = {}
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        for table in ("customers", "orders"):
            path = folder / f"{table}.csv"
            if path.exists():
                with open(path, newline="", encoding="utf-8") as f:
                    out[(folder.name, table)] = sum(1 for _ in csv.reader(f)) - 1
    return out


def assert_recovered(warehouse) -> None:
    """Marts = the reference; the lake holds each input row once; no debris left to confuse readers."""
    assert_marts_equal_reference(warehouse)
    lake = dict(
        ((str(d), t), n)
        for d, t, n in warehouse.lake("""
        select batch_date, table_name, sum(n) from (
            select batch_date, 'customers' as table_name, count(*) as n from {customers} group by all
            union all select batch_date, 'orders', count(*) from {orders} group by all
            union all select batch_date, table_name, count(*) from {quarantine} group by all) group by all""")
    )
    assert lake == input_rows(warehouse.landing)
    manifest = warehouse.lake("select batch_date, file_name, count(*) from {manifest} group by all having count(*) > 1")
    assert manifest == []
    links = {p.name for p in (warehouse.state / "lake" / "batches").iterdir()}
    loads = {p.name.split("__")[0] for p in (warehouse.state / "lake" / "loads").iterdir()}
    assert links == loads == {p.name for p in warehouse.landing.iterdir() if p.is_dir()}
    assert not list(warehouse.path.parent.glob(f".{warehouse.path.name}.*.tmp"))


def test_sigkill_at_every_stage_then_a_normal_run(published_demo):
    rng = random.Random(int(os.environ.get("RETENTION_TEST_SEED", "5")))
    warehouse = published_demo(customers=200, months=6, through="2023-04-15")
    state_a = marts_digest(warehouse.path)

    # -- kills while loading batches 2023-05..07: the lake may be half-loaded, the marts are not
    killed_run(warehouse, "ingest.before_swap", hit=2)
    killed_run(warehouse, "ingest.after_swap", hit=1)
    killed_run(warehouse, "ingest.done")
    assert marts_digest(warehouse.path) == state_a
    done = warehouse.run("run")
    assert "published" in done.stdout
    assert_recovered(warehouse)
    state_b = marts_digest(warehouse.path)
    assert state_b != state_a

    # -- a corrected re-delivery of the newest batch and a late batch, then kills in dbt, audit, publish
    newest = warehouse.landing / "2023-07-01" / "orders.csv"
    text = newest.read_text().splitlines()
    fields = text[1].split(",")
    fields[-1] = "refunded"
    newest.write_text("\n".join([text[0], ",".join(fields), *text[2:]]) + "\n")
    late = warehouse.landing / "2023-04-20"
    late.mkdir()
    (late / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount,currency,status\nLATE-1,LATE-C1,2023-04-19 10:00:00,12.50,USD,completed\n"
    )
    (late / "customers.csv").write_text("customer_id,created_at,channel,region\nLATE-C1,2023-04-18 09:00:00,web,north\n")

    delays = [killed_during_dbt(warehouse, rng)]
    assert marts_digest(warehouse.path) == state_b
    bytes_b, inode_b = file_digest(warehouse.path), inode(warehouse.path)
    for point in ("build.done", "audit.queried", "audit.kept", "publish.writing", "publish.copied"):
        killed_run(warehouse, point)
        # the published file itself was not touched: same bytes, same inode, and it opens
        assert (file_digest(warehouse.path), inode(warehouse.path)) == (bytes_b, inode_b), point
        assert marts_digest(warehouse.path) == state_b, point
    delays.append(killed_during_dbt(warehouse, rng))
    assert marts_digest(warehouse.path) == state_b
    killed_run(warehouse, "publish.renamed")  # the new file is in place, its marker is not written
    state_c = marts_digest(warehouse.path)
    assert state_c != state_b

    done = warehouse.run("run")
    assert "published" in done.stdout
    assert_recovered(warehouse)
    assert marts_digest(warehouse.path) == state_c
    # the failed runs' audit results are kept and published with the next run
    runs = warehouse.query("select count(distinct run_id) from audit.check_results")[0][0]
    assert runs >= 4  # the --through run, the two recoveries, and audit.kept's killed run
    print(f"dbt killed after {', '.join(f'{d:.2f}s' for d in delays)} of build database existing")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended between the listing and the read
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_writer_killed_alone_keeps_the_lock_until_its_dbt_child_is_gone(warehouse):
    """An OOM kill of just `retention run` orphans dbt, which goes on writing the build database:
    no other run may start until that child is gone; then a run recovers."""
    write_demo_landing(warehouse.landing, customers=150, months=4)
    build_db = warehouse.state / "build" / "build.duckdb"
    proc = subprocess.Popen(
        [str(RETENTION), "run"], env=warehouse.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (build_db.exists() and _children(proc.pid)):
        assert proc.poll() is None, "the run ended before dbt started"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    dbt = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert any(_alive(pid) for pid in dbt), "dbt finished before the test could race it; nothing was shown"

    refused = warehouse.run("run", check=False)
    assert refused.returncode == 75, refused.stderr
    assert "another run is writing" in refused.stderr

    deadline = time.monotonic() + 120
    while any(_alive(pid) for pid in dbt):
        assert time.monotonic() < deadline, "the orphaned dbt never finished"
        time.sleep(0.1)
    warehouse.run("run")
    assert_recovered(warehouse)
