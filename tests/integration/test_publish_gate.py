"""A failing check blocks the publish (issue 3): the run exits non-zero, says what failed, and the
previously published file is left exactly as it was."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.support.compare import file_digest
from tests.support.landing import customer, order, write_batch
from tests.support.warehouse import ROOT

pytestmark = pytest.mark.slow


def orders(month: int, n: int) -> list[dict]:
    return [order(f"O{month}-{i}", f"C{i}", f"2024-{month:02d}-1{i % 10} 10:00:00") for i in range(n)]


@pytest.fixture
def published(warehouse):
    write_batch(
        warehouse.landing, "2024-02-01", customers=[customer(f"C{i}", region="east") for i in range(5)], orders=orders(1, 5)
    )
    warehouse.run("run")
    return warehouse


def test_a_count_that_does_not_reconcile_stops_the_publish(published):
    before = file_digest(published.path)
    # Someone (or a bug) alters the lake: the manifest now claims one more row read than was kept.
    manifest = next((published.state / "lake" / "batches" / "2024-02-01").resolve().glob("manifest.parquet"))
    con = duckdb.connect()
    con.execute(
        f"copy (select * replace (case when file_name = 'orders.csv' then rows_read + 1 else rows_read end "
        f"as rows_read) from read_parquet('{manifest}')) to '{manifest}.new' (format parquet)"
    )
    con.close()
    manifest.with_name("manifest.parquet.new").replace(manifest)
    write_batch(published.landing, "2024-03-01", customers=[], orders=orders(2, 3))

    done = published.run("run", check=False)

    assert done.returncode != 0
    assert "file_rows_reconcile" in done.stderr and "2024-02-01/orders.csv" in done.stderr
    assert "observed 5, expected 6" in done.stderr
    assert file_digest(published.path) == before
    # the copy of the marts written while the audit judged is gone with it
    assert sorted(p.name for p in published.path.parent.iterdir() if p.name.startswith(".")) == []


def _project_copy(published, tmp_path):
    """A copy of the project for the run to use (RETENTION_HOME), for a test to plant a bad change in."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "dbt_project", project / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    published.env["RETENTION_HOME"] = str(project)
    return project


def test_a_broken_mart_model_stops_the_publish_and_names_the_test(published, tmp_path):
    before = file_digest(published.path)
    # A copy of the project whose period rates (int_periods_rated, behind period_retention) miscount churn,
    # as a bad code change would.
    project = _project_copy(published, tmp_path)
    model = project / "dbt_project" / "models" / "intermediate" / "int_periods_rated.sql"
    correct = "cast(counted.customers_start - counted.retained_customers as bigint) as churned_customers"
    assert correct in model.read_text()  # else the planted bug below would plant nothing
    model.write_text(model.read_text().replace(correct, correct.replace("retained_customers", "retained_customers + 1")))
    write_batch(published.landing, "2024-03-01", customers=[], orders=orders(2, 3))

    done = published.run("run", check=False)

    assert done.returncode != 0
    assert "dbt build failed" in done.stderr and "period_retention" in done.stderr
    assert file_digest(published.path) == before


def test_a_mart_that_breaks_its_contract_stops_the_publish_and_names_the_rule(published, tmp_path):
    before = file_digest(published.path)
    # A copy of the project whose lifecycle mart labels churned customers 'lost', with the unit test that
    # would catch it removed: the check constraint on lifecycle_state (the mart's contract) must.
    project = _project_copy(published, tmp_path)
    model = project / "dbt_project" / "models" / "marts" / "customer_lifecycle.sql"
    assert "'churned' as lifecycle_state" in model.read_text()  # else nothing is planted below
    model.write_text(model.read_text().replace("'churned' as lifecycle_state", "'lost' as lifecycle_state"))
    units = project / "dbt_project" / "models" / "marts" / "_marts__unit_tests.yml"
    text = units.read_text()
    start = text.index("  - name: customer_lifecycle_adds_a_churned_row")
    units.write_text(text[:start] + text[text.index("  - name: ", start + 10) :])
    write_batch(published.landing, "2024-03-01", customers=[], orders=orders(2, 3))

    done = published.run("run", check=False)

    assert done.returncode != 0
    said = [line for line in done.stderr.splitlines() if "dbt build failed" in line]
    assert len(said) == 1 and "model.retention.customer_lifecycle" in said[0], done.stderr
    assert "CHECK constraint failed" in said[0] and "lifecycle_state in" in said[0].lower(), said[0]
    assert file_digest(published.path) == before
