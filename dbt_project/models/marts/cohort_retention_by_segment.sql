{#- docs/reference.md §4.4: the counts of the monthly cohorts of marts.cohort_retention over one segment value. -#}
with

counted as (

    select * from {{ ref('int_cohorts_counted_by_segment') }}
    where segment_type <> 'all'

)

select
    cast(segment_type as varchar) as segment_type,
    cast(segment_value as varchar) as segment_value,
    cast(cohort_grain as varchar) as cohort_grain,
    cast(cohort_start as date) as cohort_start,
    cast(period_number as integer) as period_number,
    cast(cohort_size as bigint) as cohort_size,
    cast(active_customers as bigint) as active_customers,
    cast(active_customers as double) / cohort_size as retention_rate,
    cast(unbounded_active_customers as bigint) as unbounded_active_customers,
    cast(revenue as decimal(18, 2)) as revenue
from counted
