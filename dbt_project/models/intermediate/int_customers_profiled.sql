{#- docs/reference.md §4.1 and §4.5: every customer with a customers row or an order of any status, with
    its segment values: channel and region from its latest customers row (staging keeps the latest),
    `unknown` without one. The one place of that rule: marts.customers and the segments read it. -#}
with

profiles as (

    select * from {{ ref('stg_crm__customers') }}

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

every_customer as (

    select customer_id from profiles
    union
    select customer_id from orders

)

select
    every_customer.customer_id,
    coalesce(profiles.channel, 'unknown') as channel,
    coalesce(profiles.region, 'unknown') as region
from every_customer
left join profiles on profiles.customer_id = every_customer.customer_id
