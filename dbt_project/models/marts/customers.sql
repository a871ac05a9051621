{#- docs/reference.md §4.5: every customer with a customers row or an order (any status), with its completed
    orders, purchase occasions, RFM scores and segment, churn-risk flag and lifetime value. Each part is
    an intermediate model (int_customers_*); this one joins them and gives a customer without a completed
    order its zeros. -#}
with

profiled as (

    select * from {{ ref('int_customers_profiled') }}

),

summarised as (

    select * from {{ ref('int_customers_summarised') }}

),

scored as (

    select * from {{ ref('int_customers_scored_rfm') }}

),

rfm_segments as (

    select * from {{ ref('int_customers_assigned_to_rfm_segments') }}

),

at_risk as (

    select * from {{ ref('int_customers_flagged_at_risk') }}

),

lifetime_values as (

    select * from {{ ref('stg_clv__customer_values') }}

)

select
    profiled.customer_id,
    profiled.channel,
    profiled.region,
    summarised.first_order_at,
    summarised.last_order_at,
    coalesce(summarised.completed_orders, 0) as completed_orders,
    coalesce(summarised.purchase_days, 0) as purchase_days,
    cast(coalesce(summarised.revenue, 0) as decimal(18, 2)) as revenue,
    summarised.recency_days,
    scored.rfm_recency_score,
    scored.rfm_frequency_score,
    scored.rfm_monetary_score,
    rfm_segments.rfm_segment,
    at_risk.is_at_risk,
    summarised.mean_days_between_occasions,
    lifetime_values.p_alive,
    lifetime_values.expected_purchases,
    lifetime_values.expected_order_value,
    lifetime_values.expected_value
from profiled
left join summarised on summarised.customer_id = profiled.customer_id
left join scored on scored.customer_id = profiled.customer_id
left join rfm_segments on rfm_segments.customer_id = profiled.customer_id
left join at_risk on at_risk.customer_id = profiled.customer_id
left join lifetime_values on lifetime_values.customer_id = profiled.customer_id
