{#- docs/reference.md §4.1 and §4.2, per segment value (segment_type `all` = every customer): S, E, N, retained,
    and the revenue retained from the S customers, for every period of the spine. -#}
with

periods as (

    select * from {{ ref('int_periods_spined') }}

),

segments as (

    select * from {{ ref('int_customers_assigned_to_segments') }}

),

-- each active customer-period with its state, from the customer's own previous active period
classified as (

    select * from {{ ref('int_customer_periods_classified') }}

),

segment_values as (

    select distinct
        segment_type,
        segment_value
    from segments

),

active_totals as (

    select
        segments.segment_type,
        segments.segment_value,
        classified.period_grain,
        classified.period_start,
        count(*) as active_customers,
        sum(classified.revenue) as revenue,
        count(*) filter (where classified.lifecycle_state = 'new') as new_customers,
        count(*) filter (where classified.lifecycle_state = 'retained') as retained_customers,
        sum(classified.revenue) filter (where classified.lifecycle_state = 'retained') as retained_revenue,
        sum(least(classified.revenue, classified.previous_revenue)) filter (
            where classified.lifecycle_state = 'retained'
        ) as gross_retained_revenue
    from classified
    inner join segments on segments.customer_id = classified.customer_id
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
    coalesce(current_totals.new_customers, 0) as new_customers,
    coalesce(current_totals.retained_customers, 0) as retained_customers,
    coalesce(previous_totals.revenue, 0) as revenue_start,
    coalesce(current_totals.revenue, 0) as revenue_end,
    coalesce(current_totals.retained_revenue, 0) as retained_revenue,
    coalesce(current_totals.gross_retained_revenue, 0) as gross_retained_revenue
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
