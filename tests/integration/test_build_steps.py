"""The build's one dbt child process: both dbt steps and the lifetime-value fit between them; dbt's unit
tests only when the formulas may have changed; a fit that fails is one sentence, and nothing is published."""

from __future__ import annotations

import json
import shutil

import pytest

from retention.demo import write_demo_landing
from tests.support.compare import file_digest
from tests.support.warehouse import ROOT

pytestmark = pytest.mark.slow


def _built_nodes(warehouse) -> list[str]:
    """The unique ids of the nodes dbt ran in the last build, every step."""
    steps = sorted((warehouse.state / "dbt" / "build_results").glob("*.json"))
    return [r["unique_id"] for step in steps for r in json.loads(step.read_text())["results"]]


def test_unit_tests_run_on_the_first_build_and_again_only_when_the_code_or_calendar_changes(warehouse):
    write_demo_landing(warehouse.landing, customers=60, months=4)
    warehouse.run("run")
    first = _built_nodes(warehouse)
    units = [n for n in first if n.startswith("unit_test.")]
    assert len(units) >= 10  # every formula's hand-worked case (the project holds 17)
    assert any(n == "model.retention.customers" for n in first)  # the step after the fit ran too

    warehouse.run("run", "--full-refresh")  # same code, same calendar: data tests only
    again = _built_nodes(warehouse)
    assert not [n for n in again if n.startswith("unit_test.")]
    assert sorted(again) == sorted(n for n in first if not n.startswith("unit_test."))

    warehouse.env["RETENTION_TIMEZONE"] = "America/New_York"  # the calendar the formulas bucket by
    warehouse.run("run")
    assert sorted(n for n in _built_nodes(warehouse) if n.startswith("unit_test.")) == sorted(units)


def test_a_fit_that_fails_is_one_sentence_and_publishes_nothing(published_demo, tmp_path):
    warehouse = published_demo(customers=60, months=4)
    before = file_digest(warehouse.path)
    # A copy of the project whose occasions model renames the revenue column the fit reads (no data test of
    # the first dbt step looks at it), as a bad change would.
    project = tmp_path / "project"
    shutil.copytree(ROOT / "dbt_project", project / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    model = project / "dbt_project" / "models" / "intermediate" / "int_orders_grouped_into_occasions.sql"
    text = model.read_text()
    assert "sum(amount) as revenue\n" in text  # else nothing is planted below
    model.write_text(text.replace("sum(amount) as revenue\n", "sum(amount) as occasion_revenue\n"))
    # and, as its author would, drops the unit tests that the rename breaks: the model's own and those fed its
    # rows (the fit has none in dbt)
    units = project / "dbt_project" / "models" / "marts" / "_marts__unit_tests.yml"
    head, *cases = units.read_text().split("\n  - name: ")
    kept = [
        c for c in cases if not c.startswith("orders_on_one_local_day") and "ref('int_orders_grouped_into_occasions')" not in c
    ]
    assert len(kept) < len(cases) - 1  # else nothing was dropped but the model's own
    units.write_text("\n  - name: ".join([head, *kept]))
    warehouse.env["RETENTION_HOME"] = str(project)

    done = warehouse.run("run", "--full-refresh", check=False)

    assert done.returncode == 1, done.stderr
    said = [line for line in done.stderr.splitlines() if "lifetime-value fit failed" in line]
    assert len(said) == 1 and '"revenue"' in said[0] and "last_output.log" in said[0], done.stderr
    assert "Traceback" not in done.stderr
    assert file_digest(warehouse.path) == before


def test_a_model_dbt_cannot_parse_is_one_line_naming_the_file(warehouse, tmp_path):
    write_demo_landing(warehouse.landing, customers=40, months=3)
    project = tmp_path / "project"
    shutil.copytree(ROOT / "dbt_project", project / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "dbt_project" / "models" / "marts" / "oops.sql").write_text("select {{ broken( from x\n")
    warehouse.env["RETENTION_HOME"] = str(project)

    done = warehouse.run("run", check=False)

    assert done.returncode == 1 and "Traceback" not in done.stderr
    [said] = [line for line in done.stderr.splitlines() if "dbt could not parse the project" in line]
    assert "models/marts/oops.sql" in said and "last_output.log" in said
    assert not warehouse.path.exists()
