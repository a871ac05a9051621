"""docs/reference.md §3: a run for a past date (`retention run --through` an earlier day) publishes a snapshot
of its as-of date and never moves the published marts back in time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.support.compare import assert_marts_equal_reference
from tests.support.warehouse import Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def today(tmp_path_factory, small_landing) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("snapshots"))
    wh.env["RETENTION_LANDING_DIR"] = str(small_landing)
    wh.run("run")
    return wh


def _published(wh: Warehouse) -> tuple[int, int, str]:
    stat = wh.path.stat()
    return stat.st_ino, stat.st_mtime_ns, (wh.state / "published.json").read_text()


def test_a_run_for_a_past_date_writes_a_snapshot_and_leaves_todays_marts_alone(today, small_landing):
    before = _published(today)
    done = today.run("run", "--through", "2023-04-15")

    snapshot = today.base / "warehouse" / "outputs" / "snapshots" / "2023-04-01.duckdb"
    assert "snapshot as of 2023-04-01" in done.stdout and str(snapshot) in done.stdout
    assert _published(today) == before
    assert_marts_equal_reference(snapshot, small_landing, dt.date(2023, 4, 15))
    assert_marts_equal_reference(today.path, small_landing)
    assert json.loads(before[2])["as_of"] == "2023-07-01"


def test_a_snapshot_does_not_make_todays_run_think_it_is_up_to_date_nor_the_reverse(today):
    today.run("run", "--through", "2023-04-15")
    assert "nothing new" in today.run("run").stdout
    again = today.run("run", "--through", "2023-04-20")  # same as-of date, another through: rebuilt, still a snapshot
    assert "snapshot as of 2023-04-01" in again.stdout
    assert "nothing new" in today.run("run").stdout


def test_the_output_folder_is_a_setting(today, small_landing, tmp_path: Path):
    today.env["RETENTION_OUTPUT_DIR"] = str(tmp_path / "out")
    try:
        today.run("run", "--through", "2023-03-10")
    finally:
        del today.env["RETENTION_OUTPUT_DIR"]
    assert_marts_equal_reference(tmp_path / "out" / "snapshots" / "2023-03-01.duckdb", small_landing, dt.date(2023, 3, 10))
    assert not list(tmp_path.glob("out/snapshots/.*.tmp*"))


def test_full_refresh_republishes_what_is_up_to_date(today):
    before = _published(today)
    done = today.run("run", "--full-refresh")
    assert "published the marts" in done.stdout
    assert _published(today)[0] != before[0]  # a new file swapped in
