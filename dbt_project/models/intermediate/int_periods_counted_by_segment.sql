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
        period_grain,
        period_start,
        customer_id,
        revenue
    from {{ ref('int_customer_activity_by_period') }}

),

first_periods as (

    select
        period_grain,
        customer_id,
        min(period_start) as first_period_start
    from activity
    group by 1, 2

),

-- Each active customer-period with the customer's revenue in the period before (null: not active
-- then) and whether it is the customer's first active period. Joined once per customer, before the
-- segments multiply the rows: a customer has one value per segment type, so this holds in each.
-- materialized: otherwise DuckDB joins the segments first and then the first periods on three times
-- the rows (measured on 1M orders: 1.6 s against 0.9 s)
customer_periods as materialized (

    select
        current_activity.period_grain,
        current_activity.period_start,
        current_activity.customer_id,
        current_activity.revenue,
        previous_activity.revenue as previous_revenue,
        current_activity.period_start = first_periods.first_period_start as is_first_period
    from activity as current_activity
    inner join periods
        on periods.period_grain = current_activity.period_grain
        and periods.period_start = current_activity.period_start
    inner join first_periods
        on first_periods.period_grain = current_activity.period_grain
        and first_periods.customer_id = current_activity.customer_id
    left join activity as previous_activity
        on previous_activity.period_grain = current_activity.period_grain
        and previous_activity.period_start = periods.previous_period_start
        and previous_activity.customer_id = current_activity.customer_id

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
        customer_periods.period_grain,
        customer_periods.period_start,
        count(*) as active_customers,
        sum(customer_periods.revenue) as revenue,
        count(*) filter (where customer_periods.is_first_period) as new_customers,
        count(customer_periods.previous_revenue) as retained_customers,
        sum(customer_periods.revenue) filter (
            where customer_periods.previous_revenue is not null
        ) as retained_revenue,
        -- least() skips nulls: only customers active in the period before retain any revenue
        sum(least(customer_periods.revenue, customer_periods.previous_revenue)) filter (
            where customer_periods.previous_revenue is not null
        ) as gross_retained_revenue
    from customer_periods
    inner join segments on segments.customer_id = customer_periods.customer_id
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
