{#- docs/reference.md §4.1, §4.2 and §4.4: each cohort followed period by period to the latest period, per segment
    value (segment_type `all`: every customer, every cohort grain; other segment types: monthly cohorts). -#}
with

segments as (

    select * from {{ ref('int_customers_assigned_to_segments') }}

),

members as (

    select
        segments.segment_type,
        segments.segment_value,
        cohorts.cohort_grain,
        cohorts.cohort_start,
        cohorts.customer_id,
        {{ periods_between('cohorts.cohort_grain', 'cohorts.cohort_start', 'cohorts.last_active_period_start') }}
            as last_period_number
    from {{ ref('int_customers_assigned_to_cohorts') }} as cohorts
    inner join segments on segments.customer_id = cohorts.customer_id
    where segments.segment_type = 'all' or cohorts.cohort_grain = 'month'

),

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

),

latest as (

    select
        period_grain,
        max(period_start) as latest_period_start
    from activity
    group by 1

),

cohorts as (

    select
        members.segment_type,
        members.segment_value,
        members.cohort_grain,
        members.cohort_start,
        count(*) as cohort_size,
        max({{ periods_between('members.cohort_grain', 'members.cohort_start', 'latest.latest_period_start') }})
            as last_period_number
    from members
    inner join latest on latest.period_grain = members.cohort_grain
    group by 1, 2, 3, 4

),

steps as (

    {{ dbt.generate_series(var('max_periods')) }}

),

grid as (

    select
        cohorts.segment_type,
        cohorts.segment_value,
        cohorts.cohort_grain,
        cohorts.cohort_start,
        cohorts.cohort_size,
        cast(steps.generated_number - 1 as integer) as period_number
    from cohorts
    cross join steps
    where steps.generated_number - 1 <= cohorts.last_period_number

),

active_by_period as (

    select
        members.segment_type,
        members.segment_value,
        members.cohort_grain,
        members.cohort_start,
        {{ periods_between('members.cohort_grain', 'members.cohort_start', 'activity.period_start') }}
            as period_number,
        count(*) as active_customers,
        sum(activity.revenue) as revenue
    from members
    inner join activity
        on activity.customer_id = members.customer_id
        and activity.period_grain = members.cohort_grain
    group by 1, 2, 3, 4, 5

),

last_active_by_period as (

    select
        segment_type,
        segment_value,
        cohort_grain,
        cohort_start,
        last_period_number as period_number,
        count(*) as last_active_customers
    from members
    group by 1, 2, 3, 4, 5

),

counted as (

    select
        grid.segment_type,
        grid.segment_value,
        grid.cohort_grain,
        grid.cohort_start,
        grid.period_number,
        grid.cohort_size,
        coalesce(active_by_period.active_customers, 0) as active_customers,
        coalesce(active_by_period.revenue, 0) as revenue,
        coalesce(last_active_by_period.last_active_customers, 0) as last_active_customers
    from grid
    left join active_by_period
        on active_by_period.segment_type = grid.segment_type
        and active_by_period.segment_value = grid.segment_value
        and active_by_period.cohort_grain = grid.cohort_grain
        and active_by_period.cohort_start = grid.cohort_start
        and active_by_period.period_number = grid.period_number
    left join last_active_by_period
        on last_active_by_period.segment_type = grid.segment_type
        and last_active_by_period.segment_value = grid.segment_value
        and last_active_by_period.cohort_grain = grid.cohort_grain
        and last_active_by_period.cohort_start = grid.cohort_start
        and last_active_by_period.period_number = grid.period_number

)

select
    segment_type,
    segment_value,
    cohort_grain,
    cohort_start,
    period_number,
    cohort_size,
    active_customers,
    revenue,
    -- members whose last active period is k or later: active in k or in any later period
    sum(last_active_customers) over (
        partition by segment_type, segment_value, cohort_grain, cohort_start
        order by period_number desc
        rows between unbounded preceding and current row
    ) as unbounded_active_customers
from counted
