{#- Every row satisfies `expression`; the failing rows are returned for inspection. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
