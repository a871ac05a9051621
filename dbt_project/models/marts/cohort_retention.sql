{#- docs/reference.md §4.1 and §4.2: cohorts by first completed order (week, month, quarter), followed period by
    period to the latest period, with cumulative revenue, Wilson intervals and completeness. -#}
with

counted as (

    select * from {{ ref('int_cohorts_counted_by_segment') }}
    where segment_type = 'all'

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

),

accumulated as (

    select
        *,
        sum(revenue) over (
            partition by cohort_grain, cohort_start
            order by period_number
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from counted

)

select
    cast(accumulated.cohort_grain as varchar) as cohort_grain,
    cast(accumulated.cohort_start as date) as cohort_start,
    cast(accumulated.period_number as integer) as period_number,
    cast(accumulated.cohort_size as bigint) as cohort_size,
    cast(accumulated.active_customers as bigint) as active_customers,
    cast(accumulated.active_customers as double) / accumulated.cohort_size as retention_rate,
    cast(accumulated.unbounded_active_customers as bigint) as unbounded_active_customers,
    cast(accumulated.revenue as decimal(18, 2)) as revenue,
    coalesce(
        {{ shift_periods('accumulated.cohort_grain', 'accumulated.period_number + 1', 'accumulated.cohort_start') }}
        <= as_of.as_of_date,
        false
    ) as is_complete,
    cast(accumulated.cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
    cast(accumulated.cumulative_revenue as double) / accumulated.cohort_size as cumulative_revenue_per_customer,
    {{ wilson_bound('accumulated.active_customers', 'accumulated.cohort_size', 'low') }} as retention_rate_ci_low,
    {{ wilson_bound('accumulated.active_customers', 'accumulated.cohort_size', 'high') }} as retention_rate_ci_high
from accumulated
cross join as_of
