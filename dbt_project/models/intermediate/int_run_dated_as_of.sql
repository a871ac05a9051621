{#- docs/reference.md §3: the as-of date is the newest batch date the run builds from (batches on or before the
    through date), so completeness follows the data, not the wall clock. -#}
with

export_files as (

    select * from {{ ref('stg_crm__manifest') }}

),

newest as (

    select max(batch_date) as as_of_date
    from export_files

)

select
    as_of_date,
    {{ to_utc_timestamp('as_of_date') }} as as_of_at
from newest
