"""The reconciliation checks (contract §5): small tables of observed vs expected values.

Each check is a query over the build database returning rows `(key, observed, expected)`; a check
passes when every row has observed = expected, and a check that returns no rows could not be
evaluated, which counts as a failure. The queries stay small (one row per file, period or cohort),
so great-expectations validates them as dataframes — its SQL route does not evaluate on DuckDB 2.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str
    severity: str = "fail"  # "fail" stops the publish; "warn" is reported and kept


THROUGH = "{through}"  # replaced by the run's through date, a date literal

CHECKS = [
    Check(
        "file_rows_reconcile",
        "For every export file: rows read = rows loaded + rows quarantined.",
        f"""select batch_date || '/' || file_name as key, rows_loaded + rows_quarantined as observed,
                   rows_read as expected
            from raw.manifest where batch_date <= {THROUGH}""",
    ),
    Check(
        "lake_rows_match_manifest",
        "For every export file: the rows in the lake (loaded and quarantined) are the manifest's.",
        f"""with lake as (
                select batch_date, 'customers' as table_name, count(*) as n from raw.customers group by all
                union all select batch_date, 'orders', count(*) from raw.orders group by all
                union all select batch_date, table_name || ' quarantined', count(*) from raw.quarantine group by all
            ),
            manifest as (
                select batch_date, table_name, rows_loaded as n from raw.manifest
                union all select batch_date, table_name || ' quarantined', rows_quarantined from raw.manifest
            )
            select manifest.batch_date || ' ' || manifest.table_name as key, coalesce(lake.n, 0) as observed,
                   manifest.n as expected
            from manifest left join lake using (batch_date, table_name)
            where manifest.batch_date <= {THROUGH}""",
    ),
    Check(
        "staged_orders_are_latest_distinct_keys",
        "Staged orders = distinct order ids of the loaded batches (one latest version each).",
        f"""select 'orders' as key, (select count(*) from staging.stg_crm__orders) as observed,
                   (select count(distinct order_id) from raw.orders where batch_date <= {THROUGH}) as expected""",
    ),
    Check(
        "staged_customers_are_latest_distinct_keys",
        "Staged customers = distinct customer ids of the loaded batches (one latest version each).",
        f"""select 'customers' as key, (select count(*) from staging.stg_crm__customers) as observed,
                   (select count(distinct customer_id) from raw.customers where batch_date <= {THROUGH}) as expected""",
    ),
    Check(
        "period_end_identity",
        "For every period: E = N + retained + reactivated.",
        """select period_grain || ' ' || period_start as key, customers_end as observed,
                  new_customers + retained_customers + reactivated_customers as expected
           from marts.period_retention""",
    ),
    Check(
        "period_start_identity",
        "For every period: S = retained + churned, and S is E of the period before.",
        """select p.period_grain || ' ' || p.period_start as key, p.customers_start as observed,
                  p.retained_customers + p.churned_customers as expected
           from marts.period_retention p
           union all
           select p.period_grain || ' ' || p.period_start || ' vs previous', p.customers_start,
                  coalesce(prev.customers_end, 0)
           from marts.period_retention p
           left join marts.period_retention prev on prev.period_grain = p.period_grain
               and prev.period_start = (select max(period_start) from marts.period_retention x
                                        where x.period_grain = p.period_grain and x.period_start < p.period_start)""",
    ),
    Check(
        "cohort_sizes_add_up",
        "The cohort sizes add up to the distinct customers with a completed order.",
        """select 'all cohorts' as key,
                  (select sum(cohort_size) from (select distinct cohort_start, cohort_size
                                                 from marts.cohort_retention)) as observed,
                  (select count(distinct customer_id) from staging.stg_crm__orders where is_completed) as expected
          """,
    ),
    Check(
        "cohort_period_zero_is_full",
        "Period 0 of every cohort has retention 1.",
        """select cohort_grain || ' ' || cohort_start as key, retention_rate as observed, 1.0 as expected
           from marts.cohort_retention where period_number = 0""",
    ),
]
