with

source as (

    select * from {{ source('clv', 'backtest') }}

),

renamed as (

    select
        cast(as_of_date as date) as as_of_date,
        cast(calibration_end_date as date) as calibration_end_date,
        cast(holdout_days as integer) as holdout_days,
        cast(repeat_occasions_group as varchar) as repeat_occasions_group,
        cast(group_order as integer) as group_order,
        cast(customers as bigint) as customers,
        cast(predicted_occasions as double) as predicted_occasions,
        cast(actual_occasions as double) as actual_occasions,
        cast(mean_absolute_error as double) as mean_absolute_error,
        cast(is_usable as boolean) as is_usable
    from source

)

select * from renamed
