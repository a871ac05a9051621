{#- Calendar helpers shared by the intermediate models; adapter-dispatched so Spark can differ. -#}

{#- A naive UTC timestamp as wall-clock time in the marts' zone (RETENTION_TIMEZONE). -#}
{% macro to_local_timestamp(utc_timestamp) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'retention')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__to_local_timestamp(utc_timestamp) -%}
    (({{ utc_timestamp }}) at time zone 'UTC') at time zone '{{ timezone() }}'
{%- endmacro %}

{% macro spark__to_local_timestamp(utc_timestamp) -%}
    from_utc_timestamp({{ utc_timestamp }}, '{{ timezone() }}')
{%- endmacro %}

{#- First day of the period of `grain` (a name from var period_grains) holding `local_timestamp`. -#}
{% macro period_start(grain, local_timestamp) -%}
    cast({{ dbt.date_trunc(grain, local_timestamp) }} as date)
{%- endmacro %}

{#- Wall-clock time in the marts' zone back to a naive UTC timestamp (e.g. 00:00 of a local date). -#}
{% macro to_utc_timestamp(local_timestamp) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'retention')(local_timestamp)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(local_timestamp) -%}
    cast((cast({{ local_timestamp }} as timestamp) at time zone '{{ timezone() }}') at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__to_utc_timestamp(local_timestamp) -%}
    to_utc_timestamp(cast({{ local_timestamp }} as timestamp), '{{ timezone() }}')
{%- endmacro %}

{#- The start of the period `periods` periods after the one starting on `start`, for the grain named
    in the SQL column `grain_column` (one CASE branch per grain of var period_grains). -#}
{% macro shift_periods(grain_column, periods, start) -%}
    case {{ grain_column }}
        {%- for grain in var('period_grains') %}
        when '{{ grain.name }}' then cast({{ dbt.dateadd(grain.unit, '(' ~ periods ~ ') * ' ~ grain.length, start) }} as date)
        {%- endfor %}
    end
{%- endmacro %}

{#- Whole periods from one period start to another, for the grain named in `grain_column`. Weeks
    are counted in days because both ends are Mondays (date part `week` differs between engines). -#}
{% macro periods_between(grain_column, from_date, to_date) -%}
    cast(case {{ grain_column }}
        {%- for grain in var('period_grains') %}
        {%- if grain.unit == 'week' %}
        when '{{ grain.name }}' then {{ dbt.datediff(from_date, to_date, 'day') | trim }} / {{ 7 * grain.length }}
        {%- else %}
        when '{{ grain.name }}' then {{ dbt.datediff(from_date, to_date, 'month') | trim }} / {{ grain.length }}
        {%- endif %}
        {%- endfor %}
    end as integer)
{%- endmacro %}

{#- docs/reference.md §4.1: a period or cohort cell is complete when it ends (the first day of the next
    period) on or before the run's as-of date; false, not NULL, when either is unknown. -#}
{% macro is_complete(period_end, as_of_date) -%}
    coalesce({{ period_end }} <= {{ as_of_date }}, false)
{%- endmacro %}
