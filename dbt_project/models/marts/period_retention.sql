{#- Contract §4: S, E, N, retained per period; the seed rate (E - N) / S and the strict rate retained / S. -#}
with

periods as (

    select * from {{ ref('int_periods_spined') }}

),

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

),

first_periods as (

    select
        period_grain,
        customer_id,
        min(period_start) as first_period_start
    from activity
    group by 1, 2

),

active_counts as (

    select
        period_grain,
        period_start,
        count(*) as active_customers
    from activity
    group by 1, 2

),

new_counts as (

    select
        period_grain,
        first_period_start as period_start,
        count(*) as new_customers
    from first_periods
    group by 1, 2

),

retained_counts as (

    select
        periods.period_grain,
        periods.period_start,
        count(*) as retained_customers
    from periods
    inner join activity as current_activity
        on current_activity.period_grain = periods.period_grain
        and current_activity.period_start = periods.period_start
    inner join activity as previous_activity
        on previous_activity.period_grain = periods.period_grain
        and previous_activity.period_start = periods.previous_period_start
        and previous_activity.customer_id = current_activity.customer_id
    group by 1, 2

),

counted as (

    select
        periods.period_grain,
        periods.period_start,
        coalesce(previous_counts.active_customers, 0) as customers_start,
        coalesce(current_counts.active_customers, 0) as customers_end,
        coalesce(new_counts.new_customers, 0) as new_customers,
        coalesce(retained_counts.retained_customers, 0) as retained_customers
    from periods
    left join active_counts as current_counts
        on current_counts.period_grain = periods.period_grain
        and current_counts.period_start = periods.period_start
    left join active_counts as previous_counts
        on previous_counts.period_grain = periods.period_grain
        and previous_counts.period_start = periods.previous_period_start
    left join new_counts
        on new_counts.period_grain = periods.period_grain
        and new_counts.period_start = periods.period_start
    left join retained_counts
        on retained_counts.period_grain = periods.period_grain
        and retained_counts.period_start = periods.period_start

)

select
    cast(period_grain as varchar) as period_grain,
    cast(period_start as date) as period_start,
    cast(customers_start as bigint) as customers_start,
    cast(customers_end as bigint) as customers_end,
    cast(new_customers as bigint) as new_customers,
    cast(retained_customers as bigint) as retained_customers,
    cast(customers_end - new_customers - retained_customers as bigint) as reactivated_customers,
    cast(customers_start - retained_customers as bigint) as churned_customers,
    case
        when customers_start > 0
            then cast(customers_end - new_customers as double) / customers_start
    end as retention_rate,
    case
        when customers_start > 0
            then cast(retained_customers as double) / customers_start
    end as strict_retention_rate
from counted
