{#- Which customers were active in which period, for every grain of var period_grains. -#}
with

completed_orders as (

    select * from {{ ref('int_orders_filtered_to_completed') }}

),

{% for grain in var('period_grains') %}
by_{{ grain.name }} as (

    select
        '{{ grain.name }}' as period_grain,
        {{ period_start(grain.name, 'ordered_at_local') }} as period_start,
        customer_id,
        count(*) as completed_orders,
        -- amounts are decimal(18, 4): the sum stays there (not DuckDB's 38-digit sum), so every model
        -- after this one adds, compares and rounds 64-bit decimals
        cast(sum(amount) as decimal(18, 4)) as revenue
    from completed_orders
    group by 1, 2, 3

){{ "," if not loop.last }}
{% endfor %}

{% for grain in var('period_grains') %}
select * from by_{{ grain.name }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
