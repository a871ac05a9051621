{#- docs/reference.md §4.5: the RFM scores 1–5 of each customer with a completed order, ranked among all of
    them (the rule: macro rank_quintile and the model's YAML). -#}
with

summarised as (

    select * from {{ ref('int_customers_summarised') }}

)

select
    customer_id,
    {{ rank_quintile('recency_days', 'desc') }} as rfm_recency_score,
    {{ rank_quintile('purchase_days', 'asc') }} as rfm_frequency_score,
    {{ rank_quintile('revenue', 'asc') }} as rfm_monetary_score
from summarised
