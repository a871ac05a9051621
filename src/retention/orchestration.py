"""The pipeline's stages as scheduler tasks: JSON in, JSON out, each under the writer lock.

The Airflow DAG (dags/crm_retention.py) calls these; `retention run` calls the same stages in one
process under one lock (pipeline.run). Between two tasks another writer may have changed the lake;
publish compares the lake state with the one the build started from and refuses a stale build.
"""

from __future__ import annotations

import datetime as dt
import logging

from .config import load_settings
from .pipeline import Plan, check_warnings, locked, stage_audit, stage_build, stage_ingest, stage_publish
from .report import audit_summary
from .run_record import outcome_recorded

log = logging.getLogger(__name__)


def ingest_task(logical_date: str) -> dict:
    """Load the batches dated on or before the run's logical date (YYYY-MM-DD)."""
    settings = load_settings()
    through = dt.date.fromisoformat(logical_date[:10])
    with (
        locked(settings, f"airflow crm_retention ingest {logical_date}"),
        outcome_recorded(settings, "airflow crm_retention ingest") as outcome,
    ):
        plan = stage_ingest(settings, through)
        outcome.update(run_id=plan.run_id, status="up to date" if plan.up_to_date else "ingested", warnings=plan.warnings)
        return plan.to_dict()


def build_task(plan: dict) -> dict:
    settings = load_settings()
    with (
        locked(settings, f"airflow crm_retention build {plan['run_id']}"),
        outcome_recorded(settings, "airflow crm_retention build") as outcome,
    ):
        stage_build(settings, Plan.from_dict(plan))
        outcome.update(run_id=plan["run_id"], status="built")
    return plan


def audit_task(plan: dict) -> dict:
    settings = load_settings()
    with (
        locked(settings, f"airflow crm_retention audit {plan['run_id']}"),
        outcome_recorded(settings, "airflow crm_retention audit") as outcome,
    ):
        results = stage_audit(settings, Plan.from_dict(plan))
        warnings = check_warnings(results)
        outcome.update(run_id=plan["run_id"], status="audited", warnings=plan.get("warnings", []) + warnings)
    if results:
        log.info("audit of run %s:\n%s", plan["run_id"], audit_summary(results))
    for warning in warnings:
        log.warning("%s", warning)
    return plan | {"checks": {r.check_name: r.status for r in results}, "warnings": plan.get("warnings", []) + warnings}


def publish_task(plan: dict) -> dict:
    settings = load_settings()
    plan = dict(plan)
    checks = plan.pop("checks", {})
    with (
        locked(settings, f"airflow crm_retention publish {plan['run_id']}"),
        outcome_recorded(settings, "airflow crm_retention publish") as outcome,
    ):
        published = stage_publish(settings, Plan.from_dict(plan))
        outcome.update(
            run_id=plan["run_id"], status="published" if published else "up to date", warnings=plan.get("warnings", [])
        )
    return {"run_id": plan["run_id"], "published": published, "warehouse": str(settings.warehouse), "checks": checks}
