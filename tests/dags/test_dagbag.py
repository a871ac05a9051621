"""The DAG folder imports cleanly under Airflow and follows the house policy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.environments import airflow_env
from tests.support.warehouse import ROOT

pytestmark = pytest.mark.airflow

CHECK = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder={folder!r})
parse_seconds = time.perf_counter() - started
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"duckdb", "dbt", "great_expectations", "pandas", "pyarrow"}})
dag = bag.dags.get("crm_retention")
out = {{"errors": {{k: str(v)[:500] for k, v in bag.import_errors.items()}}, "dag_ids": sorted(bag.dags),
       "parse_seconds": parse_seconds, "heavy_modules": heavy}}
if dag is not None:
    out.update(tasks=[t.task_id for t in dag.topological_sort()] if hasattr(dag, "topological_sort")
               else sorted(dag.task_ids),
               upstream={{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}},
               tags=sorted(dag.tags), max_active_runs=dag.max_active_runs, catchup=dag.catchup,
               retries={{t.task_id: t.retries for t in dag.tasks}},
               policy={{t.task_id: dict(owner=t.owner, backoff=t.retry_exponential_backoff, pool=t.pool,
                                       max_active_tis_per_dag=t.max_active_tis_per_dag,
                                       timeout=t.execution_timeout.total_seconds() if t.execution_timeout else None,
                                       start_date=str(t.start_date)) for t in dag.tasks}},
               callbacks=[bool(dag.on_success_callback), bool(dag.on_failure_callback)], params=sorted(dag.params),
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


def test_tasks_wait_ingest_build_audit_publish_and_output_in_that_order(dagbag):
    assert dagbag["upstream"] == {
        "wait_for_landing_batch": [],
        "ingest": ["wait_for_landing_batch"],
        "dbt_build": ["ingest"],
        "audit": ["dbt_build"],
        "publish": ["audit"],
        "outputs": ["publish"],
    }


def test_one_writer_nightly_and_documented(dagbag):
    assert dagbag["max_active_runs"] == 1
    assert dagbag["catchup"] is False
    assert "@daily" in dagbag["schedule"] or "0 0 * * *" in dagbag["schedule"]
    assert {"retention", "crm"} <= set(dagbag["tags"])
    assert dagbag["doc"]


def test_every_task_has_an_owner_retries_with_backoff_and_a_timeout(dagbag):
    """Retries are for transient errors only (verdicts fail fast, see test_fail_fast), with exponential backoff."""
    for task_id, policy in dagbag["policy"].items():
        assert policy["owner"] not in ("", "airflow"), task_id
        assert dagbag["retries"][task_id] >= 1 and policy["backoff"], task_id
        assert policy["timeout"] and policy["timeout"] <= 8 * 3600, task_id


def test_no_task_needs_a_pool_and_any_logical_date_runs_tasks(dagbag):
    # default_pool is the one pool `airflow db migrate` creates: a task in any other pool would sit
    # scheduled on a fresh Airflow, with only a line in the scheduler's log saying why
    assert {p["pool"] for p in dagbag["policy"].values()} == {"default_pool"}
    # a start_date would make Airflow create no task instance for an earlier logical date (1998, say)
    assert {p["start_date"] for p in dagbag["policy"].values()} == {"None"}


def test_each_writer_runs_one_instance_at_a_time_and_its_timeout_covers_the_wait_for_the_lock(dagbag):
    """A backfill's runs are not held back by max_active_runs, so two runs' writers may want the writer
    lock at once: one task instance per writer across runs bounds how many wait, and a writer's timeout
    is the 2 h it may wait for the lock (a dbt_build of another run) plus at least 30 min of its own work."""
    limited = {t for t, p in dagbag["policy"].items() if p["max_active_tis_per_dag"] == 1}
    assert limited == {"ingest", "dbt_build", "audit", "publish", "outputs"}
    for task_id in limited:
        assert dagbag["policy"][task_id]["timeout"] >= 2 * 3600 + 30 * 60, task_id


def test_callbacks_params_and_the_asset_is_announced_by_publish_only(dagbag):
    assert dagbag["callbacks"] == [True, True]
    assert dagbag["params"] == ["full_refresh", "through"]
    assert dagbag["outlets"]["publish"] == ["retention_marts_published"]  # an alias: an event only when it changed
    assert [t for t, outlets in dagbag["outlets"].items() if outlets] == ["publish"]


def test_parsing_is_fast_and_does_no_work(dagbag):
    assert dagbag["parse_seconds"] < 2.0
    assert dagbag["heavy_modules"] == []


def test_dag_file_is_thin():
    source = (ROOT / "dags" / "crm_retention.py").read_text()
    top_level_imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any("duckdb" in line or "dbt" in line or "pipeline" in line for line in top_level_imports)
    assert len(source.splitlines()) < 60
