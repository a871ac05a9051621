{#- docs/reference.md §4.2 and §4.4: every rate of a cohort cell, written once for the whole customer
    base (segment type `all`: week, month and quarter cohorts) and for each segment value (monthly
    cohorts): the retention rate with its Wilson interval, cumulative revenue and revenue per member,
    and whether the cell is complete. marts.cohort_retention and marts.cohort_retention_by_segment
    select their rows from it. A view, as int_periods_rated: each mart reads it once. -#}
{{ config(materialized='view') }}

with

counted as (

    select * from {{ ref('int_cohorts_counted_by_segment') }}

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

),

accumulated as (

    select
        *,
        sum(revenue) over (
            partition by segment_type, segment_value, cohort_grain, cohort_start
            order by period_number
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from counted

)

select
    cast(accumulated.segment_type as varchar) as segment_type,
    cast(accumulated.segment_value as varchar) as segment_value,
    cast(accumulated.cohort_grain as varchar) as cohort_grain,
    cast(accumulated.cohort_start as date) as cohort_start,
    cast(accumulated.period_number as integer) as period_number,
    cast(accumulated.cohort_size as bigint) as cohort_size,
    cast(accumulated.active_customers as bigint) as active_customers,
    {{ ratio('accumulated.active_customers', 'accumulated.cohort_size') }} as retention_rate,
    cast(accumulated.unbounded_active_customers as bigint) as unbounded_active_customers,
    cast(accumulated.revenue as decimal(18, 2)) as revenue,
    {{ is_complete(
        shift_periods('accumulated.cohort_grain', 'accumulated.period_number + 1', 'accumulated.cohort_start'),
        'as_of.as_of_date'
    ) }} as is_complete,
    cast(accumulated.cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
    {{ ratio('accumulated.cumulative_revenue', 'accumulated.cohort_size') }} as cumulative_revenue_per_customer,
    {{ wilson_bound('accumulated.active_customers', 'accumulated.cohort_size', 'low') }} as retention_rate_ci_low,
    {{ wilson_bound('accumulated.active_customers', 'accumulated.cohort_size', 'high') }} as retention_rate_ci_high
from accumulated
cross join as_of
