{#- docs/reference.md §4.5: the churn-risk flag of each customer with a completed order: the lifetime-value
    model says it more likely dropped out than not, or it is overdue by twice its expected gap between
    purchase days (its own with two or more, else the typical one). The rule is in the model's YAML. -#}
with

summarised as (

    select * from {{ ref('int_customers_summarised') }}

),

lifetime_values as (

    select * from {{ ref('stg_clv__customer_values') }}

),

-- the gap a one-day customer is held to: the median of the repeat customers' own (median skips NULLs)
typical_rhythm as (

    select median(mean_days_between_occasions) as typical_days_between_occasions
    from summarised

),

expected as (

    select
        summarised.customer_id,
        summarised.recency_days,
        lifetime_values.p_alive,
        case
            when summarised.purchase_days >= 2 then summarised.mean_days_between_occasions
            else typical_rhythm.typical_days_between_occasions
        end as expected_days_between_occasions
    from summarised
    cross join typical_rhythm
    left join lifetime_values on lifetime_values.customer_id = summarised.customer_id

)

select
    customer_id,
    case
        when p_alive < 0.5 then true
        -- false, not NULL, when nobody has a second purchase day to take a typical gap from
        else coalesce(recency_days > 2 * expected_days_between_occasions, false)
    end as is_at_risk
from expected
