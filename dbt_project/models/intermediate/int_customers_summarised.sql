{#- docs/reference.md §4.5: each customer with a completed order, summarised from its orders (first and
    last, count, revenue, recency) and its purchase occasions (count, rhythm). The measures that
    int_customers_scored_rfm ranks and int_customers_flagged_at_risk judges, and the customer's first
    completed order that marts.rolling_retention measures from. -#}
with

completed_orders as (

    select * from {{ ref('int_orders_filtered_to_completed') }}

),

occasions as (

    select * from {{ ref('int_orders_grouped_into_occasions') }}

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

),

order_summary as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        max(ordered_date_local) as last_order_date_local,
        count(*) as completed_orders,
        sum(amount) as revenue
    from completed_orders
    group by 1

),

occasion_summary as (

    select
        customer_id,
        count(*) as purchase_days,
        min(occasion_date) as first_occasion_date,
        max(occasion_date) as last_occasion_date
    from occasions
    group by 1

)

select
    order_summary.customer_id,
    order_summary.first_order_at,
    order_summary.last_order_at,
    order_summary.completed_orders,
    coalesce(occasion_summary.purchase_days, 0) as purchase_days,
    cast(order_summary.revenue as decimal(18, 2)) as revenue,
    cast(
        {{ dbt.datediff('order_summary.last_order_date_local', 'as_of.as_of_date', 'day') }} as integer  -- noqa: LT05
    ) as recency_days,
    -- NULL with one purchase day: no gap to average
    {{ ratio(
        dbt.datediff('occasion_summary.first_occasion_date', 'occasion_summary.last_occasion_date', 'day'),
        'occasion_summary.purchase_days - 1'
    ) }} as mean_days_between_occasions
from order_summary
cross join as_of
left join occasion_summary on occasion_summary.customer_id = order_summary.customer_id
