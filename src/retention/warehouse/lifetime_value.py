"""The lifetime-value fit of a run (docs/reference.md §4.6): a stage of the build between two dbt steps.

dbt first builds everything that does not depend on the fit, including the purchase occasions
(`intermediate.int_orders_grouped_into_occasions`: one row per customer and local calendar day with
a completed order, and its revenue) and the as-of date. This stage reads them, fits the BG/NBD and
Gamma-Gamma models with `retention.clv.fit_clv`, and writes schema `clv` of the build database:

- `clv.customer_values`: per customer with an occasion on or before the as-of date, the statistics
  (x, t_x, T, m) and p_alive, expected_purchases, expected_order_value, expected_value;
- `clv.model_parameters`: the rows of marts.clv_model, with whether each model's fit is usable;
- `clv.backtest`: the same fit on the occasions up to as_of − H', its forecast of the next H' days
  against the occasions that happened (H' = the horizon, or a third of the history when shorter).

dbt then builds the marts on these tables (declared as source `clv`). A fit that does not converge
does not stop the build: its columns are NULL and the audit fails by name (clv_fit_is_usable), or
only warns (clv_fit_is_identified) when the data cannot identify the model (too few or too uniform).

Why a stage and not a dbt Python model: the fit is plain numpy on per-customer aggregates, so it is
the same for every engine, whereas dbt Python models run only on some adapters (dbt-duckdb, and
dbt-spark only through Databricks or Dataproc job submission, not a local Spark session).
"""

from __future__ import annotations

import datetime as dt
import logging
import resource
import time
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ..clv import ClvFit, ModelFit, fit_clv

log = logging.getLogger(__name__)

OCCASIONS = "intermediate.int_orders_grouped_into_occasions"
AS_OF = "intermediate.int_run_dated_as_of"
REPEAT_GROUPS = 7  # backtest groups by repeat occasions in calibration: 0, 1, …, 6 and "7+"


@dataclass(frozen=True)
class Statistics:
    """Per customer with an occasion on or before `cutoff`: x, t_x, T (days) and m (docs/reference.md §4.6),
    and the occasions after the cutoff, up to `until` (the backtest's holdout; 0 without one)."""

    customer_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    later: np.ndarray


def statistics(con: duckdb.DuckDBPyConnection, cutoff: dt.date, until: dt.date | None = None) -> Statistics:
    """x = occasions − 1, t_x = days first → last occasion, T = days first occasion → cutoff, m = the
    mean revenue of the repeat occasions (the first, the earliest day, excluded; 0 when x = 0), all
    on or before `cutoff`; later = occasions in (cutoff, until]."""
    frame = con.execute(
        f"""with calibration as (
                select customer_id,
                       count(*) filter (where occasion_date <= $cutoff) as occasions,
                       min(occasion_date) as first_date,
                       max(occasion_date) filter (where occasion_date <= $cutoff) as last_date,
                       sum(revenue) filter (where occasion_date <= $cutoff) as revenue,
                       arg_min(revenue, occasion_date) as first_revenue,
                       count(*) filter (where occasion_date > $cutoff and occasion_date <= $until) as later
                from {OCCASIONS}
                group by customer_id
                having min(occasion_date) <= $cutoff)
            select customer_id,
                   occasions - 1 as x,
                   date_diff('day', first_date, last_date) as t_x,
                   date_diff('day', first_date, $cutoff) as big_t,
                   coalesce((revenue - first_revenue) / nullif(occasions - 1, 0), 0) as m,
                   later
            from calibration
            order by customer_id""",
        {"cutoff": cutoff, "until": until or cutoff},
    ).df()
    return Statistics(
        frame["customer_id"].to_numpy(dtype=object),
        *(frame[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "big_t", "m", "later")),
    )


def _fit(stats: Statistics, horizon_days: float) -> tuple[ClvFit, float, float]:
    """The fit, its wall time (s) and the process's peak resident memory so far (MiB)."""
    started = time.perf_counter()
    fit = fit_clv(stats.x, stats.t_x, stats.T, stats.m, horizon_days=horizon_days)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return fit, seconds, peak_mib


# |ln θ| beyond this (θ above e^10 ≈ 22,000 or below 1/22,000, in days and currency units) means the
# likelihood keeps rising towards a limiting model at the edge of the parameter space — no spend
# heterogeneity (Gamma-Gamma q, v → ∞), no dropout (BG/NBD b → ∞) — rather than peaking inside it;
# the search itself stops at e^±15 (clv.optimise.LOG_BOUND). Published fits of real data sit within
# e^±5 (CDNOW: r 0.24, α 4.4 weeks, a 0.79, b 2.4; p 6.25, q 3.74, v 15.4).
IDENTIFIED_LOG_BOUND = 10.0


def identified(model: ModelFit) -> bool:
    """False when the data cannot pin the model down: nobody to fit (e.g. no repeat spend for the
    Gamma-Gamma), or a parameter heading for the edge of the parameter space (see
    IDENTIFIED_LOG_BOUND). Such a fit is unusable or meaningless but not wrong — too little or too
    uniform data — which the audit reports as a warning, unlike a fit that fails on data that
    identify the model."""
    if model.customers == 0:
        return False
    values = np.array(list(model.parameters.values()), dtype=np.float64)
    return bool(np.all(np.isfinite(values) & (values > 0)) and np.all(np.abs(np.log(values)) < IDENTIFIED_LOG_BOUND))


