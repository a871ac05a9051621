"""The pipeline's stages as Airflow tasks: what dags/crm_retention.py wires together, shared with the CLI.

Each task runs one stage of `retention.pipeline` under the writer lock, passing the small JSON plan on.
Between two tasks another writer may have changed the lake; publish compares the lake state with the one
the build started from and refuses a stale build.

Failures follow the one error model (errors.py): a verdict (a rejected batch, a bad setting, a failed
dbt test or audit check) fails the task at once with its one-line message (AirflowFailException, no
retry); a transient cause (writer lock busy, disk full) raises for a retry with exponential backoff.

Only the standard library and the Airflow SDK are imported here at module level: the DAG file imports
this module when it is parsed, and the heavy parts (duckdb, dbt, great-expectations) load in the tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias, BaseSensorOperator, Param, get_current_context
from airflow.sdk.exceptions import AirflowFailException

from . import durable

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger(__name__)

# How long a writing task waits for the writer lock before it fails for a retry: as long as any writer may
# hold it (dbt_build's own budget, the longest). Airflow counts a backfill's runs apart from the DAG's
# max_active_runs, so a backfill's task and the nightly run's may want the lock at the same moment; the one
# that does not get it waits (saying who holds it) rather than failing. The DAG adds this to the writers'
# execution_timeout, which counts the wait.
WRITER_LOCK_WAIT = timedelta(hours=2)
MARTS_ALIAS = AssetAlias("retention_marts_published")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 3,  # only transient errors get here: verdicts fail at once (fail_fast)
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
}
PARAMS = {
    "through": Param(
        None,
        type=["null", "string"],
        format="date",
        description="Build from the batches dated on or before this day (YYYY-MM-DD). Empty: the run's logical "
        "date, or the day the run starts when it has none. An earlier day than the published marts' as-of "
        "date writes a snapshot (docs/reference.md §3).",
    ),
    "full_refresh": Param(False, type="boolean", description="Rebuild and publish even when the target is up to date."),
}


def marts_asset() -> Asset:
    """The published marts, named by the warehouse file (read from the settings, no I/O)."""
    from .config import load_settings

    return Asset(name="retention_marts", uri=f"file://{load_settings().warehouse}")


def run_through(context: Any) -> dt.date:
    """The run's through date (docs/reference.md §3): the `through` param, else the logical date, else the day
    (UTC) the run started, for runs triggered without a logical date through the REST API or the UI."""
    given = (context.get("params") or {}).get("through")
    if given:
        return dt.date.fromisoformat(str(given))
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    dag_run = context["dag_run"]
    started = getattr(dag_run, "start_date", None) or getattr(dag_run, "run_after", None) or dt.datetime.now(dt.UTC)
    return started.date()


@contextmanager
def fail_fast() -> Iterator[None]:
    """A verdict fails the task without retries; a transient error propagates for a retry."""
    from .errors import RetentionError

    try:
        yield
    except RetentionError as e:
        if e.retryable:
            log.warning("transient, will retry (if retries remain): %s", e)
            raise
        raise AirflowFailException(str(e)) from e


def _settings():
    from .config import load_settings

    return load_settings()


@contextmanager
def writing(settings: Settings, what: str) -> Iterator[None]:
    """The writer lock for one task, waited for up to WRITER_LOCK_WAIT (not RETENTION_LOCK_WAIT_SECONDS,
    which is the CLI's: a task that gave up at once would spend its retries on a lock another run's task
    holds for minutes). The log says when the task wrote, so overlapping runs can be told apart."""
    from .lock import writer_lock

    with writer_lock(settings.lock_file, what, int(WRITER_LOCK_WAIT.total_seconds())):
        log.info("writer lock taken: %s", what)
        try:
            yield
        finally:
            log.info("writer lock released: %s", what)


class LandingBatchSensor(BaseSensorOperator):
    """Waits for the landing folder to hold a batch the run can build from (dated on or before its through
    date) — a mount not there yet or a first export not landed — deferring to the triggerer between looks
    rather than holding a worker slot; fails once `timeout` has passed."""

    ui_color = "#e8f4fd"

    def poke(self, context: Any) -> bool:
        from .ingest.landing import discover

        through = run_through(context)
        settings = _settings()
        with fail_fast():
            if not settings.landing_dir.is_dir():
                log.info("%s does not exist (yet)", settings.landing_dir)
                return False
            batches, rejected = discover(settings.landing_dir, through)
        log.info(
            "%s holds %d batch(es) dated on or before %s%s; newest: %s",
            settings.landing_dir,
            len(batches),
            through,
            f" (and {len(rejected)} that ingest will reject)" if rejected else "",
            max((str(b.batch_date) for b in batches), default="none"),
        )
        return bool(batches or rejected)  # a rejected batch is ingest's verdict to give, with its reason

    def execute(self, context: Any) -> None:
        deadline = dt.datetime.now(dt.UTC) + timedelta(seconds=float(self.timeout))
        self.resume(context, deadline=deadline.isoformat())

    def resume(self, context: Any, deadline: str, event: Any = None) -> None:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        if self.poke(context):
            return
        now, until = dt.datetime.now(dt.UTC), dt.datetime.fromisoformat(deadline)
        if now >= until:
            raise AirflowFailException(
                f"no batch dated on or before {run_through(context)} landed in {_settings().landing_dir} "
                f"within {self.timeout:.0f}s"
            )
        wake = min(now + timedelta(seconds=float(self.poke_interval)), until)
        self.defer(trigger=DateTimeTrigger(moment=wake), method_name="resume", kwargs={"deadline": deadline})


def ingest_task() -> dict:
    """Load the batches dated on or before the run's through date; log what was read, loaded, quarantined."""
    from .pipeline import stage_ingest
    from .run_record import outcome_recorded

    context = get_current_context()
    through = run_through(context)
    full_refresh = bool((context.get("params") or {}).get("full_refresh"))
    settings = _settings()
    with (
        fail_fast(),
        writing(settings, f"airflow crm_retention ingest {through}"),
        outcome_recorded(settings, "airflow crm_retention ingest") as outcome,
    ):
        plan = stage_ingest(settings, through, full_refresh=full_refresh)
        outcome.update(run_id=plan.run_id, status="up to date" if plan.up_to_date else "ingested", warnings=plan.warnings)
    log.info(
        "through %s (as of %s): loaded %d batch(es) %s, %d unchanged; rows read %s, loaded %s, quarantined %s",
        through,
        plan.as_of,
        len(plan.loaded_batches),
        plan.loaded_batches,
        plan.unchanged_batches,
        plan.rows.get("rows_read", 0),
        plan.rows.get("rows_loaded", 0),
        plan.rows.get("rows_quarantined", 0),
    )
    log.info(
        "target: %s%s",
        plan.target,
        " — already up to date, nothing to build" if plan.up_to_date else (" (full refresh)" if full_refresh else ""),
    )
    return plan.to_dict()


