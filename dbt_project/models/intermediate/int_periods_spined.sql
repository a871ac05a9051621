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

grain_lengths as (

    {% for grain in var('period_grains') %}
    select
        '{{ grain.name }}' as period_grain,
        {{ grain.months }} as months_per_period
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

steps as (

    {{ dbt.generate_series(var('max_months')) }}

),

spined as (

    select
        bounds.period_grain,
        cast({{ dbt.dateadd('month', '(steps.generated_number - 1) * grain_lengths.months_per_period',
                            'bounds.first_period_start') }} as date) as period_start,
        cast({{ dbt.dateadd('month', '(steps.generated_number - 2) * grain_lengths.months_per_period',
                            'bounds.first_period_start') }} as date) as previous_period_start,
        bounds.last_period_start
    from bounds
    inner join grain_lengths on grain_lengths.period_grain = bounds.period_grain
    cross join steps

)

select
    period_grain,
    period_start,
    previous_period_start
from spined
where period_start <= last_period_start