def _parameter_frame(fit: ClvFit, as_of: dt.date, horizon_days: int) -> pd.DataFrame:
    models = {f.model: f for f in (fit.bg_nbd, fit.gamma_gamma)}
    rows = [
        row
        | {
            "horizon_days": horizon_days,
            "is_usable": models[row["model"]].ok,
            "is_identified": identified(models[row["model"]]),
            "fit_problem": None if models[row["model"]].ok else (models[row["model"]].reason or "did not converge"),
        }
        for row in fit.parameter_rows(as_of)
    ]
    return pd.DataFrame(rows).astype({"value": "float64", "log_likelihood": "float64", "customers": "int64"})


def _backtest_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date, horizon_days: int) -> pd.DataFrame:
    """Refit on the occasions up to as_of − H' and compare its forecast for (as_of − H', as_of] with
    the occasions there, overall and by repeat occasions in calibration."""
    first = con.execute(f"select min(occasion_date) from {OCCASIONS} where occasion_date <= ?::date", [as_of]).fetchone()
    history_days = (as_of - first[0]).days if first and first[0] else 0
    holdout_days = min(horizon_days, history_days // 3)
    columns = [
        "as_of_date", "calibration_end_date", "holdout_days", "repeat_occasions_group", "group_order", "customers",
        "predicted_occasions", "actual_occasions", "mean_absolute_error", "is_usable",
    ]  # fmt: skip
    if holdout_days < 1:
        log.warning("clv backtest skipped: %s days of history leave no holdout", history_days)
        return pd.DataFrame(columns=columns)
    cutoff = as_of - dt.timedelta(days=holdout_days)
    calibration = statistics(con, cutoff, until=as_of)
    fit, seconds, _ = _fit(calibration, holdout_days)
    log.info("clv backtest fit: %d customers, %.2f s, problems: %s", calibration.x.size, seconds, fit.problems or "none")
    actual = calibration.later
    predicted = fit.expected_purchases
    group = np.minimum(calibration.x, REPEAT_GROUPS).astype(int)
    rows = []
    for label, order, members in [("all", -1, np.ones_like(group, dtype=bool))] + [
        (str(k) if k < REPEAT_GROUPS else f"{REPEAT_GROUPS}+", k, group == k) for k in range(REPEAT_GROUPS + 1)
    ]:
        n = int(members.sum())
        if n == 0:
            continue
        rows.append(
            {
                "as_of_date": as_of,
                "calibration_end_date": cutoff,
                "holdout_days": holdout_days,
                "repeat_occasions_group": label,
                "group_order": order,
                "customers": n,
                "predicted_occasions": float(predicted[members].sum()),
                "actual_occasions": float(actual[members].sum()),
                "mean_absolute_error": float(np.abs(predicted[members] - actual[members]).mean()),
                "is_usable": fit.bg_nbd.ok,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def fit_lifetime_value(database_con: duckdb.DuckDBPyConnection, horizon_days: int) -> ClvFit | None:
    """Write schema clv of the build database (see the module docstring); None without an as-of date."""
    con = database_con
    row = con.execute(f"select as_of_date from {AS_OF}").fetchone()
    if not row or row[0] is None:
        return None
    as_of: dt.date = row[0]
    stats = statistics(con, as_of)
    fit, seconds, peak_mib = _fit(stats, horizon_days)
    log.info(
        "clv fit: %d customers (%d distinct x, t_x, T), %.2f s, peak memory %.0f MiB, problems: %s",
        stats.x.size, fit.distinct_triples, seconds, peak_mib, fit.problems or "none",
    )  # fmt: skip
    values = pd.DataFrame(
        {
            "customer_id": stats.customer_id,
            "repeat_occasions": stats.x.astype(np.int64),
            "days_first_to_last_occasion": stats.t_x.astype(np.int64),
            "days_first_occasion_to_as_of": stats.T.astype(np.int64),
            "mean_repeat_occasion_revenue": np.where(stats.x > 0, stats.m, np.nan),
            "p_alive": fit.p_alive,
            "expected_purchases": fit.expected_purchases,
            "expected_order_value": fit.expected_order_value,
            "expected_value": fit.expected_value,
        }
    )
    parameters = _parameter_frame(fit, as_of, horizon_days)
    backtest = _backtest_frame(con, as_of, horizon_days)
    con.execute("create schema if not exists clv")
    for name, frame in (("customer_values", values), ("model_parameters", parameters), ("backtest", backtest)):
        con.register("frame", frame)
        # NaN (a model that failed, m without repeats) is stored as NULL
        numeric = [c for c in frame.columns if frame[c].dtype == np.float64]
        cols = ", ".join(f"case when isnan({c}) then null else {c} end as {c}" if c in numeric else c for c in frame.columns)
        con.execute(f"create or replace table clv.{name} as select {cols} from frame")
        con.unregister("frame")
    return fit
