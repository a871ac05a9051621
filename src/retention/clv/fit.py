"""Both models of docs/reference.md §4.6 on per-customer arrays, with the per-customer columns of §4.5.

For customer c (docs/reference.md §4.6): x = purchase occasions − 1, t_x = days from the first to the last
occasion, T = days from the first occasion to the as-of date, m = mean revenue of the repeat
occasions (the first excluded; ignored where x = 0). The BG/NBD is fitted on every customer; the
Gamma-Gamma on those with x ≥ 1 and m > 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import bgnbd, gamma_gamma
from .optimise import ModelFit, with_domain_check
from .sufficient import group

FloatArray = NDArray[np.float64]
TimeUnit = Literal["day", "week"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}


@dataclass(frozen=True)
class ClvFit:
    """The outcome of `fit_clv`.

    bg_nbd, gamma_gamma: each model's fit (parameters, log-likelihood, customers fitted, converged,
    reason); time_unit: the unit of r/α (contract: clv_model.time_unit); horizon_days: H;
    distinct_triples: distinct (x, t_x, T) the BG/NBD likelihood was evaluated on.
    Per customer, in input order: p_alive, expected_purchases (E[Y(H)]), expected_order_value
    (E[M | x, m]) and expected_value (their product). A column is NaN throughout when the model it
    comes from is not ok: read `ok` / `problems` first.
    """

    bg_nbd: ModelFit
    gamma_gamma: ModelFit
    time_unit: TimeUnit
    horizon_days: float
    distinct_triples: int
    p_alive: FloatArray
    expected_purchases: FloatArray
    expected_order_value: FloatArray
    expected_value: FloatArray

    @property
    def ok(self) -> bool:
        return self.bg_nbd.ok and self.gamma_gamma.ok

    @property
    def problems(self) -> list[str]:
        """'model: reason' for each model that is not ok (empty when both are)."""
        return [f"{f.model}: {f.reason or 'did not converge'}" for f in (self.bg_nbd, self.gamma_gamma) if not f.ok]

    def parameter_rows(self, as_of_date: dt.date) -> list[dict[str, Any]]:
        """The rows of marts.clv_model (docs/reference.md §4.6): one per (model, parameter)."""
        return [
            {
                "model": f.model,
                "parameter": name,
                "value": value,
                "time_unit": self.time_unit,
                "as_of_date": as_of_date,
                "customers": f.customers,
                "log_likelihood": f.log_likelihood,
            }
            for f in (self.bg_nbd, self.gamma_gamma)
            for name, value in f.parameters.items()
        ]


def _validated(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, m: ArrayLike) -> tuple[FloatArray, ...]:
    """The inputs as float arrays; a ValueError naming the first broken rule (an upstream bug, not a
    fit failure)."""
    arrays = tuple(np.asarray(v, dtype=np.float64).reshape(-1) for v in (x, t_x, T, m))
    x_, t_, T_, m_ = arrays
    if not (x_.size == t_.size == T_.size == m_.size):
        raise ValueError(f"x, t_x, T, m differ in length: {x_.size}, {t_.size}, {T_.size}, {m_.size}")
    rules = {
        "x is a whole number ≥ 0": np.isfinite(x_) & (x_ >= 0) & (x_ == np.round(x_)),
        "0 ≤ t_x ≤ T": np.isfinite(t_) & np.isfinite(T_) & (t_ >= 0) & (t_ <= T_),
        "t_x = 0 where x = 0": (x_ > 0) | (t_ == 0),
        "t_x > 0 where x > 0 (repeat occasions are on later days)": (x_ == 0) | (t_ > 0),
        "m is finite and ≥ 0 where x > 0": (x_ == 0) | (np.isfinite(m_) & (m_ >= 0)),
    }
    for rule, holds in rules.items():
        broken = int(np.count_nonzero(~holds))
        if broken:
            raise ValueError(f"{broken} customer(s) break the rule: {rule}")
    return arrays


def fit_clv(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    horizon_days: float,
    time_unit: TimeUnit = "day",
) -> ClvFit:
    """Fit the BG/NBD to (x, t_x, T) and the Gamma-Gamma to (x, m) of customers with x ≥ 1 and m > 0,
    and evaluate the per-customer columns of docs/reference.md §4.5 for a horizon of `horizon_days` days.

    t_x and T are in days; the BG/NBD is fitted in `time_unit` (r/α are reported in it). Days by
    default: the search is on log-parameters, where a change of unit only shifts ln α, so both units
    take the same iterations to the same optimum (measured: benchmarks/clv_fit.py prints both);
    weeks would add a conversion and nothing else.
    """
    x_, t_days, T_days, m_ = _validated(x, t_x, T, m)
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be > 0, not {horizon_days}")
    scale = DAYS_PER_UNIT[time_unit]

    # Grouped in days (whole days in the warehouse), then rescaled: the same rows in either unit.
    triples = group(x_, t_days, T_days)
    gx, gt, gT = triples.columns
    gt, gT = gt / scale, gT / scale
    occasions = bgnbd.fit(gx, gt, gT, weight=triples.counts, time_unit=time_unit)

    spenders = (x_ > 0) & (m_ > 0)
    spend = gamma_gamma.fit(x_[spenders], m_[spenders])
    spend = with_domain_check(spend, gamma_gamma.domain_problem(spend.parameters["q"]))

    n = x_.size
    p_alive = np.full(n, np.nan)
    purchases = np.full(n, np.nan)
    order_value = np.full(n, np.nan)
    if occasions.ok:
        r, alpha, a, b = (occasions.parameters[k] for k in bgnbd.PARAMETERS)
        # per distinct triple, then spread to its customers
        p_alive = bgnbd.p_alive(r, alpha, a, b, gx, gt, gT)[triples.inverse]
        purchases = bgnbd.expected_purchases(r, alpha, a, b, horizon_days / scale, gx, gt, gT)[triples.inverse]
        if not np.all(np.isfinite(purchases)):
            occasions = with_domain_check(occasions, "E[Y(H)] is not finite for some customers (equation 10)")
            p_alive = np.full(n, np.nan)
            purchases = np.full(n, np.nan)
    if spend.ok:
        p, q, v = (spend.parameters[k] for k in gamma_gamma.PARAMETERS)
        order_value = gamma_gamma.expected_order_value(p, q, v, x_, m_)
    return ClvFit(
        bg_nbd=occasions,
        gamma_gamma=spend,
        time_unit=time_unit,
        horizon_days=float(horizon_days),
        distinct_triples=triples.rows,
        p_alive=p_alive,
        expected_purchases=purchases,
        expected_order_value=order_value,
        expected_value=purchases * order_value,
    )
