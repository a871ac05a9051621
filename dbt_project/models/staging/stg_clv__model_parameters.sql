with

source as (

    select * from {{ source('clv', 'model_parameters') }}

),

renamed as (

    select
        cast(model as varchar) as model,  -- noqa: RF04
        cast(parameter as varchar) as parameter,  -- noqa: RF04
        cast(value as double) as value,  -- noqa: RF04
        cast(time_unit as varchar) as time_unit,
        cast(as_of_date as date) as as_of_date,
        cast(customers as bigint) as customers,
        cast(log_likelihood as double) as log_likelihood,
        cast(horizon_days as integer) as horizon_days,
        cast(is_usable as boolean) as is_usable,
        cast(is_identified as boolean) as is_identified,
        cast(fit_problem as varchar) as fit_problem
    from source

)

select * from renamed
