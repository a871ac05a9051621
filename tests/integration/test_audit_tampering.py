"""Each audit check catches what it is for: one real build, then a tampered copy per check.

The build is made once, in-process, by the pipeline's own stages (ingest → dbt). Each test copies
the build database, corrupts it the way a bug upstream would (a doubled staging row, an identity
broken in a mart, a second currency, an exploding batch), and runs the real audit — great-expectations
included — on it. A failing check must raise AuditFailed naming the check and the rows at fault.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from retention import pipeline
from retention.config import load_settings
from retention.demo import write_demo_landing
from retention.errors import AuditFailed
from retention.quality.audit import audit, history_file
from retention.quality.checks import Check, checks_for, volume_check

pytestmark = pytest.mark.slow

THROUGH = dt.date(2023, 7, 1)  # the demo landing's newest batch


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit_build")
    write_demo_landing(base / "landing", customers=200, months=6)
    settings = load_settings(
        {
            "RETENTION_LANDING_DIR": str(base / "landing"),
            "RETENTION_WAREHOUSE": str(base / "warehouse" / "retention.duckdb"),
            "RETENTION_STATE_DIR": str(base / "warehouse" / "state"),
            "RETENTION_MEMORY_LIMIT": "1GB",
            "RETENTION_THREADS": "2",
        }
    )
    plan = pipeline.stage_ingest(settings, None)
    pipeline.stage_build(settings, plan)
    pristine = base / "pristine.duckdb"
    shutil.copy(pipeline.run_build(settings, plan.run_id), pristine)
    return settings, pristine, base


def _unconstrained(con: duckdb.DuckDBPyConnection) -> None:
    """The marts rewritten without their contracts' constraints, which DuckDB would enforce on the updates
    below: the audit must catch a wrong mart however it came about (a table changed after dbt built it)."""
    for (table,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall():
        con.execute(f"create or replace table marts.{table} as select * from marts.{table}")


def _tampered(built, tmp_path: Path, *statements: str) -> Path:
    _, pristine, _ = built
    copy = tmp_path / "build.duckdb"
    shutil.copy(pristine, copy)
    con = duckdb.connect(str(copy))
    try:
        _unconstrained(con)
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return copy


def _audit(built, database: Path, through=THROUGH, checks=None, settings=None):
    settings = settings or built[0]
    run_id = f"t{dt.datetime.now().strftime('%H%M%S%f')}"
    return run_id, audit(settings, database, run_id, through, checks)


def _failure(built, database: Path, **kw) -> str:
    with pytest.raises(AuditFailed) as caught:
        _audit(built, database, **kw)
    return str(caught.value)


def _some(built, sql: str):
    con = duckdb.connect(str(built[1]), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def _set_aside(schema_table: str) -> list[str]:
    """Move a staged table aside (to NAME__orig), so that a tampered view of its name can read it."""
    table = schema_table.split(".")[1]
    return [f"alter table {schema_table} rename to {table}__orig"]


def test_the_untampered_build_passes_every_check(built, tmp_path):
    run_id, results = _audit(built, _tampered(built, tmp_path))
    status = {r.check_name: r.status for r in results}
    assert set(status) == {c.name for c in checks_for(built[0])}
    assert all(s == "passed" for s in status.values()), status
    kept = duckdb.sql(f"select count(*), count(distinct check_name) from '{history_file(built[0], run_id)}'").fetchall()
    assert kept == [(len(status), len(status))]


def test_file_rows_reconcile(built, tmp_path):
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("raw.manifest"),
        """
        create view raw.manifest as select * replace (
            case when batch_date = date '2023-04-01' and table_name = 'orders' then rows_read + 2 else rows_read end
            as rows_read) from raw.manifest__orig""",
    )
    message = _failure(built, db)
    assert "file_rows_reconcile failed" in message and "2023-04-01/orders.csv" in message


def test_lake_rows_match_manifest(built, tmp_path):
    victim = _some(built, "select min(order_id) from raw.orders where batch_date = date '2023-03-01'")
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("raw.orders"),
        f"create view raw.orders as select * from raw.orders__orig where order_id <> '{victim}'",
    )
    message = _failure(built, db)
    assert "lake_rows_match_manifest failed" in message and "2023-03-01 orders" in message


def test_duplicated_staged_order(built, tmp_path):
    victim = _some(built, "select min(order_id) from staging.stg_crm__orders")
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("staging.stg_crm__orders"),
        f"""
        create view staging.stg_crm__orders as select * from staging.stg_crm__orders__orig
        union all select * from staging.stg_crm__orders__orig where order_id = '{victim}'""",
    )
    message = _failure(built, db)
    assert "staged_orders_are_latest_distinct_keys failed" in message
    assert "staged_keys_unique failed" in message and f"duplicated: {victim}" in message


def test_lost_staged_customer(built, tmp_path):
    victim = _some(built, "select min(customer_id) from staging.stg_crm__orders where is_completed")
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("staging.stg_crm__customers"),
        f"create view staging.stg_crm__customers as select * from staging.stg_crm__customers__orig "
        f"where customer_id <> '{victim}'",
    )
    message = _failure(built, db)
    assert "staged_customers_are_latest_distinct_keys failed" in message
    assert f"customers missing from staging: {victim}:" in message  # the lost key is named
    assert "orders_with_known_customer" not in message  # a warning does not fail the audit


MART_TAMPERING = {
    "period_end_identity": (
        "update marts.period_retention set customers_end = customers_end + 1 "
        "where period_grain = 'month' and period_start = date '2023-04-01'",
        ["month 2023-04-01"],
        [],
    ),
    "period_start_identity": (
        "update marts.period_retention set churned_customers = churned_customers + 3 "
        "where period_grain = 'quarter' and period_start = date '2023-04-01'",
        ["quarter 2023-04-01"],
        ["period_end_identity"],
    ),
    # A wrong model that keeps both identities: one retained customer counted as reactivated, and one
    # more churned. E = N + retained + reactivated and S = retained + churned still hold; only the
    # customer-by-customer count sees it.
    "period_lifecycle_counts": (
        "update marts.period_retention set retained_customers = retained_customers - 1, "
        "reactivated_customers = reactivated_customers + 1, churned_customers = churned_customers + 1 "
        "where period_grain = 'month' and period_start = date '2023-04-01'",
        ["month 2023-04-01 churned_customers", "month 2023-04-01 reactivated_customers", "month 2023-04-01 retained_customers"],
        ["period_end_identity", "period_start_identity"],
    ),
    "cohort_sizes_add_up": (
        "update marts.cohort_retention set cohort_size = cohort_size + 1 where cohort_start = date '2023-03-01'",
        ["month cohorts"],
        [],
    ),
    "cohort_period_zero_is_full": (
        "update marts.cohort_retention set retention_rate = 0.5 where cohort_start = date '2023-02-01' and period_number = 0",
        ["month 2023-02-01: observed 0.5, expected 1"],
        [],
    ),
}


@pytest.mark.parametrize("check", sorted(MART_TAMPERING))
def test_a_tampered_mart_fails_its_check_and_names_the_rows(built, tmp_path, check):
    statement, named, untouched = MART_TAMPERING[check]
    message = _failure(built, _tampered(built, tmp_path, statement))
    assert f"{check} failed" in message
    assert all(text in message for text in named), message
    assert not any(other in message for other in untouched), message


def test_negative_amount(built, tmp_path):
    victim = _some(built, "select max(order_id) from staging.stg_crm__orders")
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("staging.stg_crm__orders"),
        f"""
        create view staging.stg_crm__orders as select * replace (
            case when order_id = '{victim}' then -5 else amount end as amount) from staging.stg_crm__orders__orig""",
    )
    message = _failure(built, db)
    assert "amounts_non_negative failed" in message and f"{victim} = -5" in message


def test_second_currency_is_named(built, tmp_path):
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("staging.stg_crm__orders"),
        """
        create view staging.stg_crm__orders as select * replace (
            case when order_id in (select order_id from staging.stg_crm__orders__orig where is_completed
                                   order by order_id limit 2) then 'EUR' else currency end as currency)
        from staging.stg_crm__orders__orig""",
    )
    message = _failure(built, db)
    assert "one_currency failed" in message and "EUR: 2 completed orders in a feed of USD (" in message
    assert message.count("/orders.csv line ") == 2  # each EUR order named with its batch, file and line


def test_unknown_customer_is_a_warning_with_a_count(built, tmp_path):
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("staging.stg_crm__orders"),
        """
        create view staging.stg_crm__orders as select * replace (
            case when order_id in (select order_id from staging.stg_crm__orders__orig where not is_completed
                                   order by order_id limit 3)
                 then 'C-GHOST' else customer_id end as customer_id)
        from staging.stg_crm__orders__orig""",
    )
    _, results = _audit(built, db)  # does not raise: severity warn
    [r] = [r for r in results if r.check_name == "orders_with_known_customer"]
    assert (r.status, r.severity, r.observed, r.expected) == ("warned", "warn", "3", "0")
    assert "(customer C-GHOST)" in r.details


def test_freshness(built, tmp_path):
    settings, db = built[0], _tampered(built, tmp_path)
    late = dt.date(2023, 8, 15)  # 45 days after the newest batch
    strict = settings.model_copy(update=dict(freshness_max_days=10, freshness_severity="fail"))
    message = _failure(built, db, through=late, settings=strict)
    assert "freshness failed" in message and "newest batch 2023-07-01 vs through date 2023-08-15" in message
    assert "observed 45 days, expected at most 10 days" in message
    _, results = _audit(built, db, through=late, settings=strict.model_copy(update=dict(freshness_severity="warn")))
    assert {r.check_name: r.status for r in results}["freshness"] == "warned"
    _, results = _audit(built, db, through=late, settings=strict.model_copy(update=dict(freshness_max_days=60)))
    assert {r.check_name: r.status for r in results}["freshness"] == "passed"
    _, results = _audit(built, db, through=None, settings=strict)  # no through date: skipped, counts as passed
    assert {r.check_name: r.status for r in results}["freshness"] == "skipped"


def test_volume(built, tmp_path):
    settings = built[0].model_copy(update=dict(volume_warn_ratio=3.0, volume_fail_ratio=6.0))
    db = _tampered(
        built,
        tmp_path,
        *_set_aside("raw.manifest"),
        """
        create view raw.manifest as select * replace (
            case when batch_date = date '2023-06-01' and table_name = 'orders' then rows_read * 4
                 when batch_date = date '2023-07-01' and table_name = 'customers' then rows_read * 10
                 else rows_read end as rows_read) from raw.manifest__orig""",
    )
    only = [volume_check(settings)]
    message = _failure(built, db, checks=only, settings=settings)
    assert "batch_volume failed" in message and "2023-07-01 customers: 350 rows" in message
    assert "2023-06-01 orders" not in message  # 4x: a warning, listed in the result, not the failure
    _, [r] = _audit(built, db, checks=[volume_check(settings.model_copy(update=dict(volume_fail_ratio=20.0)))], settings=settings)
    assert r.status == "warned" and "2023-06-01 orders: 332 rows" in r.details and "2023-07-01 customers" in r.details
    # only the batches a run loaded are judged
    [r] = audit(settings, db, "volume-judged", THROUGH, only, batches=["2023-05-01"])
    assert r.status == "passed" and r.rows_checked == 2


def test_a_wrong_query_or_an_empty_result_fails_by_name(built, tmp_path):
    db = _tampered(built, tmp_path)
    checks = [
        *checks_for(built[0]),
        Check("typo_check", "a query with a typo", "select key, observed, expected from marts.no_such_table"),
        Check("empty_check", "a query that finds nothing", "select 'k', 1, 1 where false"),
    ]
    message = _failure(built, db, checks=checks)
    assert "typo_check error: query failed" in message and "no_such_table" in message
    assert "empty_check error: no rows to check" in message


def test_unreadable_build_database(built, tmp_path):
    db = tmp_path / "build.duckdb"
    db.write_bytes(Path(built[1]).read_bytes()[:8192])  # truncated, as a crash mid-copy would leave it
    message = _failure(built, db)
    assert "could not open the build database" in message


def test_tampering_between_build_and_audit_stops_the_pipeline_before_publish(built, tmp_path):
    """The pipeline's own stages: a build tampered after dbt is caught by stage_audit, and the run
    (which publishes only after the audit returns) leaves the published file alone."""
    settings = built[0]
    plan = pipeline.stage_ingest(settings, None)
    assert plan.lake_state
    before = settings.warehouse.read_bytes() if settings.warehouse.exists() else None
    pipeline.stage_build(settings, plan)
    con = duckdb.connect(str(pipeline.run_build(settings, plan.run_id)))
    _unconstrained(con)
    con.execute("update marts.period_retention set new_customers = new_customers + 1 where period_grain = 'year'")
    con.close()
    with pytest.raises(AuditFailed, match="period_end_identity failed: year 2023-01-01"):
        pipeline.stage_audit(settings, plan)
    after = settings.warehouse.read_bytes() if settings.warehouse.exists() else None
    assert before == after
    kept = duckdb.sql(
        f"select status from '{history_file(settings, plan.run_id)}' where check_name = 'period_end_identity'"
    ).fetchall()
    assert kept == [("failed",)]
