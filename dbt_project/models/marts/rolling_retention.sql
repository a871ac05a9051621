{#- docs/reference.md §4.3: N-day retention of the monthly cohorts, in 24-hour steps from the UTC instant t0 of
    each member's first completed order. A member is eligible once t0 + N days is at or before the
    as-of instant (00:00 of the as-of date in RETENTION_TIMEZONE); it returned when it has another
    completed order at t with t0 < t <= t0 + N days. -#}
with

members as (

    select * from {{ ref('int_customers_assigned_to_cohorts') }}
    where cohort_grain = 'month'

),

completed_orders as (

    select * from {{ ref('int_orders_filtered_to_completed') }}

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

),

first_orders as (

    select
        customer_id,
        min(ordered_at) as first_ordered_at
    from completed_orders
    group by 1

),

first_returns as (

    select
        completed_orders.customer_id,
        min(completed_orders.ordered_at) as returned_at
    from completed_orders
    inner join first_orders
        on first_orders.customer_id = completed_orders.customer_id
        and first_orders.first_ordered_at < completed_orders.ordered_at
    group by 1

),

day_windows as (

    {% for days in var('day_windows') %}
    select {{ days }} as day_window
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

measured as (

    select
        members.cohort_grain,
        members.cohort_start,
        day_windows.day_window,
        first_returns.returned_at,
        as_of.as_of_at,
        {{ dbt.dateadd('day', 'day_windows.day_window', 'first_orders.first_ordered_at') }} as window_end_at
    from members
    inner join first_orders on first_orders.customer_id = members.customer_id
    left join first_returns on first_returns.customer_id = members.customer_id
    cross join day_windows
    cross join as_of

),

counted as (

    select
        cohort_grain,
        cohort_start,
        day_window,
        count(*) as cohort_size,
        sum(case when window_end_at <= as_of_at then 1 else 0 end) as eligible_customers,
        sum(case when window_end_at <= as_of_at and returned_at <= window_end_at then 1 else 0 end)
            as returned_customers
    from measured
    group by 1, 2, 3

)

select
    cast(cohort_grain as varchar) as cohort_grain,
    cast(cohort_start as date) as cohort_start,
    cast(day_window as integer) as day_window,
    cast(cohort_size as bigint) as cohort_size,
    cast(eligible_customers as bigint) as eligible_customers,
    cast(returned_customers as bigint) as returned_customers,
    case
        when eligible_customers > 0
            then cast(returned_customers as double) / eligible_customers
    end as retention_rate
from counted
