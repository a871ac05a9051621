"""The data-quality checks (contract §5 and more): small tables of observed vs expected values.

Each check is a query over the build database returning rows `(key, observed, expected)`. An
`equal` check passes when every row has observed = expected; an `at_most` check when every row has
observed <= expected (a threshold). A check that returns no rows, whose query fails, or that
great-expectations did not evaluate counts as failed ("error"). The queries stay small (one row per
file, batch, period or cohort), so great-expectations validates them as dataframes — its SQL route
does not evaluate on DuckDB 2.

The `key` column says which rows are at fault, in words (batch and file, period, cohort, the
currencies found, example order ids).

Freshness needs a reference date: the run's through date (`retention run --through`, the DAG's
logical date), else the day the run started in RETENTION_TIMEZONE, so that a plain `retention run`
from cron flags a feed that stopped too. RETENTION_FRESHNESS_MAX_DAYS=0 (or volume ratios of 0) turn a check
off the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..config import Settings
from ..sql import sql_text


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str
    severity: str = "fail"  # "fail" stops the publish; "warn" is reported and kept
    compare: str = "equal"  # "equal": observed = expected; "at_most": observed <= expected
    fail_above: float | None = None  # at_most, severity warn: rows with observed above this fail
    needs_through: bool = False  # skipped (passed) when the run has no through date
    skip_reason: str | None = None  # set: not evaluated this run, recorded as skipped
    unit: str = ""  # of observed and expected, said with them ("days", "times the median")
    advice: str = ""  # what to do when it fails or warns, appended to its details


THROUGH = "{through}"  # replaced by the run's through date, a date literal
JUDGED = "{judged_batches}"  # replaced by a condition on batch_date: the batches this run loaded
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
        severity="warn",
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
        severity=settings.freshness_severity,
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
        severity="warn" if warn > 0 else "fail",
        unit="times",
        advice="look at the batch's export (partial or doubled?); the limits are RETENTION_VOLUME_WARN_RATIO and _FAIL_RATIO",
        compare="at_most",
        fail_above=fail if (warn > 0 and fail > 0) else None,
        skip_reason=None if limit > 0 else "turned off (RETENTION_VOLUME_WARN_RATIO=0 and RETENTION_VOLUME_FAIL_RATIO=0)",
    )


# Lifecycle states counted customer by customer, independently of marts.period_retention: straight from
# the completed staged orders, on the calendar of RETENTION_TIMEZONE, each customer's state in a period
# decided by its own previous active period. The mart derives reactivated and churned as differences
# (E - N - retained, S - retained), so period_end_identity and period_start_identity hold for whatever
# the model counts; this check is the one that can catch a wrong count.
CONTRACT_GRAINS = ("month", "quarter", "year")


def _period_shift(grain: str, start: str, sign: str) -> str:
    """The start of the period after (sign '+') or before ('-') the period of `grain` starting at `start`."""
    steps = {"week": "7 day", "month": "1 month", "quarter": "3 month", "year": "1 year"}
    cases = " ".join(f"when '{g}' then {start} {sign} interval {step}" for g, step in steps.items())
    return f"cast(case {grain} {cases} end as date)"


def customer_lifecycle_sql(timezone: str) -> str:
    """One row per (period_grain, period_start, customer_id, lifecycle_state) over the build database:
    state `new` (first active period ever), `retained` (active in the period before too), `reactivated`
    (active before, but not in the period before), all three active in the period; `churned` (active in
    the period before, not in this one). Periods run to the latest period with a completed order of
    the grain. (The drill-down model marts.customer_lifecycle is meant to be this query.)"""
    return f"""
        with completed as (
            select customer_id, (ordered_at at time zone 'UTC') at time zone {sql_text(timezone)} as ordered_at_local
            from staging.stg_crm__orders
            where is_completed
        ),
        grains as (
            select unnest([{", ".join(f"'{g}'" for g in CONTRACT_GRAINS)}]) as period_grain
            union select distinct period_grain from marts.period_retention
        ),
        active as (
            select distinct grains.period_grain,
                   cast(date_trunc(grains.period_grain, completed.ordered_at_local) as date) as period_start,
                   completed.customer_id
            from completed cross join grains
        ),
        history as (
            select period_grain, period_start, customer_id,
                   lag(period_start) over customer_periods as previous_active_start,
                   lead(period_start) over customer_periods as next_active_start,
                   {_period_shift("period_grain", "period_start", "-")} as period_before_start,
                   {_period_shift("period_grain", "period_start", "+")} as period_after_start,
                   max(period_start) over (partition by period_grain) as last_period_start
            from active
            window customer_periods as (partition by period_grain, customer_id order by period_start)
        )
        select period_grain, period_start, customer_id,
               case when previous_active_start is null then 'new'
                    when previous_active_start = period_before_start then 'retained'
                    else 'reactivated' end as lifecycle_state
        from history
        union all
        select period_grain, period_after_start, customer_id, 'churned'
        from history
        where next_active_start is distinct from period_after_start and period_after_start <= last_period_start"""


def lifecycle_check(settings: Settings) -> Check:
    counted = customer_lifecycle_sql(settings.timezone)
    return Check(
        "period_lifecycle_counts",
        "For every period: S, E, new, retained, reactivated and churned of marts.period_retention equal the "
        "customers counted one by one from the completed orders, each by its own previous active period.",
        f"""with lifecycle as ({counted}),
            expected as (
                select period_grain, period_start, lifecycle_state || '_customers' as measure, count(*) as n
                from lifecycle group by all
                union all
                select period_grain, period_start, 'customers_end', count(*)
                from lifecycle where lifecycle_state <> 'churned' group by all
                union all  -- S(P): the customers active in the period before P, retained in P or churned in P
                select period_grain, period_start, 'customers_start', count(*)
                from lifecycle where lifecycle_state in ('retained', 'churned') group by all
            ),
            observed as (
                unpivot marts.period_retention
                on customers_start, customers_end, new_customers, retained_customers, reactivated_customers,
                   churned_customers
                into name measure value n
            )
            select coalesce(o.period_grain, e.period_grain) || ' ' || coalesce(o.period_start, e.period_start) || ' '
                       || coalesce(o.measure, e.measure) || case when o.n is null then ' (no row in the mart)' else '' end
                       as key,
                   o.n as observed, coalesce(e.n, 0) as expected
            from observed o
            full join expected e
                on e.period_grain = o.period_grain and e.period_start = o.period_start and e.measure = o.measure
            order by 1""",
    )


def checks_for(settings: Settings, reference: dt.date | None = None, label: str = "through date") -> list[Check]:
    """Every check of a run: the fixed ones and those whose thresholds come from the settings
    (`reference`: the date freshness is judged against)."""
    return [*CHECKS, lifecycle_check(settings), freshness_check(settings, reference, label), volume_check(settings)]


# The analytics marts (contract §4.2–§4.4 and marts.customer_lifecycle): each row names the period,
# cohort or segment at fault. Per-cohort checks count the offending cells (observed) against 0 and
# name the first of them, so the tables stay one row per cohort.
CHECKS += [
    Check(
        "lifecycle_counts_match_period_retention",
        "For every period and state: the customers of marts.customer_lifecycle in that state equal "
        "new, retained, reactivated and churned customers of marts.period_retention.",
        """with lifecycle as (
                select period_grain, period_start, lifecycle_state, count(*) as n
                from marts.customer_lifecycle group by all),
            totals as (
                select period_grain, period_start, 'new' as lifecycle_state, new_customers as n
                from marts.period_retention
                union all select period_grain, period_start, 'retained', retained_customers from marts.period_retention
                union all select period_grain, period_start, 'reactivated', reactivated_customers
                from marts.period_retention
                union all select period_grain, period_start, 'churned', churned_customers from marts.period_retention)
            select totals.period_grain || ' ' || totals.period_start || ' ' || totals.lifecycle_state as key,
                   coalesce(lifecycle.n, 0) as observed, totals.n as expected
            from totals left join lifecycle using (period_grain, period_start, lifecycle_state)
            union all  -- lifecycle rows in a period the period mart does not have
            select lifecycle.period_grain || ' ' || lifecycle.period_start || ' ' || lifecycle.lifecycle_state
                       || ' (not a period of period_retention)', lifecycle.n, 0
            from lifecycle anti join totals using (period_grain, period_start, lifecycle_state)""",
    ),
    Check(
        "segment_rows_add_up_to_totals",
        "For every segment type and every period or cohort cell: the count and revenue columns of the "
        "segment marts add up to the overall marts (observed: the sum of the absolute differences).",
        """with period_sums as (
                select segment_type, period_grain, period_start,
                       sum(customers_start) as s, sum(customers_end) as e, sum(new_customers) as n,
                       sum(retained_customers) as r, sum(reactivated_customers) as a, sum(churned_customers) as c
                from marts.period_retention_by_segment group by all),
            cohort_sums as (
                select segment_type, cohort_grain, cohort_start, period_number, sum(cohort_size) as size,
                       sum(active_customers) as active, sum(unbounded_active_customers) as unbounded,
                       sum(revenue) as revenue
                from marts.cohort_retention_by_segment group by all),
            types as (select 'channel' as segment_type union all select 'region')
            select 'period_retention_by_segment ' || types.segment_type || ' ' || p.period_grain || ' '
                       || p.period_start as key,
                   abs(coalesce(x.s, 0) - p.customers_start) + abs(coalesce(x.e, 0) - p.customers_end)
                   + abs(coalesce(x.n, 0) - p.new_customers) + abs(coalesce(x.r, 0) - p.retained_customers)
                   + abs(coalesce(x.a, 0) - p.reactivated_customers) + abs(coalesce(x.c, 0) - p.churned_customers)
                       as observed,
                   0 as expected
            from marts.period_retention p cross join types
            left join period_sums x on x.segment_type = types.segment_type and x.period_grain = p.period_grain
                and x.period_start = p.period_start
            union all
            select 'cohort_retention_by_segment ' || types.segment_type || ' month ' || c.cohort_start
                       || ' k=' || c.period_number,
                   abs(coalesce(x.size, 0) - c.cohort_size) + abs(coalesce(x.active, 0) - c.active_customers)
                   + abs(coalesce(x.unbounded, 0) - c.unbounded_active_customers)
                   + abs(coalesce(x.revenue, 0) - c.revenue),
                   0
            from marts.cohort_retention c cross join types
            left join cohort_sums x on x.segment_type = types.segment_type and x.cohort_grain = c.cohort_grain
                and x.cohort_start = c.cohort_start and x.period_number = c.period_number
            where c.cohort_grain = 'month'""",
    ),
    Check(
        "gross_revenue_retention_at_most_net_and_one",
        "For every period with revenue at its start: GRR <= min(NRR, 1).",
        """select period_grain || ' ' || period_start || ': GRR ' || gross_revenue_retention || ', NRR '
                      || net_revenue_retention as key,
                  gross_revenue_retention as observed, least(net_revenue_retention, 1.0) as expected
           from marts.period_retention where revenue_start > 0
           union all  -- one row when no period has revenue at its start, so that the check is still evaluated
           select 'no period has revenue at its start', 0, 0
           where not exists (select 1 from marts.period_retention where revenue_start > 0)""",
        compare="at_most",
    ),
    Check(
        "unbounded_active_covers_active_and_never_rises",
        "For every cohort: unbounded active >= active in every period, and it never rises with k (observed: offending cells).",
        """with cells as (
                select cohort_grain, cohort_start, period_number, active_customers, unbounded_active_customers,
                       lag(unbounded_active_customers) over (partition by cohort_grain, cohort_start
                                                             order by period_number) as previous_unbounded
                from marts.cohort_retention),
            judged as (
                select *, unbounded_active_customers < active_customers
                          or unbounded_active_customers > previous_unbounded as bad from cells)
            select cohort_grain || ' ' || cohort_start
                       || coalesce(' first at k=' || min(case when bad then period_number end), '') as key,
                   count(*) filter (where bad) as observed, 0 as expected
            from judged group by cohort_grain, cohort_start""",
    ),
    Check(
        "cumulative_revenue_never_falls",
        "For every cohort: cumulative revenue never falls from one period to the next (observed: offending cells).",
        """with cells as (
                select cohort_grain, cohort_start, period_number, cumulative_revenue,
                       lag(cumulative_revenue) over (partition by cohort_grain, cohort_start
                                                     order by period_number) as previous_cumulative
                from marts.cohort_retention)
            select cohort_grain || ' ' || cohort_start
                       || coalesce(' first at k=' || min(case when cumulative_revenue < previous_cumulative
                                                              then period_number end), '') as key,
                   count(*) filter (where cumulative_revenue < previous_cumulative) as observed, 0 as expected
            from cells group by cohort_grain, cohort_start""",
    ),
    Check(
        "rolling_counts_within_cohort",
        "For every monthly cohort of marts.rolling_retention: returned <= eligible <= cohort size in every "
        "window (observed: offending windows).",
        """select cohort_grain || ' ' || cohort_start
                      || coalesce(' windows ' || string_agg(case when not (returned_customers <= eligible_customers
                                                                           and eligible_customers <= cohort_size)
                                                                 then day_window::varchar end, ', '), '') as key,
                  count(*) filter (where not (returned_customers <= eligible_customers
                                              and eligible_customers <= cohort_size)) as observed,
                  0 as expected
           from marts.rolling_retention group by cohort_grain, cohort_start""",
    ),
    Check(
        "cohort_revenue_is_all_completed_revenue",
        "For every cohort grain: the cohorts' revenue adds up to the revenue of all completed orders "
        "(observed: the difference; at most half a cent per cell, the rounding of the cells).",
        """with totals as (select cohort_grain, sum(revenue) as revenue, count(*) as cells
                           from marts.cohort_retention group by cohort_grain)
           select totals.cohort_grain || ' cohorts: ' || totals.revenue || ' vs ' || completed.revenue as key,
                  abs(totals.revenue - completed.revenue) as observed, 0.005 * totals.cells as expected
           from totals
           cross join (select coalesce(sum(amount), 0) as revenue
                       from staging.stg_crm__orders where is_completed) as completed""",
        compare="at_most",
    ),
]


def _customers_breaking(label: str, condition: str) -> str:
    """One row: the customers of marts.customers breaking `condition`, counted against 0, the key
    `label` with up to five example ids."""
    return f"""select '{label}' || coalesce(': e.g. ' || string_agg(customer_id, ', ') filter (where rank_in_list <= 5), '')
                          as key,
                      count(*) as observed, 0 as expected
               from (select customer_id, row_number() over (order by customer_id) as rank_in_list
                     from marts.customers where {condition})"""


# whether a lifetime-value model's columns must be there: its fit is usable
_USABLE = "coalesce((select bool_and(is_usable) from marts.clv_model where model = '{model}'), false)"

# Customers and lifetime value (contract §4.5, §4.6): four checks, one row per rule, so that the
# run's summary stays one screen.
CHECKS += [
    Check(
        "clv_fit_is_usable",
        "For each lifetime-value model (bg_nbd, gamma_gamma): the maximum-likelihood fit converged and its "
        "parameters are in the model's domain (all finite and > 0; Gamma-Gamma q > 1), unless the data do not "
        "identify the model (clv_fit_is_identified warns then). Observed 1 = usable.",
        """with models as (select model from (values ('bg_nbd'), ('gamma_gamma')) as listed (model)),
                judged as (
                    select model,
                           bool_and(is_usable) as converged,
                           bool_and(is_identified) as identified,
                           bool_and(isfinite(value) and value > 0) as positive,
                           max(case when parameter = 'q' then value end) as q,
                           max(fit_problem) as problem
                    from marts.clv_model group by model)
           select models.model || coalesce(': ' || judged.problem, '')
                      || case when judged.model is null then ': no parameters in marts.clv_model'
                              when not judged.identified then ' (not identified: see clv_fit_is_identified)'
                              when not judged.positive then ': a parameter is not finite and > 0'
                              when models.model = 'gamma_gamma' and not judged.q > 1 then ': q <= 1 (no finite mean spend)'
                              else '' end as key,
                  case when not judged.identified then 1
                       when judged.converged and judged.positive and (models.model <> 'gamma_gamma' or judged.q > 1)
                       then 1 else 0 end as observed,
                  1 as expected
           from models left join judged using (model)""",
        advice="the marts' p_alive and expected values are NULL; see fit_problem in marts.clv_model",
    ),
    Check(
        "clv_fit_is_identified",
        "A warning: the data identify each lifetime-value model (someone to fit, no parameter heading for the "
        "edge of the parameter space), and the backtest's refit is usable. Too few or too uniform customers "
        "leave a model's columns NULL, not wrong. Observed 1 = identified.",
        """select model || coalesce(': ' || max(fit_problem), '') as key,
                  min(case when is_identified then 1 else 0 end) as observed, 1 as expected
           from marts.clv_model group by model
           union all
           select 'backtest ' || coalesce(min(calibration_end_date)::varchar || ' + ' || min(holdout_days) || ' days',
                                          'not run (history under three days)'),
                  coalesce(min(case when is_usable then 1 else 0 end), 1), 1
           from marts.clv_backtest""",
        severity="warn",
    ),
    Check(
        "customer_lifetime_values_in_range",
        "Every customer with a completed order has p_alive in [0, 1] (when the BG/NBD is usable), and "
        "expected_purchases (BG/NBD), expected_order_value (Gamma-Gamma) and expected_value (both) >= 0; "
        "none of them without a completed order (observed: customers breaking each rule).",
        _customers_breaking(
            "p_alive",
            f"""case when p_alive is not null then completed_orders = 0 or not p_alive between 0 and 1
                    else completed_orders > 0 and {_USABLE.format(model="bg_nbd")} end""",
        )
        + "\nunion all\n"
        + _customers_breaking(
            "expected values",
            f"""case when completed_orders = 0
                    then coalesce(expected_purchases, expected_order_value, expected_value) is not null
                    else coalesce(expected_purchases < 0 or expected_order_value < 0 or expected_value < 0, false)
                         or (expected_purchases is null and {_USABLE.format(model="bg_nbd")})
                         or (expected_order_value is null and {_USABLE.format(model="gamma_gamma")})
                         or (expected_value is null and expected_purchases is not null
                             and expected_order_value is not null) end""",
        ),
    ),
    Check(
        "customers_add_up",
        "marts.customers: every customer with a completed order has the three RFM scores in 1..5 and a "
        "segment, none without one (observed: customers breaking this); the customers' revenue is the "
        "revenue of all completed orders (observed: the difference beyond half a cent per customer, the "
        "rounding of each); customers with a completed order = the sum of the monthly cohort sizes.",
        _customers_breaking(
            "RFM scores",
            """case when completed_orders > 0
                    then not coalesce(rfm_recency_score between 1 and 5 and rfm_frequency_score between 1 and 5
                                      and rfm_monetary_score between 1 and 5 and rfm_segment is not null, false)
                    else coalesce(rfm_recency_score, rfm_frequency_score, rfm_monetary_score) is not null
                         or rfm_segment is not null end""",
        )
        + """
           union all
           select 'revenue: customers ' || customers.revenue || ' vs completed orders ' || completed.revenue,
                  case when abs(customers.revenue - completed.revenue) <= 0.005 * customers.n then 0
                       else abs(customers.revenue - completed.revenue) end,
                  0
           from (select coalesce(sum(revenue), 0) as revenue, count(*) as n from marts.customers) as customers
           cross join (select coalesce(sum(amount), 0) as revenue
                       from staging.stg_crm__orders where is_completed) as completed
           union all
           select 'customers with a completed order vs monthly cohort sizes',
                  (select count(*) from marts.customers where completed_orders > 0),
                  (select coalesce(sum(cohort_size), 0) from marts.cohort_retention
                   where cohort_grain = 'month' and period_number = 0)""",
    ),
]
