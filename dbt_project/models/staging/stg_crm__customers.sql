with

source as (

    select * from {{ source('crm', 'customers') }}
    where batch_date <= cast('{{ through_date() }}' as date)

),

renamed as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(created_at as timestamp) as created_at,
        cast(channel as varchar) as channel,
        cast(region as varchar) as region,
        cast(batch_date as date) as source_batch_date,
        cast(source_file as varchar) as source_file,
        cast(source_line as bigint) as source_line,
        -- the latest batch wins, then the last row of the file (docs/reference.md §1)
        row_number() over (
            partition by customer_id
            order by batch_date desc, source_line desc
        ) as version_rank

    from source

)

select
    customer_id,
    created_at,
    channel,
    region,
    source_batch_date,
    source_file,
    source_line
from renamed
where version_rank = 1
