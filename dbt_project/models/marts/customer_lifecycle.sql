{#- Each customer's state in each period, from its own previous active period (not from the period
    mart's arithmetic): new (first active period), retained (active in the period before too),
    reactivated (back after at least one inactive period), churned (active in the period before, not
    in this one). Churned rows stop at the latest period of the spine. -#}
with

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

),

bounds as (

    select
        period_grain,
        max(period_start) as last_period_start
    from {{ ref('int_periods_spined') }}
    group by 1

),

sequenced as (

    select
        period_grain,
        period_start,
        customer_id,
        completed_orders,
        revenue,
        {{ shift_periods('period_grain', '-1', 'period_start') }} as previous_period_start,
        {{ shift_periods('period_grain', '1', 'period_start') }} as next_period_start,
        lag(period_start) over (partition by period_grain, customer_id order by period_start)
            as previous_active_period_start,
        lag(completed_orders) over (partition by period_grain, customer_id order by period_start)
            as previous_active_orders,
        lag(revenue) over (partition by period_grain, customer_id order by period_start)
            as previous_active_revenue,
        lead(period_start) over (partition by period_grain, customer_id order by period_start)
            as next_active_period_start
    from activity

),

active_rows as (

    select
        period_grain,
        period_start,
        customer_id,
        case
            when previous_active_period_start is null then 'new'
            when previous_active_period_start = previous_period_start then 'retained'
            else 'reactivated'
        end as lifecycle_state,
        completed_orders,
        revenue,
        case
            when previous_active_period_start = previous_period_start then previous_active_orders else 0
        end as previous_completed_orders,
        case
            when previous_active_period_start = previous_period_start then previous_active_revenue else 0
        end as previous_revenue
    from sequenced

),

churned_rows as (

    select
        sequenced.period_grain,
        sequenced.next_period_start as period_start,
        sequenced.customer_id,
        'churned' as lifecycle_state,
        0 as completed_orders,
        0 as revenue,
        sequenced.completed_orders as previous_completed_orders,
        sequenced.revenue as previous_revenue
    from sequenced
    inner join bounds on bounds.period_grain = sequenced.period_grain
    where
        (sequenced.next_active_period_start is null or sequenced.next_active_period_start > sequenced.next_period_start)
        and sequenced.next_period_start <= bounds.last_period_start

),

states as (

    select * from active_rows
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
