{#- Completed orders on the marts' calendar: the only orders that count as activity or revenue. -#}
with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

localized as (

    select
        order_id,
        customer_id,
        amount,
        ordered_at,
        {{ to_local_timestamp('ordered_at') }} as ordered_at_local
    from orders
    where is_completed

)

select
    order_id,
    customer_id,
    amount,
    ordered_at,
    ordered_at_local,
    cast(ordered_at_local as date) as ordered_date_local
from localized
