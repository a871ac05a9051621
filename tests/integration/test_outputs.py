"""What each publish leaves for readers in $RETENTION_OUTPUT_DIR (docs/reference.md §6): Parquet of
every mart with the same rows, the report, the dbt docs and the Data Docs, swapped in as one set; a
snapshot's set beside the snapshot; outputs that fail or crash never un-publish the marts, and the next
run writes them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.support.warehouse import RETENTION, Warehouse

pytestmark = pytest.mark.slow


def outputs_of(wh: Warehouse) -> Path:
    return wh.path.parent / "outputs"


def published_run_id(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select run_id from audit.run_info").fetchone()[0]
    finally:
        con.close()


def set_run_id(folder: Path) -> str:
    return json.loads((folder / "run_info.json").read_text())["run_id"]


def assert_parquet_equals_marts(database: Path, parquet: Path) -> list[str]:
    """Every table of schema marts has parquet/<table>.parquet with the same columns, types and rows
    (as a multiset: `except all` both ways, and equal counts)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        listed = con.execute("select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()
        tables = [t for (t,) in listed]
        assert sorted(p.stem for p in parquet.glob("*.parquet")) == tables
        for table in tables:
            file = f"read_parquet('{parquet / (table + '.parquet')}')"
            assert (
                con.execute(f"describe select * from {file}").fetchall()
                == con.execute(f"describe select * from marts.{table}").fetchall()
            ), table
            for a, b in ((file, f"marts.{table}"), (f"marts.{table}", file)):
                extra = con.execute(f"select count(*) from (select * from {a} except all select * from {b})").fetchone()
                assert extra == (0,), table
            count = "select count(*) from {}"
            assert con.execute(count.format(file)).fetchone() == con.execute(count.format(f"marts.{table}")).fetchone()
    finally:
        con.close()
    return tables


def test_every_mart_is_published_as_parquet_with_the_same_rows(demo_published):
    tables = assert_parquet_equals_marts(demo_published.path, outputs_of(demo_published) / "parquet")
    assert {"period_retention", "cohort_retention", "customers", "clv_backtest"} <= set(tables)


def test_the_outputs_are_one_set_of_the_published_run(demo_published):
    out = outputs_of(demo_published)
    run_id = published_run_id(demo_published.path)
    assert os.readlink(out / "current") == f".sets/{run_id}"
    assert set_run_id(out / "current") == run_id
    for name in ("parquet", "report.html", "docs", "data_docs"):  # stable names through the one link
        assert os.readlink(out / name) == f"current/{name}"
    docs = (out / "docs" / "index.html").read_text()
    for node in ("period_retention", "retention_report", "bi_retention_dashboard"):  # a model and both exposures
        assert f".retention.{node}" in docs, node
    assert (out / "data_docs" / "index.html").is_file()
    assert (out / "report.html").stat().st_size > 0


def test_each_publish_swaps_in_a_new_set_and_a_snapshot_gets_its_own(warehouse, small_landing):
    wh = warehouse
    wh.env["RETENTION_LANDING_DIR"] = str(small_landing)
    out = outputs_of(wh)
    wh.run("run", "--through", "2023-05-01")
    first = published_run_id(wh.path)
    wh.run("run")
    second = published_run_id(wh.path)
    assert second != first and set_run_id(out / "current") == second
    assert (out / ".sets" / first).is_dir()  # kept for a reader who listed its files before the swap
    assert_parquet_equals_marts(wh.path, out / "parquet")

    wh.run("run", "--through", "2023-04-01")  # older than the published marts: a snapshot and its own set
    snapshot = out / "snapshots" / "2023-04-01.duckdb"
    assert set_run_id(out / "snapshots" / "2023-04-01") == published_run_id(snapshot)
    assert_parquet_equals_marts(snapshot, out / "snapshots" / "2023-04-01" / "parquet")
    assert (out / "snapshots" / "2023-04-01" / "report.html").is_file()
    assert set_run_id(out / "current") == second  # the warehouse's outputs are untouched
    assert not (out / ".sets" / first).exists()  # neither linked nor the set just replaced: removed
    sets_before = sorted(p.name for p in (out / ".sets").iterdir())

    done = wh.run("run")  # nothing new: no new set
    assert "up to date" in done.stdout + done.stderr
    assert sorted(p.name for p in (out / ".sets").iterdir()) == sets_before


def test_outputs_that_cannot_be_written_leave_the_marts_published_and_the_next_run_writes_them(warehouse, small_landing):
    wh = warehouse
    wh.env["RETENTION_LANDING_DIR"] = str(small_landing)
    blocker = outputs_of(wh) / "report.html"
    blocker.mkdir(parents=True)  # a folder where the report's link goes: the outputs cannot be published
    done = wh.run("run")
    run_id = published_run_id(wh.path)  # the marts are published all the same
    assert "outputs for readers were not written" in done.stderr and str(blocker) in done.stderr
    assert not (outputs_of(wh) / "current").exists()

    blocker.rmdir()
    wh.run("run")  # nothing new to build, but the outputs are not those of the published marts
    assert published_run_id(wh.path) == run_id
    assert set_run_id(outputs_of(wh) / "current") == run_id
    assert_parquet_equals_marts(wh.path, outputs_of(wh) / "parquet")


def test_a_crash_while_writing_the_outputs_is_repaired_by_the_next_run(warehouse, small_landing):
    wh = warehouse
    wh.env["RETENTION_LANDING_DIR"] = str(small_landing)
    wh.run("run", "--through", "2023-05-01")
    before = set_run_id(outputs_of(wh) / "current")
    crashed = subprocess.run(
        [str(RETENTION), "run"], env=wh.env | {"RETENTION_FAILPOINT": "outputs.writing"}, capture_output=True, text=True
    )
    assert crashed.returncode == -9, crashed.stderr
    run_id = published_run_id(wh.path)
    assert run_id != before  # published before the crash …
    assert set_run_id(outputs_of(wh) / "current") == before  # … and readers still see the whole earlier set
    wh.run("run")
    assert published_run_id(wh.path) == run_id
    assert set_run_id(outputs_of(wh) / "current") == run_id
    assert sorted(p.name for p in (outputs_of(wh) / ".sets").iterdir()) == sorted([before, run_id])
