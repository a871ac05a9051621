with

source as (

    select * from {{ source('crm', 'manifest') }}
    where batch_date <= cast('{{ through_date() }}' as date)

),

renamed as (

    select
        cast(batch_date as date) as batch_date,
        cast(file_name as varchar) as file_name,
        cast(table_name as varchar) as table_name,
        cast(present as boolean) as is_present,
        cast(rows_read as bigint) as rows_read,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined

    from source

)

select * from renamed
