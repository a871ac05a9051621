"""Lifecycle states counted customer by customer, the check that can catch a wrong period mart."""

from __future__ import annotations

from ..config import Settings
from ..sql import sql_text
from .check import Check

# Counted independently of marts.period_retention: straight from
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
