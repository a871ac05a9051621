{#- Contract §4 and §4.2, per segment value (segment_type `all` = every customer): S, E, N, retained,
    and the revenue retained from the S customers, for every period of the spine. -#}
with

periods as (

    select * from {{ ref('int_periods_spined') }}

),

segments as (

    select * from {{ ref('int_customers_assigned_to_segments') }}

),

activity as (

    select
        segments.segment_type,
        segments.segment_value,
        customer_activity.period_grain,
        customer_activity.period_start,
        customer_activity.customer_id,
        customer_activity.revenue
    from {{ ref('int_customer_activity_by_period') }} as customer_activity
    inner join segments on segments.customer_id = customer_activity.customer_id

),

segment_values as (

    select distinct
        segment_type,
        segment_value
    from segments

),

first_periods as (

    select
        segment_type,
        segment_value,
        period_grain,
        customer_id,
        min(period_start) as first_period_start
    from activity
    group by 1, 2, 3, 4

),

active_totals as (

    select
        segment_type,
        segment_value,
        period_grain,
        period_start,
        count(*) as active_customers,
        sum(revenue) as revenue
    from activity
    group by 1, 2, 3, 4

),

new_counts as (

    select
        segment_type,
        segment_value,
        period_grain,
        first_period_start as period_start,
        count(*) as new_customers
    from first_periods
    group by 1, 2, 3, 4

),

retained_totals as (

    select
        current_activity.segment_type,
        current_activity.segment_value,
        periods.period_grain,
        periods.period_start,
        count(*) as retained_customers,
        sum(current_activity.revenue) as retained_revenue,
        sum(least(current_activity.revenue, previous_activity.revenue)) as gross_retained_revenue
    from periods
    inner join activity as current_activity
        on current_activity.period_grain = periods.period_grain
        and current_activity.period_start = periods.period_start
    inner join activity as previous_activity
        on previous_activity.period_grain = periods.period_grain
        and previous_activity.period_start = periods.previous_period_start
        and previous_activity.segment_type = current_activity.segment_type
        and previous_activity.customer_id = current_activity.customer_id
    group by 1, 2, 3, 4

),

grid as (

    select
        segment_values.segment_type,
        segment_values.segment_value,
        periods.period_grain,
        periods.period_start,
        periods.previous_period_start,
        periods.period_end
    from periods
    cross join segment_values

)

select
    grid.segment_type,
    grid.segment_value,
    grid.period_grain,
    grid.period_start,
    grid.period_end,
    coalesce(previous_totals.active_customers, 0) as customers_start,
    coalesce(current_totals.active_customers, 0) as customers_end,
    coalesce(new_counts.new_customers, 0) as new_customers,
    coalesce(retained_totals.retained_customers, 0) as retained_customers,
    coalesce(previous_totals.revenue, 0) as revenue_start,
    coalesce(current_totals.revenue, 0) as revenue_end,
    coalesce(retained_totals.retained_revenue, 0) as retained_revenue,
    coalesce(retained_totals.gross_retained_revenue, 0) as gross_retained_revenue
from grid
left join active_totals as current_totals
    on current_totals.segment_type = grid.segment_type
    and current_totals.segment_value = grid.segment_value
    and current_totals.period_grain = grid.period_grain
    and current_totals.period_start = grid.period_start
left join active_totals as previous_totals
    on previous_totals.segment_type = grid.segment_type
    and previous_totals.segment_value = grid.segment_value
    and previous_totals.period_grain = grid.period_grain
    and previous_totals.period_start = grid.previous_period_start
left join new_counts
    on new_counts.segment_type = grid.segment_type
    and new_counts.segment_value = grid.segment_value
    and new_counts.period_grain = grid.period_grain
    and new_counts.period_start = grid.period_start
left join retained_totals
    on retained_totals.segment_type = grid.segment_type
    and retained_totals.segment_value = grid.segment_value
    and retained_totals.period_grain = grid.period_grain
    and retained_totals.period_start = grid.period_start
