{#- docs/reference.md §4.1: a purchase occasion is a calendar day in RETENTION_TIMEZONE with at least one
    completed order; several orders on one local day are one occasion with their summed revenue. -#}
with

completed_orders as (

    select * from {{ ref('int_orders_filtered_to_completed') }}

)

select
    customer_id,
    ordered_date_local as occasion_date,
    count(*) as completed_orders,
    sum(amount) as revenue
from completed_orders
group by 1, 2
