{#- Contract §4: monthly cohorts by first completed order, followed month by month to the latest month. -#}
with

members as (

    select * from {{ ref('int_customers_assigned_to_cohorts') }}

),

monthly_activity as (

    select * from {{ ref('int_customer_activity_by_period') }}
    where period_grain = 'month'

),

latest as (

    select max(period_start) as latest_month from monthly_activity

),

cohorts as (

    select
        members.cohort_grain,
        members.cohort_start,
        count(*) as cohort_size,
        max({{ months_between('members.cohort_start', 'latest.latest_month') }}) as last_period_number
    from members
    cross join latest
    group by 1, 2

),

steps as (

    {{ dbt.generate_series(var('max_months')) }}

),

grid as (

    select
        cohorts.cohort_grain,
        cohorts.cohort_start,
        cohorts.cohort_size,
        cast(steps.generated_number - 1 as integer) as period_number
    from cohorts
    cross join steps
    where steps.generated_number - 1 <= cohorts.last_period_number

),

member_activity as (

    select
        members.cohort_start,
        members.customer_id,
        {{ months_between('members.cohort_start', 'monthly_activity.period_start') }} as period_number,
        {{ months_between('members.cohort_start', 'members.last_active_month') }} as last_period_number,
        monthly_activity.revenue
    from members
    inner join monthly_activity on monthly_activity.customer_id = members.customer_id

),

active_by_period as (

    select
        cohort_start,
        period_number,
        count(*) as active_customers,
        sum(revenue) as revenue
    from member_activity
    group by 1, 2

),

last_periods as (

    select distinct
        cohort_start,
        customer_id,
        last_period_number
    from member_activity

),

unbounded_by_period as (

    select
        grid.cohort_start,
        grid.period_number,
        count(last_periods.customer_id) as unbounded_active_customers
    from grid
    left join last_periods
        on last_periods.cohort_start = grid.cohort_start
        and last_periods.last_period_number >= grid.period_number
    group by 1, 2

)

select
    cast(grid.cohort_grain as varchar) as cohort_grain,
    cast(grid.cohort_start as date) as cohort_start,
    cast(grid.period_number as integer) as period_number,
    cast(grid.cohort_size as bigint) as cohort_size,
    cast(coalesce(active_by_period.active_customers, 0) as bigint) as active_customers,
    cast(coalesce(active_by_period.active_customers, 0) as double) / grid.cohort_size as retention_rate,
    cast(unbounded_by_period.unbounded_active_customers as bigint) as unbounded_active_customers,
    cast(coalesce(active_by_period.revenue, 0) as decimal(18, 2)) as revenue
from grid
left join active_by_period
    on active_by_period.cohort_start = grid.cohort_start
    and active_by_period.period_number = grid.period_number
left join unbounded_by_period
    on unbounded_by_period.cohort_start = grid.cohort_start
    and unbounded_by_period.period_number = grid.period_number
