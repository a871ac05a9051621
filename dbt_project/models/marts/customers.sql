{#- docs/reference.md §4.5: every customer with a customers row or an order (any status), with its completed
    orders, purchase occasions, RFM scores and segment, churn-risk flag and lifetime value. The rules
    for the scores, rfm_segment and is_at_risk are in the model's YAML. -#}
with

profiles as (

    select * from {{ ref('stg_crm__customers') }}

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

completed_orders as (

    select * from {{ ref('int_orders_filtered_to_completed') }}

),

occasions as (

    select * from {{ ref('int_orders_grouped_into_occasions') }}

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

),

lifetime_values as (

    select * from {{ ref('stg_clv__customer_values') }}

),

every_customer as (

    select customer_id from profiles
    union
    select customer_id from orders

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

),

measured as (

    select
        every_customer.customer_id,
        coalesce(profiles.channel, 'unknown') as channel,
        coalesce(profiles.region, 'unknown') as region,
        order_summary.first_order_at,
        order_summary.last_order_at,
        coalesce(order_summary.completed_orders, 0) as completed_orders,
        coalesce(occasion_summary.purchase_days, 0) as purchase_days,
        cast(coalesce(order_summary.revenue, 0) as decimal(18, 2)) as revenue,
        cast(
            {{ dbt.datediff('order_summary.last_order_date_local', 'as_of.as_of_date', 'day') }} as integer  -- noqa: LT05
        ) as recency_days,
        case
            when occasion_summary.purchase_days >= 2
                then cast({{ dbt.datediff(
                    'occasion_summary.first_occasion_date', 'occasion_summary.last_occasion_date', 'day'
                ) }} as double) / (occasion_summary.purchase_days - 1)
        end as mean_days_between_occasions
    from every_customer
    cross join as_of
    left join profiles on profiles.customer_id = every_customer.customer_id
    left join order_summary on order_summary.customer_id = every_customer.customer_id
    left join occasion_summary on occasion_summary.customer_id = every_customer.customer_id

),

scored as (

    select
        customer_id,
        {{ rank_quintile('recency_days', 'desc') }} as rfm_recency_score,
        {{ rank_quintile('purchase_days', 'asc') }} as rfm_frequency_score,
        {{ rank_quintile('revenue', 'asc') }} as rfm_monetary_score
    from measured
    where completed_orders > 0

),

typical_rhythm as (

    select median(mean_days_between_occasions) as typical_days_between_occasions
    from measured

),

combined as (

    select
        measured.*,
        scored.rfm_recency_score,
        scored.rfm_frequency_score,
        scored.rfm_monetary_score,
        typical_rhythm.typical_days_between_occasions,
        lifetime_values.p_alive,
        lifetime_values.expected_purchases,
        lifetime_values.expected_order_value,
        lifetime_values.expected_value
    from measured
    cross join typical_rhythm
    left join scored on scored.customer_id = measured.customer_id
    left join lifetime_values on lifetime_values.customer_id = measured.customer_id

)

select
    customer_id,
    channel,
    region,
    first_order_at,
    last_order_at,
    completed_orders,
    purchase_days,
    revenue,
    recency_days,
    rfm_recency_score,
    rfm_frequency_score,
    rfm_monetary_score,
    case
        when rfm_recency_score is null then null
        when rfm_recency_score >= 4 and rfm_frequency_score >= 4 and rfm_monetary_score >= 4 then 'champions'
        when rfm_recency_score >= 3 and rfm_frequency_score >= 4 then 'loyal'
        when rfm_recency_score >= 4 and rfm_frequency_score = 1 then 'new'
        when rfm_recency_score <= 2 and rfm_frequency_score >= 3 then 'at risk'
        when rfm_recency_score <= 2 then 'hibernating'
        when rfm_recency_score >= 4 then 'promising'
        else 'needs attention'
    end as rfm_segment,
    case
        when completed_orders = 0 then null
        when p_alive < 0.5 then true
        when purchase_days >= 2 then recency_days > 2 * mean_days_between_occasions
        else coalesce(recency_days > 2 * typical_days_between_occasions, false)
    end as is_at_risk,
    mean_days_between_occasions,
    p_alive,
    expected_purchases,
    expected_order_value,
    expected_value
from combined
