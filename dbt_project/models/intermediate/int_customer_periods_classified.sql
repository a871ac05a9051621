{#- Each active customer-period in its lifecycle state, from the customer's own previous active period
    (not from the period mart's arithmetic): new (first active period), retained (active in the period
    before too) or reactivated (back after at least one inactive period); and whether the customer is
    inactive in the period after, where marts.customer_lifecycle puts its churned row. One pass over
    the activity serves both marts.customer_lifecycle and the period counts. -#}
with

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

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

)

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
    end as previous_revenue,
    next_period_start,
    coalesce(next_active_period_start <> next_period_start, true) as is_inactive_next
from sequenced
