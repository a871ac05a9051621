{#- Run settings: a --vars value wins, else the environment the runner sets, else the default. -#}

{% macro timezone() -%}
    {{ return(var('timezone', env_var('RETENTION_TIMEZONE', 'UTC'))) }}
{%- endmacro %}

{% macro through_date() -%}
    {{ return(var('through_date', env_var('RETENTION_THROUGH_DATE', '9999-12-31'))) }}
{%- endmacro %}
