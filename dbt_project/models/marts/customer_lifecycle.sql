{#- Each customer's state in each period (see int_customer_periods_classified): its active periods as
    classified there, and a churned row in the period after each active period that is not followed by
    another (active in the period before, not in this one). Churned rows stop at the latest period of
    the spine. -#}
with

classified as (

    select * from {{ ref('int_customer_periods_classified') }}

),

bounds as (

    select
        period_grain,
        max(period_start) as last_period_start
    from {{ ref('int_periods_spined') }}
    group by 1

),

churned_rows as (

    select
        classified.period_grain,
        classified.next_period_start as period_start,
        classified.customer_id,
        'churned' as lifecycle_state,
        0 as completed_orders,
        0 as revenue,
        classified.completed_orders as previous_completed_orders,
        classified.revenue as previous_revenue
    from classified
    inner join bounds on bounds.period_grain = classified.period_grain
    where classified.is_inactive_next and classified.next_period_start <= bounds.last_period_start

),

states as (

    select
        period_grain,
        period_start,
        customer_id,
        lifecycle_state,
        completed_orders,
        revenue,
        previous_completed_orders,
        previous_revenue
    from classified
    union all
    select * from churned_rows

)

select
    cast(period_grain as varchar) as period_grain,
    cast(period_start as date) as period_start,
    cast(customer_id as varchar) as customer_id,
    cast(lifecycle_state as varchar) as lifecycle_state,
    cast(completed_orders as bigint) as completed_orders,
    cast(revenue as decimal(18, 2)) as revenue,
    cast(previous_completed_orders as bigint) as previous_completed_orders,
    cast(previous_revenue as decimal(18, 2)) as previous_revenue
from states
