{#- docs/reference.md §4.2: S, E, N, retained per period and their rates,
    for the whole customer base. The formulas are in int_periods_rated, shared with the segments. -#}
select
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
    is_complete,
    churn_rate,
    revenue_start,
    revenue_end,
    retained_revenue,
    gross_retained_revenue,
    net_revenue_retention,
    gross_revenue_retention
from {{ ref('int_periods_rated') }}
where segment_type = 'all'
