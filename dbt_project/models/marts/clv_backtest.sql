{#- How well the lifetime-value model forecasts: refitted on the occasions up to as_of − H', its
    expected occasions in the next H' days against those that happened (lifetime_value.py). -#}
with

backtest as (

    select * from {{ ref('stg_clv__backtest') }}

)

select
    as_of_date,
    calibration_end_date,
    holdout_days,
    repeat_occasions_group,
    group_order,
    customers,
    predicted_occasions,
    actual_occasions,
    predicted_occasions - actual_occasions as forecast_error,
    mean_absolute_error,
    is_usable
from backtest
