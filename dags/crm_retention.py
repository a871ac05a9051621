"""
### crm_retention

Nightly: load the CRM exports dated on or before the run's through date from `$RETENTION_LANDING_DIR`,
build the retention marts with dbt, audit them, and only then publish `$RETENTION_WAREHOUSE` in one
atomic swap — or, for a date older than the published marts (a backfill), the snapshot
`$RETENTION_OUTPUT_DIR/snapshots/AS_OF.duckdb`. Any run type works: scheduled, manual (param `through`),
REST API without a logical date (through = the day it starts), `airflow backfill create`.

Tasks: `wait_for_landing_batch` (deferrable) → `ingest` → `dbt_build` → `audit` → `publish` → `outputs`
(Parquet, report.html, dbt docs and Data Docs in `$RETENTION_OUTPUT_DIR`, swapped in as one set; a failure
there fails the run but never un-publishes the marts). The asset `retention_marts` is announced only when
the warehouse changed. Logic: `retention.orchestration`.

One writer at a time, no pool to create: each writing task holds the writer lock in `$RETENTION_STATE_DIR`,
waiting up to 2 h for it (its log says who holds it). A backfill's runs count apart from `max_active_runs`,
so they interleave with the nightly or a manual run task by task, each run publishing only its own build.
"""

from datetime import timedelta

from airflow.sdk import dag, task

from retention import orchestration as o


def writer(budget: timedelta) -> dict:
    """A task that writes: one instance across all runs (a backfill's runs too), its timeout its own work
    plus the wait for another run's writer to release the lock (o.WRITER_LOCK_WAIT)."""
    return {"max_active_tis_per_dag": 1, "execution_timeout": budget + o.WRITER_LOCK_WAIT}


@dag(
    schedule="@daily",
    start_date=None,  # any logical date runs the pipeline, however old the exports (start_date would skip tasks)
    catchup=False,
    max_active_runs=1,
    default_args=o.DEFAULT_ARGS,
    params=o.PARAMS,
    on_success_callback=o.on_success,
    on_failure_callback=o.on_failure,
    tags=["retention", "crm", "duckdb", "dbt"],
    doc_md=__doc__,
)
def crm_retention():
    landed = o.LandingBatchSensor(
        task_id="wait_for_landing_batch", poke_interval=300, timeout=6 * 3600, execution_timeout=timedelta(hours=7)
    )
    plan = task(o.ingest_task, task_id="ingest", **writer(timedelta(hours=1)))()
    built = task(o.build_task, task_id="dbt_build", **writer(timedelta(hours=2)))(plan)
    audited = task(o.audit_task, task_id="audit", **writer(timedelta(hours=1)))(built)
    published = task(o.publish_task, task_id="publish", outlets=[o.MARTS_ALIAS], **writer(timedelta(minutes=30)))(audited)
    task(o.outputs_task, task_id="outputs", **writer(timedelta(minutes=30)))(published)
    landed >> plan


crm_retention()
