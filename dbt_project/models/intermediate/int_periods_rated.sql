{#- docs/reference.md §4 and §4.2: every rate of a period, written once for the whole customer base
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

),

-- reactivated and churned once, so that churn_rate divides the churned column itself
derived as (

    select
        counted.*,
        cast(counted.customers_end - counted.new_customers - counted.retained_customers as bigint)
            as reactivated_customers,
        cast(counted.customers_start - counted.retained_customers as bigint) as churned_customers
    from counted

)

select
    cast(derived.segment_type as varchar) as segment_type,
    cast(derived.segment_value as varchar) as segment_value,
    cast(derived.period_grain as varchar) as period_grain,
    cast(derived.period_start as date) as period_start,
    cast(derived.customers_start as bigint) as customers_start,
    cast(derived.customers_end as bigint) as customers_end,
    cast(derived.new_customers as bigint) as new_customers,
    cast(derived.retained_customers as bigint) as retained_customers,
    derived.reactivated_customers,
    derived.churned_customers,
    {{ ratio('derived.customers_end - derived.new_customers', 'derived.customers_start') }} as retention_rate,
    {{ ratio('derived.retained_customers', 'derived.customers_start') }} as strict_retention_rate,
    {{ is_complete('derived.period_end', 'as_of.as_of_date') }} as is_complete,
    {{ ratio('derived.churned_customers', 'derived.customers_start') }} as churn_rate,
    cast(derived.revenue_start as decimal(18, 2)) as revenue_start,
    cast(derived.revenue_end as decimal(18, 2)) as revenue_end,
    cast(derived.retained_revenue as decimal(18, 2)) as retained_revenue,
    cast(derived.gross_retained_revenue as decimal(18, 2)) as gross_retained_revenue,
    {{ ratio('derived.retained_revenue', 'derived.revenue_start') }} as net_revenue_retention,
    {{ ratio('derived.gross_retained_revenue', 'derived.revenue_start') }} as gross_revenue_retention
from derived
cross join as_of
