{#- Contract §4.4: the counts of marts.period_retention over the customers of one segment value. -#}
with

counted as (

    select * from {{ ref('int_periods_counted_by_segment') }}
    where segment_type <> 'all'

)

select
    cast(segment_type as varchar) as segment_type,
    cast(segment_value as varchar) as segment_value,
    cast(period_grain as varchar) as period_grain,
    cast(period_start as date) as period_start,
    cast(customers_start as bigint) as customers_start,
    cast(customers_end as bigint) as customers_end,
    cast(new_customers as bigint) as new_customers,
    cast(retained_customers as bigint) as retained_customers,
    cast(customers_end - new_customers - retained_customers as bigint) as reactivated_customers,
    cast(customers_start - retained_customers as bigint) as churned_customers,
    case
        when customers_start > 0
            then cast(customers_end - new_customers as double) / customers_start
    end as retention_rate,
    case
        when customers_start > 0
            then cast(retained_customers as double) / customers_start
    end as strict_retention_rate,
    cast(revenue_start as decimal(18, 2)) as revenue_start,
    cast(revenue_end as decimal(18, 2)) as revenue_end,
    cast(retained_revenue as decimal(18, 2)) as retained_revenue,
    cast(gross_retained_revenue as decimal(18, 2)) as gross_retained_revenue
from counted
