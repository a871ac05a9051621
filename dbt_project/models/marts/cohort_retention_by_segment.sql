{#- docs/reference.md §4.4: the counts and rates of the monthly cohorts of marts.cohort_retention over the
    customers of one segment value, from the same formulas (int_cohorts_rated). -#}
select
    segment_type,
    segment_value,
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
where segment_type <> 'all'
