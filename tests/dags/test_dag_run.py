"""A stock Airflow runs the DAG (docs/reference.md §3: `airflow dags test crm_retention DATE`, no server) and
publishes exactly what the CLI publishes from the same exports."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import reference
from tests.support.compare import assert_marts_equal_reference, file_digest
from tests.support.environments import airflow_env
from tests.support.landing import order, write_batch, write_csv
from tests.support.warehouse import Warehouse, snapshot_of

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (
        f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


@pytest.fixture(scope="module")
def dag_published(tmp_path_factory, demo_landing):
    wh = Warehouse(tmp_path_factory.mktemp("demo_dag"))
    env = airflow_env(
        wh.base, {k: v for k, v in wh.env.items() if k.startswith("RETENTION_")} | {"RETENTION_LANDING_DIR": str(demo_landing)}
    )
    airflow(env, "db", "migrate")
    done = airflow(env, "dags", "test", "crm_retention", "2030-01-01")
    return wh, env, done


def _marts(wh: Warehouse) -> dict[str, list[tuple]]:
    return {t: wh.query(f"select * from marts.{t} order by all") for t in ("period_retention", "cohort_retention")}


def test_dag_run_succeeds_and_publishes_the_same_marts_as_the_cli(dag_published, demo_published):
    wh, _, done = dag_published
    assert "state=success" in done.stdout + done.stderr
    dag_marts, cli_marts = _marts(wh), _marts(demo_published)
    assert dag_marts["period_retention"] and dag_marts["cohort_retention"]
    assert dag_marts == cli_marts
    # the outputs task wrote the readers' set of that publish (docs/reference.md §6)
    outputs = wh.path.parent / "outputs"
    assert (
        json.loads((outputs / "current" / "run_info.json").read_text())["run_id"]
        == wh.query("select run_id from audit.run_info")[0][0]
    )
    for name in ("report.html", "docs/index.html", "data_docs/index.html", "parquet/period_retention.parquet"):
        assert (outputs / name).is_file(), name


def test_dag_run_for_an_earlier_logical_date_builds_the_marts_as_of_that_date(dag_published, demo_landing):
    """Every row of both marts equals the reference over the batches dated on or before the logical
    date (later batches refund or complete some of those orders: their versions must not count)."""
    wh, env, _ = dag_published
    published = file_digest(wh.path)
    airflow(env, "dags", "test", "crm_retention", "2024-03-01")
    snapshot = snapshot_of(wh, "2024-03-01")  # older than the published marts: docs/reference.md §3
    assert_marts_equal_reference(snapshot, demo_landing, through=dt.date(2024, 3, 1))
    assert snapshot.query("select max(period_start) from marts.period_retention")[0][0] < dt.date(2024, 3, 1)
    assert file_digest(wh.path) == published


def test_a_failing_audit_fails_the_dag_run_and_publishes_nothing(dag_published, tmp_path):
    _, env, _ = dag_published
    wh = Warehouse(tmp_path)
    write_batch(
        wh.landing,
        "2024-02-01",
        customers=[],
        orders=[
            order("O1", "C1", "2024-01-05 10:00:00", amount="5", currency="USD"),
            order("O2", "C1", "2024-01-05 10:00:00", amount="5", currency="EUR"),
        ],
    )
    env = env | {k: v for k, v in wh.env.items() if k.startswith("RETENTION_")}

    done = subprocess.run(
        [str(AIRFLOW), "dags", "test", "crm_retention", "2024-02-01"], env=env, capture_output=True, text=True, timeout=900
    )
    log = done.stdout + done.stderr

    assert "state=failed" in log
    assert "one_currency" in log and "EUR" in log
    assert not wh.path.exists()


def _sqlite_airflow(tmp_path: Path, wh: Warehouse) -> dict:
    env = airflow_env(tmp_path, {k: v for k, v in wh.env.items() if k.startswith("RETENTION_")})
    airflow(env, "db", "migrate")
    return env


def test_a_logical_date_before_any_start_date_runs_the_pipeline(tmp_path):
    """An export whose history starts in 1997: `dags test` for 1998-07-01 runs every task (it used to
    report success having run none, the date being before the DAG's start_date)."""
    wh = Warehouse(tmp_path)
    write_batch(wh.landing, "1997-12-01", customers=[], orders=[order("A", "C1", "1997-11-03", amount="20")])
    write_batch(wh.landing, "1998-06-01", customers=[], orders=[order("B", "C1", "1998-05-20", amount="20")])
    write_batch(wh.landing, "1998-09-01", customers=[], orders=[order("C", "C2", "1998-08-20", amount="20")])
    env = _sqlite_airflow(tmp_path, wh)

    done = airflow(env, "dags", "test", "crm_retention", "1998-07-01")

    assert "state=success" in done.stdout + done.stderr
    assert_marts_equal_reference(wh.path, wh.landing, reference.dt.date(1998, 7, 1))
    assert wh.query("select max(period_start) from marts.period_retention where period_grain = 'month'")[0][
        0
    ] == reference.dt.date(1998, 5, 1)


def test_a_verdict_fails_the_run_at_once_without_a_retry(tmp_path):
    """A rejected batch (orders.csv without its amount column) fails ingest with the one-line reason, and is
    not retried: verdicts fail fast; only a busy writer lock or a full disk are retried."""
    wh = Warehouse(tmp_path)
    write_csv(wh.landing / "2024-02-01" / "orders.csv", ["order_id", "customer_id", "ordered_at", "currency", "status"], [])
    env = _sqlite_airflow(tmp_path, wh)

    done = subprocess.run(
        [str(AIRFLOW), "dags", "test", "crm_retention", "2024-02-01"], env=env, capture_output=True, text=True, timeout=900
    )
    log = done.stdout + done.stderr

    assert "state=failed" in log
    assert "AirflowFailException" in log and "2024-02-01" in log and "amount" in log
    assert "up_for_retry" not in log.lower() and "UP_FOR_RETRY" not in log
    assert not wh.path.exists()