def build_task(plan: dict) -> dict:
    """dbt build (models, their tests, unit tests); logs dbt's result for every node."""
    from .pipeline import Plan, stage_build
    from .run_record import outcome_recorded
    from .warehouse.build import node_results

    settings = _settings()
    with (
        fail_fast(),
        writing(settings, f"airflow crm_retention build {plan['run_id']}"),
        outcome_recorded(settings, "airflow crm_retention build") as outcome,
    ):
        try:
            built = stage_build(settings, Plan.from_dict(plan))
        finally:
            if not plan["up_to_date"]:
                log.info("dbt build, per node:\n%s", "\n".join(node_results(settings)) or "(no results)")
        outcome.update(run_id=plan["run_id"], status="built" if built else "up to date")
    return plan


def audit_task(plan: dict) -> dict:
    """The data-quality checks (dbt tests passed in build; great-expectations and reconciliations here)."""
    from .pipeline import Plan, check_warnings, stage_audit
    from .report import audit_summary
    from .run_record import outcome_recorded

    settings = _settings()
    with (
        fail_fast(),
        writing(settings, f"airflow crm_retention audit {plan['run_id']}"),
        outcome_recorded(settings, "airflow crm_retention audit") as outcome,
    ):
        results = stage_audit(settings, Plan.from_dict(plan))
        warnings = plan.get("warnings", []) + check_warnings(results)
        outcome.update(run_id=plan["run_id"], status="audited", warnings=warnings)
    log.info("audit of run %s:\n%s", plan["run_id"], audit_summary(results) if results else "(up to date: nothing to audit)")
    for warning in check_warnings(results):
        log.warning("%s", warning)
    # plain strings for the XCom (JSON): the statuses' values, not the enum
    return plan | {"checks": {r.check_name: r.status.value for r in results}, "warnings": warnings}


def publish_task(plan: dict) -> dict:
    """Swap the audited build in (or write the snapshot of a past as-of date); announce the marts asset
    only when $RETENTION_WAREHOUSE changed."""
    from .pipeline import Plan, stage_publish
    from .run_record import outcome_recorded

    settings = _settings()
    plan = dict(plan)
    checks = plan.pop("checks", {})
    audited = Plan.from_dict(plan)
    with (
        fail_fast(),
        writing(settings, f"airflow crm_retention publish {audited.run_id}"),
        outcome_recorded(settings, "airflow crm_retention publish") as outcome,
    ):
        publication = stage_publish(settings, audited)
        run, published = publication.plan, publication.file  # the target as decided under the lock
        outcome.update(run_id=run.run_id, status=f"published {run.target}" if published else "up to date", warnings=run.warnings)
    result = {
        "plan": run.to_dict(),  # for the outputs task
        "run_id": run.run_id,
        "as_of": run.as_of,
        "through": run.through,
        "target": run.target,
        "published": str(published) if published else None,
        "warehouse": str(settings.warehouse),
        "checks": checks,
    }
    if published and run.target == "warehouse":
        get_current_context()["outlet_events"][MARTS_ALIAS].add(
            marts_asset(), extra={"as_of": run.as_of, "through": run.through, "run_id": run.run_id}
        )
        log.info("published %s as of %s; asset event retention_marts emitted", published, run.as_of)
    elif published:
        log.info("published the snapshot %s (as of %s); %s unchanged, no asset event", published, run.as_of, settings.warehouse)
    else:
        log.info("nothing new: %s is up to date and was left as it was; no asset event", settings.warehouse)
    return result


