{#- docs/reference.md §4.1: each customer with a completed order in its channel and region (from
    int_customers_profiled); segment_type `all` holds every such customer once, so one computation
    serves the overall marts too. -#}
with

customers_with_orders as (

    select distinct customer_id from {{ ref('int_orders_filtered_to_completed') }}

),

profiles as (

    select * from {{ ref('int_customers_profiled') }}

),

profiled as (

    select
        customers_with_orders.customer_id,
        profiles.channel,
        profiles.region
    from customers_with_orders
    -- every customer with an order is profiled
    inner join profiles on profiles.customer_id = customers_with_orders.customer_id

)

select
    customer_id,
    'all' as segment_type,
    'all' as segment_value
from profiled
union all
select
    customer_id,
    'channel' as segment_type,
    channel as segment_value
from profiled
union all
select
    customer_id,
    'region' as segment_type,
    region as segment_value
from profiled
