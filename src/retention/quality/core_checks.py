"""The checks of docs/reference.md §5: every row read is loaded or quarantined, staging holds one latest version
of every key, the period and cohort identities, amounts, one currency, known customers; freshness and
batch volume, whose thresholds are settings."""

from __future__ import annotations

import datetime as dt

from ..config import Settings
from .check import JUDGED, THROUGH, Check, Severity

VOLUME_WINDOW = 6  # earlier batches whose median is a batch's baseline
VOLUME_MIN_HISTORY = 3  # batches with fewer earlier batches are not judged


def _staged_keys_check(entity: str, key: str) -> Check:
    """Staging keeps one latest version of every key the lake holds: no key lost, none invented."""
    model = f"staging.stg_crm__{entity}"

    def examples(keys: str) -> str:
        return f"(select string_agg({key}, ', ' order by {key}) from (select * from {keys} order by 1 limit 5))"

    return Check(
        f"staged_{entity}_are_latest_distinct_keys",
        f"Staged {entity} = distinct {key.removesuffix('_id')} ids of the loaded batches (one latest version each); "
        "names keys missing from staging or staged without a loaded row.",
        f"""with lake as (select distinct {key} from raw.{entity} where batch_date <= {THROUGH}),
                missing as (select {key} from lake except select {key} from {model}),
                unknown as (select {key} from {model} except select {key} from lake)
            select '{entity}' || coalesce(' missing from staging: ' || {examples("missing")}, '')
                   || coalesce(' staged but not loaded: ' || {examples("unknown")}, '') as key,
                   (select count(*) from {model}) as observed,
                   (select count(*) from lake) as expected""",
    )


CORE_CHECKS = [
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
    _staged_keys_check("orders", "order_id"),
    _staged_keys_check("customers", "customer_id"),
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
        "For every cohort grain, the cohort sizes add up to the distinct customers with a completed order.",
        """select cohort_grain || ' cohorts' as key, sum(cohort_size) as observed,
                  (select count(distinct customer_id) from staging.stg_crm__orders where is_completed) as expected
           from (select distinct cohort_grain, cohort_start, cohort_size from marts.cohort_retention)
           group by cohort_grain""",
    ),
    Check(
        "cohort_period_zero_is_full",
        "Period 0 of every cohort has retention 1.",
        """select cohort_grain || ' ' || cohort_start as key, retention_rate as observed, 1.0 as expected
           from marts.cohort_retention where period_number = 0""",
    ),
    Check(
        "staged_keys_unique",
        "Every staged order and customer has a key, and no key appears twice.",
        """select 'stg_crm__orders.order_id' || coalesce(' duplicated: ' || (
                      select string_agg(order_id, ', ' order by order_id) from (
                          select order_id from staging.stg_crm__orders group by 1 having count(*) > 1 limit 5)), '')
                  || coalesce(' null keys: ' || nullif((select count(*) from staging.stg_crm__orders
                                                        where order_id is null), 0), '') as key,
                  (select count(*) from staging.stg_crm__orders) as observed,
                  (select count(distinct order_id) from staging.stg_crm__orders) as expected
           union all
           select 'stg_crm__customers.customer_id' || coalesce(' duplicated: ' || (
                      select string_agg(customer_id, ', ' order by customer_id) from (
                          select customer_id from staging.stg_crm__customers group by 1 having count(*) > 1 limit 5)), '')
                  || coalesce(' null keys: ' || nullif((select count(*) from staging.stg_crm__customers
                                                        where customer_id is null), 0), ''),
                  (select count(*) from staging.stg_crm__customers),
                  (select count(distinct customer_id) from staging.stg_crm__customers)""",
    ),
    Check(
        "amounts_non_negative",
        "No staged order has a negative or missing amount, and no cohort has negative revenue.",
        """select 'stg_crm__orders.amount' || coalesce(' e.g. ' || (
                      select string_agg(order_id || ' = ' || coalesce(amount::varchar, 'NULL'), ', ') from (
                          select order_id, amount from staging.stg_crm__orders
                          where amount < 0 or amount is null order by order_id limit 5)), '') as key,
                  (select count(*) from staging.stg_crm__orders where amount < 0 or amount is null) as observed,
                  0 as expected
           union all
           select 'cohort_retention.revenue' || coalesce(' e.g. ' || (
                      select string_agg(cohort_start || ' k=' || period_number, ', ') from (
                          select cohort_start, period_number from marts.cohort_retention
                          where revenue < 0 order by 1, 2 limit 5)), ''),
                  (select count(*) from marts.cohort_retention where revenue < 0), 0""",
    ),
    Check(
        "one_currency",
        "The completed orders feeding the marts carry one currency (there is no conversion yet); "
        "each other currency is named with its orders, batch, file and line.",
        """with orders as (select order_id, source_file, source_line, coalesce(currency, '(none)') as currency
                           from staging.stg_crm__orders where is_completed),
                counts as (select currency, count(*) as n from orders group by 1),
                main as (select currency, n from counts order by n desc, currency limit 1)
           select c.currency || ': ' || c.n || ' completed orders in a feed of ' || m.currency || ' (' || m.n
                      || '), e.g. ' || (select string_agg('order ' || o.order_id || ' (' || o.source_file || ' line '
                                                          || o.source_line || ')', ', ' order by o.source_file, o.source_line)
                                        from (select * from orders o where o.currency = c.currency
                                              order by source_file, source_line limit 5) o) as key,
                  c.n as observed, 0 as expected
           from counts c cross join main m where c.currency <> m.currency
           union all  -- one row when every completed order is in one currency, so that the check is evaluated
           select 'one currency: ' || coalesce((select currency || ' (' || n || ' completed orders)' from main),
                                               'no completed orders'), 0, 0
           where (select count(*) from counts) <= 1""",
    ),
    Check(
        "orders_with_known_customer",
        "Every staged order's customer is a staged customer (reported, does not stop the publish).",
        """with unknown as (select o.order_id, o.customer_id from staging.stg_crm__orders o
                            anti join staging.stg_crm__customers c using (customer_id))
           select 'orders whose customer is unknown' || coalesce(' e.g. ' || (
                      select string_agg(order_id || ' (customer ' || coalesce(customer_id, 'NULL') || ')', ', ')
                      from (select * from unknown order by order_id limit 5)), '') as key,
                  (select count(*) from unknown) as observed, 0 as expected""",
        severity=Severity.WARN,
    ),
]


