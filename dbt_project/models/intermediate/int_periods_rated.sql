{#- docs/reference.md §4.2: every rate of a period, written once for the whole customer base
    (segment type `all`) and for each segment value: the seed rate (E - N) / S, the strict rate
    retained / S, churn, revenue retention (NRR, GRR), and whether the period is complete.
    marts.period_retention and marts.period_retention_by_segment select their rows from it.
    A view: both marts read it once, and DuckDB plans it into each. -#}
{{ config(materialized='view') }}

with

counted as (

    select * from {{ ref('int_periods_counted_by_segment') }}

),

as_of as (

    select * from {{ ref('int_run_dated_as_of') }}

)

select
    cast(counted.segment_type as varchar) as segment_type,
    cast(counted.segment_value as varchar) as segment_value,
    cast(counted.period_grain as varchar) as period_grain,
    cast(counted.period_start as date) as period_start,
    cast(counted.customers_start as bigint) as customers_start,
    cast(counted.customers_end as bigint) as customers_end,
    cast(counted.new_customers as bigint) as new_customers,
    cast(counted.retained_customers as bigint) as retained_customers,
    cast(counted.customers_end - counted.new_customers - counted.retained_customers as bigint)
        as reactivated_customers,
    cast(counted.customers_start - counted.retained_customers as bigint) as churned_customers,
    case
        when counted.customers_start > 0
            then cast(counted.customers_end - counted.new_customers as double) / counted.customers_start
    end as retention_rate,
    case
        when counted.customers_start > 0
            then cast(counted.retained_customers as double) / counted.customers_start
    end as strict_retention_rate,
    coalesce(counted.period_end <= as_of.as_of_date, false) as is_complete,
    case
        when counted.customers_start > 0
            then cast(counted.customers_start - counted.retained_customers as double) / counted.customers_start
    end as churn_rate,
    cast(counted.revenue_start as decimal(18, 2)) as revenue_start,
    cast(counted.revenue_end as decimal(18, 2)) as revenue_end,
    cast(counted.retained_revenue as decimal(18, 2)) as retained_revenue,
    cast(counted.gross_retained_revenue as decimal(18, 2)) as gross_retained_revenue,
    case
        when counted.revenue_start > 0
            then cast(counted.retained_revenue as double) / cast(counted.revenue_start as double)
    end as net_revenue_retention,
    case
        when counted.revenue_start > 0
            then cast(counted.gross_retained_revenue as double) / cast(counted.revenue_start as double)
    end as gross_revenue_retention
from counted
cross join as_of
