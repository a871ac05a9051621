"""A changed setting or changed code rebuilds (and, where it decides the loaded rows, reloads), and the
new marts are those of the new setting: never "nothing new" with the old marts left published.

One warehouse is built once in UTC with the default mapping and salt; each test works on a copy of
it (landing, lake, published file, marker), changes one thing, runs once, and compares the published
marts with tests/reference.py read in the new setting.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from retention.demo import write_demo_landing
from tests import reference
from tests.support.compare import assert_marts_equal_reference, file_digest, inode
from tests.support.warehouse import ROOT, Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("settings_baseline"))
    write_demo_landing(wh.landing, customers=120, months=5)
    wh.env.pop("RETENTION_PII_SALT", None)
    wh.run("run")
    assert_marts_equal_reference(wh)
    return wh


@pytest.fixture
def copy(baseline, tmp_path) -> Warehouse:
    """The baseline's landing, state and published file, copied (the lake's links are relative)."""
    shutil.copytree(baseline.base, tmp_path / "wh", symlinks=True)
    wh = Warehouse(tmp_path / "wh")
    wh.env.pop("RETENTION_PII_SALT", None)
    assert "nothing new" in wh.run("run").stdout  # the copy is the baseline, up to date
    return wh


def _loads(wh: Warehouse) -> dict:
    return dict(wh.lake("select batch_date || ' ' || file_name, load_id from {manifest}"))


def _run_changed(wh: Warehouse) -> None:
    before = inode(wh.path), file_digest(wh.path)
    done = wh.run("run")
    assert "published" in done.stdout, done.stdout
    assert inode(wh.path) != before[0] and file_digest(wh.path) != before[1]


def _moved(landing: Path, **kw) -> int:
    """Completed orders whose month differs between UTC and the setting `kw` (else the test proves nothing)."""
    orders = reference.latest_orders(landing)
    changed = reference.activity(orders, **kw)
    return sum(1 for (_, a, _), (_, b, _) in zip(changed, reference.activity(orders)) if a.month != b.month)


def test_a_changed_time_zone_rebuilds_on_its_calendar(copy):
    zone = "Pacific/Auckland"  # UTC+12/+13: an evening order in UTC is the next day there
    assert _moved(copy.landing, timezone=zone) > 0
    loads = _loads(copy)
    copy.env["RETENTION_TIMEZONE"] = zone
    _run_changed(copy)
    assert _loads(copy) == loads  # the loaded rows do not depend on the marts' calendar: no reload
    assert_marts_equal_reference(copy, timezone=zone)


def test_a_changed_clv_horizon_rebuilds_the_forecast_and_says_so(copy):
    sql = "select customer_id, p_alive, expected_purchases from marts.customers where expected_purchases is not null"
    before = {c: (p, e) for c, p, e in copy.query(sql)}
    loads = _loads(copy)
    copy.env["RETENTION_CLV_HORIZON_DAYS"] = "30"
    done = copy.run("run")
    assert "published" in done.stdout and "lifetime-value horizon (days) changed from 365 to 30" in done.stdout + done.stderr
    assert _loads(copy) == loads  # no reload
    after = {c: (p, e) for c, p, e in copy.query(sql)}
    assert before and set(after) == set(before)
    # p_alive looks back, not forward: the same; a month's expected occasions are fewer than a year's
    assert all(after[c][0] == pytest.approx(before[c][0], rel=1e-12) and after[c][1] < before[c][1] for c in before)
    assert copy.query("select distinct horizon_days from marts.clv_model") == [(30,)]
    assert copy.query("select clv_horizon_days from audit.run_info") == [(30,)]


def test_a_changed_mapping_reloads_every_batch(copy):
    zone = "Asia/Tokyo"  # the CRM turns out to write its timestamps in Tokyo time
    assert _moved(copy.landing, source_zone=zone) > 0
    loads = _loads(copy)
    (copy.landing / "retention_mapping.yml").write_text(f"name: tokyo_crm\nextends: canonical\ntimezone: {zone}\n")
    _run_changed(copy)
    reloaded = _loads(copy)
    assert reloaded.keys() == loads.keys() and not set(reloaded.values()) & set(loads.values())
    assert_marts_equal_reference(copy, source_zone=zone)


def test_a_changed_pii_salt_reloads_every_batch_with_the_new_hashes(copy):
    loads = _loads(copy)
    copy.env["RETENTION_PII_SALT"] = "a-new-secret"
    _run_changed(copy)
    reloaded = _loads(copy)
    assert reloaded.keys() == loads.keys() and not set(reloaded.values()) & set(loads.values())
    want = {}
    for folder in sorted(p for p in copy.landing.iterdir() if p.is_dir()):
        with open(folder / "customers.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                digest = hashlib.sha256(("a-new-secret" + row["email"].strip().lower()).encode()).hexdigest()
                want[(folder.name, row["customer_id"])] = digest
    got = {
        (str(d), c): e
        for d, c, e in copy.lake("select batch_date, customer_id, json_extract_string(extra_columns, '$.email') from {customers}")
    }
    assert len(got) == len(want) > 0
    assert got == want
    assert_marts_equal_reference(copy)


def test_changed_code_rebuilds(copy, tmp_path):
    """A copy of the project whose dbt code differs (a column's description): the run rebuilds with it."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "dbt_project", project / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    models = project / "dbt_project" / "models" / "_docs.md"  # the docs block of customers_start
    old = "S — customers active in the period before this one."
    assert old in models.read_text()
    models.write_text(models.read_text().replace(old, "S, the customers active in the period before (changed code)."))
    loads = _loads(copy)
    copy.env["RETENTION_HOME"] = str(project)
    _run_changed(copy)
    assert _loads(copy) == loads
    assert copy.query(
        "select comment from duckdb_columns() where table_name = 'period_retention' and column_name = 'customers_start'"
    ) == [("S, the customers active in the period before (changed code).",)]
    assert_marts_equal_reference(copy)
