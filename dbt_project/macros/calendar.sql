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

{#- Whole months from one period start to another. -#}
{% macro months_between(from_date, to_date) -%}
    {{ dbt.datediff(from_date, to_date, 'month') | trim }}
{%- endmacro %}
