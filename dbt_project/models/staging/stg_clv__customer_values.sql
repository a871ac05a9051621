with

source as (

    select * from {{ source('clv', 'customer_values') }}

),

renamed as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(repeat_occasions as bigint) as repeat_occasions,
        cast(days_first_to_last_occasion as integer) as days_first_to_last_occasion,
        cast(days_first_occasion_to_as_of as integer) as days_first_occasion_to_as_of,
        cast(mean_repeat_occasion_revenue as double) as mean_repeat_occasion_revenue,
        cast(p_alive as double) as p_alive,
        cast(expected_purchases as double) as expected_purchases,
        cast(expected_order_value as double) as expected_order_value,
        cast(expected_value as double) as expected_value
    from source

)

select * from renamed
