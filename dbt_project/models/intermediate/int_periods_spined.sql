{#- Every period of every grain from the first completed order to the latest, with no gaps. -#}
with

activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

),

bounds as (

    select
        period_grain,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start
    from activity
    group by 1

),

steps as (

    {{ dbt.generate_series(var('max_periods')) }}

),

spined as (

    select
        bounds.period_grain,
        {{ shift_periods('bounds.period_grain', 'steps.generated_number - 1', 'bounds.first_period_start') }}
            as period_start,
        {{ shift_periods('bounds.period_grain', 'steps.generated_number - 2', 'bounds.first_period_start') }}
            as previous_period_start,
        {{ shift_periods('bounds.period_grain', 'steps.generated_number', 'bounds.first_period_start') }}
            as period_end,
        bounds.last_period_start
    from bounds
    cross join steps

)

select
    period_grain,
    period_start,
    previous_period_start,
    period_end
from spined
where period_start <= last_period_start
