{#- Each customer with a completed order, in the cohort of the month of its first one. -#}
with

monthly_activity as (

    select * from {{ ref('int_customer_activity_by_period') }}
    where period_grain = 'month'

)

select
    customer_id,
    'month' as cohort_grain,
    min(period_start) as cohort_start,
    max(period_start) as last_active_month
from monthly_activity
group by 1
