{#- numerator / denominator as a double, NULL when the denominator is 0: the rule every rate of the marts
    follows (docs/reference.md §4), written once so that no rate divides by zero or rounds to an integer. -#}
{% macro ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / cast({{ denominator }} as double) end
{%- endmacro %}
