"""The checks of the analytics marts: lifecycle counts, segment sums, revenue retention bounds, cohort
curves, rolling windows, cohort revenue."""

from __future__ import annotations

from .check import Check

# The analytics marts (docs/reference.md §4.2–§4.4, marts.customer_lifecycle included): each row names the period,
# cohort or segment at fault. Per-cohort checks count the offending cells (observed) against 0 and
# name the first of them, so the tables stay one row per cohort.
ANALYTICS_CHECKS = [
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