FRESHNESS_ADVICE = (
    "check that the CRM export still runs and lands in RETENTION_LANDING_DIR (or raise RETENTION_FRESHNESS_MAX_DAYS)"
)


def freshness_check(settings: Settings, reference: dt.date | None = None, label: str = "through date") -> Check:
    """The newest batch vs `reference`: the run's through date, else the day the run started in
    RETENTION_TIMEZONE (see pipeline.reference_date). Without either it needs the through date."""
    days = settings.freshness_max_days
    ref = f"date '{reference.isoformat()}'" if reference else THROUGH
    return Check(
        "freshness",
        f"The newest batch is at most {days} days older than the run's through date, or than the day the run "
        f"started ({settings.timezone}) when it has none (RETENTION_FRESHNESS_MAX_DAYS).",
        f"""select 'newest batch ' || coalesce(max(batch_date)::varchar, 'none') || ' vs {label} ' || {ref} as key,
                   coalesce(date_diff('day', max(batch_date), {ref}), 1e9) as observed,
                   {days} as expected
            from raw.manifest where batch_date <= {ref}""",
        severity=Severity(settings.freshness_severity),
        compare="at_most",
        needs_through=reference is None,
        skip_reason=None if days > 0 else "turned off (RETENTION_FRESHNESS_MAX_DAYS=0)",
        unit="days",
        advice=FRESHNESS_ADVICE,
    )


def volume_check(settings: Settings) -> Check:
    warn, fail = settings.volume_warn_ratio, settings.volume_fail_ratio
    limit = warn if warn > 0 else fail
    return Check(
        "batch_volume",
        f"Each export file's rows are within a factor of {limit:g} of the median of the "
        f"{VOLUME_WINDOW} batches before it (RETENTION_VOLUME_WARN_RATIO {warn:g}: warn; "
        f"RETENTION_VOLUME_FAIL_RATIO {fail:g}: fail; 0 = off). Batches with fewer than "
        f"{VOLUME_MIN_HISTORY} earlier batches are not judged.",
        f"""with files as (
                select batch_date, table_name, rows_read from raw.manifest
                where present and batch_date <= {THROUGH}),
            history as (
                select *,
                       median(rows_read) over w as baseline,
                       count(*) over w as earlier
                from files
                window w as (partition by table_name order by batch_date
                             rows between {VOLUME_WINDOW} preceding and 1 preceding))
            select batch_date || ' ' || table_name || ': ' || rows_read || ' rows vs median '
                       || baseline || ' of the ' || earlier || ' batches before' as key,
                   greatest(greatest(rows_read, 1) / greatest(baseline, 1),
                            greatest(baseline, 1) / greatest(rows_read, 1)) as observed,
                   {limit} as expected
            from history where earlier >= {VOLUME_MIN_HISTORY} and {JUDGED}
            union all  -- one row when there is nothing to judge, so that the check is still evaluated
            select 'no batch of this run has {VOLUME_MIN_HISTORY} earlier batches to compare with', 1, {limit}
            where not exists (select 1 from history where earlier >= {VOLUME_MIN_HISTORY} and {JUDGED})""",
        severity=Severity.WARN if warn > 0 else Severity.FAIL,
        unit="times",
        advice="look at the batch's export (partial or doubled?); the limits are RETENTION_VOLUME_WARN_RATIO and _FAIL_RATIO",
        compare="at_most",
        fail_above=fail if (warn > 0 and fail > 0) else None,
        skip_reason=None if limit > 0 else "turned off (RETENTION_VOLUME_WARN_RATIO=0 and RETENTION_VOLUME_FAIL_RATIO=0)",
    )
