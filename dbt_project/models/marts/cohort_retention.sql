{#- docs/reference.md §4 and §4.2 (marts.cohort_retention): cohorts by first completed order (week, month,
    quarter), followed period by period to the latest period, with cumulative revenue, Wilson intervals
    and completeness, for the whole customer base. The formulas are in int_cohorts_rated, shared with
    the segments. -#}
select
    cohort_grain,
    cohort_start,
    period_number,
    cohort_size,
    active_customers,
    retention_rate,
    unbounded_active_customers,
    revenue,
    is_complete,
    cumulative_revenue,
    cumulative_revenue_per_customer,
    retention_rate_ci_low,
    retention_rate_ci_high
from {{ ref('int_cohorts_rated') }}
where segment_type = 'all'
