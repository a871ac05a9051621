{#- docs/reference.md §4.6: the fitted parameters of this run's lifetime-value models (fitted between the dbt
    steps by retention.warehouse.lifetime_value), with whether each fit is usable. -#}
with

parameters as (

    select * from {{ ref('stg_clv__model_parameters') }}

)

select
    model,
    parameter,
    value,
    time_unit,
    as_of_date,
    customers,
    log_likelihood,
    horizon_days,
    is_usable,
    is_identified,
    fit_problem
from parameters
