{#- One end of the 95 % Wilson score interval of the rate successes / trials (docs/reference.md §4.1):
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

{#- The RFM score 1–5 (5 best) of `measure` among the rows of the query: 1 + ⌊5 · (rank − 1) / n⌋,
    where rank = 1 + the rows with a strictly worse value (`worse_first`: 'asc' when smaller is
    worse, 'desc' when larger is). Equal values share a rank, so they get the same score; the worst
    value always scores 1, and a value scores 5 when at least 80 % of the rows are strictly worse. -#}
{% macro rank_quintile(measure, worse_first) -%}
    1 + cast(floor(
        5 * cast(rank() over (order by {{ measure }} {{ worse_first }}) - 1 as double) / count(*) over ()
    ) as integer)
{%- endmacro %}
