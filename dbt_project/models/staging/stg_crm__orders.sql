with

source as (

    select * from {{ source('crm', 'orders') }}
    where batch_date <= cast('{{ through_date() }}' as date)

),

renamed as (

    select
        cast(order_id as varchar) as order_id,
        cast(customer_id as varchar) as customer_id,
        cast(ordered_at as timestamp) as ordered_at,
        cast(amount as decimal(18, 4)) as amount,
        cast(currency as varchar) as currency,
        cast(status as varchar) as order_status,
        status = 'completed' as is_completed,
        cast(batch_date as date) as source_batch_date,
        cast(source_file as varchar) as source_file,
        cast(source_line as bigint) as source_line,
        -- the latest batch wins, then the last row of the file (docs/reference.md §1)
        row_number() over (
            partition by order_id
            order by batch_date desc, source_line desc
        ) as version_rank

    from source

)

select
    order_id,
    customer_id,
    ordered_at,
    amount,
    currency,
    order_status,
    is_completed,
    source_batch_date,
    source_file,
    source_line
from renamed
where version_rank = 1
