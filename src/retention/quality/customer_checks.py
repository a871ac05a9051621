"""The checks of marts.customers and the lifetime-value model."""

from __future__ import annotations

from .check import Check, Severity


def _customers_breaking(label: str, condition: str) -> str:
    """One row: the customers of marts.customers breaking `condition`, counted against 0, the key
    `label` with up to five example ids."""
    return f"""select '{label}' || coalesce(': e.g. ' || string_agg(customer_id, ', ') filter (where rank_in_list <= 5), '')
                          as key,
                      count(*) as observed, 0 as expected
               from (select customer_id, row_number() over (order by customer_id) as rank_in_list
                     from marts.customers where {condition})"""


# whether a lifetime-value model's columns must be there: its fit is usable
_USABLE = "coalesce((select bool_and(is_usable) from marts.clv_model where model = '{model}'), false)"

# Customers and lifetime value (docs/reference.md §4.5, §4.6): four checks, one row per rule, so that the
# run's summary stays one screen.
CUSTOMER_CHECKS = [
    Check(
        "clv_fit_is_usable",
        "For each lifetime-value model (bg_nbd, gamma_gamma): the maximum-likelihood fit converged and its "
        "parameters are in the model's domain (all finite and > 0; Gamma-Gamma q > 1), unless the data do not "
        "identify the model (clv_fit_is_identified warns then). Observed 1 = usable.",
        """with models as (select model from (values ('bg_nbd'), ('gamma_gamma')) as listed (model)),
                judged as (
                    select model,
                           bool_and(is_usable) as converged,
                           bool_and(is_identified) as identified,
                           bool_and(isfinite(value) and value > 0) as positive,
                           max(case when parameter = 'q' then value end) as q,
                           max(fit_problem) as problem
                    from marts.clv_model group by model)
           select models.model || coalesce(': ' || judged.problem, '')
                      || case when judged.model is null then ': no parameters in marts.clv_model'
                              when not judged.identified then ' (not identified: see clv_fit_is_identified)'
                              when not judged.positive then ': a parameter is not finite and > 0'
                              when models.model = 'gamma_gamma' and not judged.q > 1 then ': q <= 1 (no finite mean spend)'
                              else '' end as key,
                  case when not judged.identified then 1
                       when judged.converged and judged.positive and (models.model <> 'gamma_gamma' or judged.q > 1)
                       then 1 else 0 end as observed,
                  1 as expected
           from models left join judged using (model)""",
        advice="the marts' p_alive and expected values are NULL; see fit_problem in marts.clv_model",
    ),
    Check(
        "clv_fit_is_identified",
        "A warning: the data identify each lifetime-value model (someone to fit, no parameter heading for the "
        "edge of the parameter space), and the backtest's refit is usable. Too few or too uniform customers "
        "leave a model's columns NULL, not wrong. Observed 1 = identified.",
        """select model || coalesce(': ' || max(fit_problem), '') as key,
                  min(case when is_identified then 1 else 0 end) as observed, 1 as expected
           from marts.clv_model group by model
           union all
           select 'backtest ' || coalesce(min(calibration_end_date)::varchar || ' + ' || min(holdout_days) || ' days',
                                          'not run (history under three days)'),
                  coalesce(min(case when is_usable then 1 else 0 end), 1), 1
           from marts.clv_backtest""",
        severity=Severity.WARN,
    ),
    Check(
        "customer_lifetime_values_in_range",
        "Every customer with a completed order has p_alive in [0, 1] (when the BG/NBD is usable), and "
        "expected_purchases (BG/NBD), expected_order_value (Gamma-Gamma) and expected_value (both) >= 0; "
        "none of them without a completed order (observed: customers breaking each rule).",
        _customers_breaking(
            "p_alive",
            f"""case when p_alive is not null then completed_orders = 0 or not p_alive between 0 and 1
                    else completed_orders > 0 and {_USABLE.format(model="bg_nbd")} end""",
        )
        + "\nunion all\n"
        + _customers_breaking(
            "expected values",
            f"""case when completed_orders = 0
                    then coalesce(expected_purchases, expected_order_value, expected_value) is not null
                    else coalesce(expected_purchases < 0 or expected_order_value < 0 or expected_value < 0, false)
                         or (expected_purchases is null and {_USABLE.format(model="bg_nbd")})
                         or (expected_order_value is null and {_USABLE.format(model="gamma_gamma")})
                         or (expected_value is null and expected_purchases is not null
                             and expected_order_value is not null) end""",
        ),
    ),
    Check(
        "customers_add_up",
        "marts.customers: every customer with a completed order has the three RFM scores in 1..5 and a "
        "segment, none without one (observed: customers breaking this); the customers' revenue is the "
        "revenue of all completed orders (observed: the difference beyond half a cent per customer, the "
        "rounding of each); customers with a completed order = the sum of the monthly cohort sizes.",
        _customers_breaking(
            "RFM scores",
            """case when completed_orders > 0
                    then not coalesce(rfm_recency_score between 1 and 5 and rfm_frequency_score between 1 and 5
                                      and rfm_monetary_score between 1 and 5 and rfm_segment is not null, false)
                    else coalesce(rfm_recency_score, rfm_frequency_score, rfm_monetary_score) is not null
                         or rfm_segment is not null end""",
        )
        + """
           union all
           select 'revenue: customers ' || customers.revenue || ' vs completed orders ' || completed.revenue,
                  case when abs(customers.revenue - completed.revenue) <= 0.005 * customers.n then 0
                       else abs(customers.revenue - completed.revenue) end,
                  0
           from (select coalesce(sum(revenue), 0) as revenue, count(*) as n from marts.customers) as customers
           cross join (select coalesce(sum(amount), 0) as revenue
                       from staging.stg_crm__orders where is_completed) as completed
           union all
           select 'customers with a completed order vs monthly cohort sizes',
                  (select count(*) from marts.customers where completed_orders > 0),
                  (select coalesce(sum(cohort_size), 0) from marts.cohort_retention
                   where cohort_grain = 'month' and period_number = 0)""",
    ),
]