def outputs_task(result: dict) -> dict:
    """Parquet, the report, the dbt docs and the Data Docs of what was published (docs/reference.md §6),
    swapped in as one set. A failure here fails this task with one sentence and never un-publishes the marts;
    with nothing new published it writes them only when they are not those of the published marts."""
    from pathlib import Path

    from .pipeline import Plan, stage_outputs

    settings = _settings()
    plan = Plan.from_dict(result["plan"])
    with fail_fast(), writing(settings, f"airflow crm_retention outputs {plan.run_id}"):
        where, error = stage_outputs(settings, plan, Path(result["published"]) if result.get("published") else None)
    if error:
        raise AirflowFailException(error)
    assert where is not None
    log.info("outputs for readers: report %s, Parquet %s", where.report, where.parquet)
    log.info("dbt docs %s, Data Docs %s", where.docs, where.data_docs)
    return {k: v for k, v in result.items() if k != "plan"} | {
        "report": str(where.report),
        "parquet": str(where.parquet),
        "docs": str(where.docs),
        "data_docs": str(where.data_docs),
    }


def _run_summary(context: Any, state: str) -> dict:
    dag_run = context.get("dag_run")

    def when(name: str) -> str | None:
        value = getattr(dag_run, name, None)
        return value.isoformat() if value is not None else None

    return {
        "dag_id": getattr(dag_run, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None),
        "run_type": str(getattr(dag_run, "run_type", "")),
        "logical_date": when("logical_date"),
        "start_date": when("start_date"),
        "end_date": when("end_date"),
        "state": state,
        "reason": context.get("reason"),
    }


def _notify_settings() -> Settings | None:
    """The settings, for where to notify. When another setting is at fault (the very reason the run
    failed), those of the notification alone: a bad RETENTION_MEMORY_LIMIT must not silence the news."""
    from .config import load_settings
    from .errors import ConfigError

    try:
        return load_settings()
    except ConfigError:
        pass
    try:
        return load_settings({k: v for k, v in os.environ.items() if k.startswith("RETENTION_NOTIFY_")})
    except ConfigError as e:
        log.warning("could not notify: %s", e)
        return None


def _notify(summary: dict, context: Any) -> None:
    """POST the summary to RETENTION_NOTIFY_WEBHOOK and/or e-mail RETENTION_NOTIFY_EMAIL (Airflow's SMTP notifier)."""
    settings = _notify_settings()
    if settings is None:
        return
    if url := settings.notify_webhook:
        request = urllib.request.Request(
            url, data=json.dumps(summary).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError as e:  # a notification must never change the run's outcome
            # the host only: a webhook's path is often its secret (Slack, Teams), and task logs are widely read
            log.warning("could not notify the webhook at %s: %s", urllib.parse.urlsplit(url).hostname, e)
    if to := settings.notify_email:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        try:
            SmtpNotifier(
                to=to,
                subject=f"crm_retention {summary['run_id']}: {summary['state']}",
                html_content=f"<pre>{json.dumps(summary, indent=2)}</pre>",
            ).notify(context)
        except Exception as e:  # noqa: BLE001 - SMTP errors vary by server; never fail the callback
            log.warning("could not e-mail %s: %s", to, e)


def record_run(context: Any, state: str) -> None:
    """The DAG run's summary in $RETENTION_STATE_DIR/airflow_runs/<run id>.json, logged, and notified if set."""
    summary = _run_summary(context, state)
    log.info("crm_retention run summary: %s", json.dumps(summary))
    try:
        folder: Path = _settings().state_dir / "airflow_runs"
        folder.mkdir(parents=True, exist_ok=True)
        name = str(summary["run_id"]).replace("/", "_").replace(":", "-")
        durable.write_text(folder / f"{name}.json", json.dumps(summary, indent=2))
    except Exception as e:  # noqa: BLE001 - a summary that cannot be written is logged, never fails the run
        log.warning("could not write the run summary: %s", e)
    _notify(summary, context)


def on_success(context: Any) -> None:
    record_run(context, "success")


def on_failure(context: Any) -> None:
    record_run(context, "failed")
