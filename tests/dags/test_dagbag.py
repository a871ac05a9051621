"""The DAG folder imports cleanly under Airflow and follows the house policy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, airflow_env

pytestmark = pytest.mark.airflow

CHECK = """
import json
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder={folder!r})
dag = bag.dags.get("crm_retention")
out = {{"errors": {{k: str(v)[:500] for k, v in bag.import_errors.items()}}, "dag_ids": sorted(bag.dags)}}
if dag is not None:
    out.update(tasks=[t.task_id for t in dag.topological_sort()] if hasattr(dag, "topological_sort")
               else sorted(dag.task_ids),
               upstream={{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}},
               tags=sorted(dag.tags), max_active_runs=dag.max_active_runs, catchup=dag.catchup,
               retries={{t.task_id: t.retries for t in dag.tasks}},
               outlets={{t.task_id: [getattr(o, "name", str(o)) for o in t.outlets] for t in dag.tasks}},
               schedule=str(getattr(dag.timetable, "description", "")) + " " + str(dag.schedule), doc=bool(dag.doc_md))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    base = tmp_path_factory.mktemp("dagbag")
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(folder=str(ROOT / "dags"))],
        env=airflow_env(base, {}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_folder_has_no_import_errors(dagbag):
    assert dagbag["errors"] == {}
    assert dagbag["dag_ids"] == ["crm_retention"]


def test_tasks_run_ingest_build_audit_publish_in_that_order(dagbag):
    assert dagbag["upstream"] == {"ingest": [], "build": ["ingest"], "audit": ["build"], "publish": ["audit"]}


def test_one_writer_nightly_and_documented(dagbag):
    assert dagbag["max_active_runs"] == 1
    assert dagbag["catchup"] is False
    assert "@daily" in dagbag["schedule"] or "0 0 * * *" in dagbag["schedule"]
    assert {"retention", "crm"} <= set(dagbag["tags"])
    assert dagbag["doc"]


def test_audit_is_not_retried_and_publish_announces_the_marts(dagbag):
    assert dagbag["retries"]["audit"] == 0
    assert dagbag["retries"]["ingest"] >= 1
    assert dagbag["outlets"]["publish"] == ["retention_marts"]


def test_dag_file_is_thin_and_does_no_work_at_parse_time():
    source = (ROOT / "dags" / "crm_retention.py").read_text()
    top_level_imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any("retention" in line or "duckdb" in line or "dbt" in line for line in top_level_imports)
    assert len(source.splitlines()) < 80
