"""The publish itself: a new file renamed over the old one, never the old file rewritten in place,
and never a build whose lake changed after it was made.

A reader test that polls during a run rarely opens the file in the short moment of a copy, and an open
dashboard reads from DuckDB's cache; so these tests look at the file: its inode (a rename brings a new
one), and the bytes behind a descriptor opened before the run (a rename leaves them whole).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import duckdb
import pytest

from retention import pipeline
from retention.config import load_settings
from retention.demo import write_demo_landing
from retention.errors import RunFailed
from retention.ingest.load import ingest
from tests.support.compare import assert_marts_equal_reference, file_digest, inode, marts_digest

pytestmark = pytest.mark.slow


def _read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def test_every_publish_is_a_new_file_and_a_descriptor_opened_before_keeps_the_old_one(published_demo, tmp_path):
    warehouse = published_demo(customers=60, months=4, through="2023-03-15")  # batches 2023-02-01 .. 2023-05-01
    first_inode, first_bytes, first_marts = inode(warehouse.path), file_digest(warehouse.path), marts_digest(warehouse.path)

    again = warehouse.run("run", "--through", "2023-03-15")
    assert "nothing new" in again.stdout
    assert (inode(warehouse.path), file_digest(warehouse.path)) == (first_inode, first_bytes)

    fd = os.open(warehouse.path, os.O_RDONLY)  # a reader that opened the file before the run
    try:
        assert "published" in warehouse.run("run").stdout
        old = _read_all(fd)
    finally:
        os.close(fd)
    assert inode(warehouse.path) != first_inode
    assert hashlib.sha256(old).hexdigest() == first_bytes  # the old file, whole, behind the old descriptor
    copy = tmp_path / "seen_by_the_old_descriptor.duckdb"
    copy.write_bytes(old)
    assert marts_digest(copy) == first_marts  # and it still opens as the complete old warehouse
    assert_marts_equal_reference(warehouse)

    second_inode, second_bytes = inode(warehouse.path), file_digest(warehouse.path)
    assert "nothing new" in warehouse.run("run").stdout
    assert (inode(warehouse.path), file_digest(warehouse.path)) == (second_inode, second_bytes)


def test_a_build_whose_lake_changed_before_the_publish_is_not_published(warehouse):
    """Another writer loads a batch between this run's build and its publish (the DAG's tasks take the
    lock one at a time): the publish refuses, and the next run publishes the marts of the new lake."""
    write_demo_landing(warehouse.landing, customers=60, months=4)
    settings = load_settings(warehouse.env)
    plan = pipeline.stage_ingest(settings, None)
    pipeline.stage_build(settings, plan)
    pipeline.stage_audit(settings, plan)

    # a corrected re-delivery of the newest batch: one more completed order, loaded by someone else
    orders = warehouse.landing / "2023-05-01" / "orders.csv"
    orders.write_text(orders.read_text() + "LATE-1,LATE-C1,2023-04-30 10:00:00,12.50,USD,completed\n")
    assert [m["batch_date"] for m in ingest(settings).loaded] == [dt.date(2023, 5, 1)] * 2

    with pytest.raises(RunFailed, match="the lake changed since this run's build"):
        pipeline.stage_publish(settings, plan)
    assert not warehouse.path.exists()
    assert not settings.published_marker.exists()

    assert "published" in warehouse.run("run").stdout
    assert_marts_equal_reference(warehouse)


def test_runs_interleaved_stage_by_stage_each_audit_and_publish_their_own_build(warehouse):
    """As Airflow interleaves a backfill with the nightly run, task by task under the writer pool: the
    backfill builds, the nightly run ingests, builds, audits, publishes and writes its outputs, then the
    backfill audits and publishes its own build as a snapshot, with its outputs. Nothing of either is
    left in the state folder; a failed stage keeps its run's build, and the next run removes it."""
    write_demo_landing(warehouse.landing, customers=60, months=4)  # batches 2023-02-01 .. 2023-05-01
    settings = load_settings(warehouse.env)
    backfill = pipeline.stage_ingest(settings, dt.date(2023, 3, 15))
    pipeline.stage_build(settings, backfill)

    nightly = pipeline.stage_ingest(settings, None)
    pipeline.stage_build(settings, nightly)
    pipeline.stage_audit(settings, nightly)
    assert pipeline.stage_publish(settings, nightly).file == warehouse.path
    assert pipeline.stage_outputs(settings, nightly, warehouse.path)[1] is None

    pipeline.stage_audit(settings, backfill)
    published = pipeline.stage_publish(settings, backfill)
    snapshot = published.file
    assert snapshot == settings.snapshot("2023-03-01")
    # decided at ingest (nothing was published then), decided again under the lock at publish: the
    # publish hands its decision back and leaves the caller's plan as it was
    assert (backfill.target, published.plan.target) == ("warehouse", "snapshot")
    assert pipeline.stage_outputs(settings, published.plan, snapshot)[1] is None
    assert_marts_equal_reference(snapshot, warehouse.landing, dt.date(2023, 3, 15))
    assert_marts_equal_reference(warehouse)
    con = duckdb.connect(str(snapshot), read_only=True)
    newest = con.execute("select max(batch_date) from audit.load_manifest").fetchone()
    con.close()
    assert newest == (dt.date(2023, 3, 1),)  # the batches it was built from, not those loaded since
    assert not list((settings.state_dir / "builds").iterdir())

    failing = pipeline.stage_ingest(settings, None, full_refresh=True)
    pipeline.stage_build(settings, failing)
    orders = warehouse.landing / "2023-05-01" / "orders.csv"
    orders.write_text(orders.read_text() + "LATE-1,LATE-C1,2023-04-30 10:00:00,12.50,USD,completed\n")
    ingest(settings)
    with pytest.raises(RunFailed, match="the lake changed"):
        pipeline.stage_publish(settings, failing)
    kept = settings.run_build_dir(failing.run_id)
    assert (kept / "build.duckdb").exists() and "lake changed" in (kept / pipeline.FAILED_MARK).read_text()
    pipeline.stage_ingest(settings, None)
    assert not kept.exists()
