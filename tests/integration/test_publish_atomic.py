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

import pytest

from retention import pipeline
from retention.config import load_settings
from retention.demo import write_demo_landing
from retention.errors import RunFailed
from retention.ingest.load import ingest
from tests.helpers import assert_marts_equal_reference, file_digest, inode, marts_digest

pytestmark = pytest.mark.slow


def _read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def test_every_publish_is_a_new_file_and_a_descriptor_opened_before_keeps_the_old_one(warehouse, tmp_path):
    write_demo_landing(warehouse.landing, customers=60, months=4)  # batches 2023-02-01 .. 2023-05-01
    assert "published" in warehouse.run("run", "--through", "2023-03-15").stdout
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
