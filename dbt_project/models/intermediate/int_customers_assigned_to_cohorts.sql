{#- Each customer with a completed order, in the cohort of each cohort grain holding its first one. -#}
{%- set cohort_grains = "'" ~ (var('cohort_grains') | join("', '")) ~ "'" %}
with

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}
    where period_grain in ({{ cohort_grains }})

)

select
    period_grain as cohort_grain,
    customer_id,
    min(period_start) as cohort_start,
    max(period_start) as last_active_period_start
from activity
group by 1, 2
