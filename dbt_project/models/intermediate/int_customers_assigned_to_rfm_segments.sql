{#- docs/reference.md §4.5: each scored customer's named RFM segment, the first rule that holds (the rules
    are in the model's YAML). -#}
with

scored as (

    select * from {{ ref('int_customers_scored_rfm') }}

)

select
    customer_id,
    case
        when rfm_recency_score >= 4 and rfm_frequency_score >= 4 and rfm_monetary_score >= 4 then 'champions'
        when rfm_recency_score >= 3 and rfm_frequency_score >= 4 then 'loyal'
        when rfm_recency_score >= 4 and rfm_frequency_score = 1 then 'new'
        when rfm_recency_score <= 2 and rfm_frequency_score >= 3 then 'at risk'
        when rfm_recency_score <= 2 then 'hibernating'
        when rfm_recency_score >= 4 then 'promising'
        else 'needs attention'
    end as rfm_segment
from scored
