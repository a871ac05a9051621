{#- One end of the 95 % Wilson score interval of the rate successes / trials (contract §4.1):
    centre ∓ half-width, `side` 'low' or 'high'; NULL when trials = 0. Rounded to 12 decimals, far
    below any meaningful precision, so engines whose last bits differ (DuckDB, Spark) publish equal values. -#}
{% macro wilson_bound(successes, trials, side) -%}
    {%- set z = 1.959963984540054 -%}
    {%- set p = '(cast(' ~ successes ~ ' as double) / ' ~ trials ~ ')' -%}
    {%- set n = 'cast(' ~ trials ~ ' as double)' -%}
    round(case
        when {{ trials }} > 0
            then (
                ({{ p }} + {{ z * z }} / (2 * {{ n }}))
                {{ '-' if side == 'low' else '+' }} {{ z }} * sqrt(
                    {{ p }} * (1 - {{ p }}) / {{ n }} + {{ z * z }} / (4 * {{ n }} * {{ n }})
                )
            ) / (1 + {{ z * z }} / {{ n }})
    end, 12)
{%- endmacro %}
