{#- docs/reference.md §4.4: the counts and rates of marts.period_retention over the
    customers of one segment value, from the same formulas (int_periods_rated). -#}
select
    segment_type,
    segment_value,
    period_grain,
    period_start,
    customers_start,
    customers_end,
    new_customers,
    retained_customers,
    reactivated_customers,
    churned_customers,
    retention_rate,
    strict_retention_rate,
    revenue_start,
    revenue_end,
    retained_revenue,
    gross_retained_revenue,
    is_complete,
    churn_rate,
    net_revenue_retention,
    gross_revenue_retention
from {{ ref('int_periods_rated') }}
where segment_type <> 'all'
