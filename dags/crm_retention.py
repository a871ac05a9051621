"""
### crm_retention

Nightly: load the CRM exports dated on or before the logical date from `$RETENTION_LANDING_DIR`,
build the retention marts with dbt, audit them (dbt tests + great-expectations), and only then
publish `$RETENTION_WAREHOUSE` in one atomic swap. The logic lives in the `retention` package
(`retention.orchestration`); `retention run` does the same from the command line.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

RETENTION_MARTS = Asset("retention_marts")


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2023, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # DuckDB has one writer; the package's lock also guards against the CLI
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    tags=["retention", "crm", "duckdb", "dbt"],
    doc_md=__doc__,
)
def crm_retention():
    @task
    def ingest(ds: str | None = None) -> dict:
        from retention.orchestration import ingest_task

        return ingest_task(ds)

    @task
    def build(plan: dict) -> dict:
        from retention.orchestration import build_task

        return build_task(plan)

    @task(retries=0)  # a failed check is a verdict, not a glitch
    def audit(plan: dict) -> dict:
        from retention.orchestration import audit_task

        return audit_task(plan)

    @task(outlets=[RETENTION_MARTS])
    def publish(plan: dict) -> dict:
        from retention.orchestration import publish_task

        return publish_task(plan)

    publish(audit(build(ingest())))


crm_retention()
