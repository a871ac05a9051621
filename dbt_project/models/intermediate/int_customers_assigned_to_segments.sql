{#- docs/reference.md §4.1: channel and region from the customer's latest customers row, `unknown` without one;
    segment_type `all` holds every customer once, so one computation serves the overall marts too. -#}
with

customers_with_orders as (

    select distinct customer_id from {{ ref('int_orders_filtered_to_completed') }}

),

profiles as (

    select * from {{ ref('stg_crm__customers') }}

),

profiled as (

    select
        customers_with_orders.customer_id,
        coalesce(profiles.channel, 'unknown') as channel,
        coalesce(profiles.region, 'unknown') as region
    from customers_with_orders
    left join profiles on profiles.customer_id = customers_with_orders.customer_id

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
