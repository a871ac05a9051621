"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284).

While active, a customer buys at Poisson rate λ, λ ~ gamma(r, α) across customers; after each
repeat purchase the customer drops out for good with probability p, p ~ beta(a, b). A customer is
described by x (repeat purchases), t_x (time of the last purchase) and T (time observed), all
measured from the first purchase. Times are in one unit (days or weeks): α is in that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln, digamma, gammaln, hyp2f1

from .optimise import ModelFit, maximise
from .sufficient import group, weighted_sum

FloatArray = NDArray[np.float64]
PARAMETERS = ("r", "alpha", "a", "b")
A_NEAR_ONE = 1e-4  # see expected_purchases


def _log_terms(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The pieces of equation 6: log L = common + log(e^{still} + δ_{x>0} e^{dropped}), where

    common  = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
    still   = −(r+x) ln(α+T)                                  (alive at T: no purchase in (t_x, T])
    dropped = ln a − ln(b+x−1) − (r+x) ln(α+t_x)              (dropped out right after t_x)

    using B(a+1, b+x−1) / B(a, b+x) = a / (b+x−1). `dropped` is −inf where x = 0 (δ_{x>0} = 0).
    """
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return common, still, dropped


def log_likelihood(r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Per-customer log-likelihood, equation 6 of the paper:

    L(r, α, a, b | x, t_x, T) = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^{r+x})
                               + δ_{x>0} · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^{r+x})
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    common, still, dropped = _log_terms(r, alpha, a, b, x, t_x, T)
    return common + np.logaddexp(still, dropped)


@dataclass(frozen=True)
class _Rows:
    """Distinct (x, t_x, T) with weights, arranged for the objective: the terms that depend on x only
    (the Γ, B and ψ functions, the costly part) are evaluated once per distinct x, and customers
    with x = 0 (no 'dropped' term) apart from the others."""

    x_values: FloatArray  # distinct x
    weight_by_x: FloatArray  # customers per distinct x
    T0: FloatArray  # T of rows with x = 0
    w0: FloatArray
    x: FloatArray  # rows with x > 0
    t_x: FloatArray
    T: FloatArray
    w: FloatArray
    n: float

    @classmethod
    def of(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, weight: FloatArray) -> _Rows:
        x_values, index = np.unique(x, return_inverse=True)
        weight_by_x = np.bincount(index.reshape(-1), weights=weight, minlength=x_values.size).astype(np.float64)
        zero, rep = x == 0, x > 0
        return cls(x_values, weight_by_x, T[zero], weight[zero], x[rep], t_x[rep], T[rep], weight[rep], float(weight.sum()))


def _mean_log_likelihood_and_gradient(theta: FloatArray, rows: _Rows) -> tuple[float, FloatArray]:
    """Weighted mean of equation 6's logarithm (equation 7 summed over customers) and its gradient
    with respect to (ln r, ln α, ln a, ln b). With w = the posterior weight of 'dropped' in the sum
    (0 where x = 0):

    ∂/∂r = ψ(r+x) − ψ(r) + ln α − (1−w) ln(α+T) − w ln(α+t_x)
    ∂/∂α = r/α − (r+x) [(1−w)/(α+T) + w/(α+t_x)]
    ∂/∂a = ψ(a+b) − ψ(a+b+x) + w/a
    ∂/∂b = ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) − w/(b+x−1)
    """
    r, alpha, a, b = np.exp(theta)
    ux, wx = rows.x_values, rows.weight_by_x
    # the terms in x only, once per distinct x
    common = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
    psi_rx, psi_abx = digamma(r + ux), digamma(a + b + ux)
    sum_d_r = weighted_sum(wx, psi_rx - digamma(r) + np.log(alpha))
    sum_d_a = weighted_sum(wx, digamma(a + b) - psi_abx)
    sum_d_b = weighted_sum(wx, digamma(b + ux) - digamma(b) + digamma(a + b) - psi_abx)

    # x = 0: log L = common − r ln(α+T)
    log_T0 = np.log(alpha + rows.T0)
    total = weighted_sum(wx, common) - r * weighted_sum(rows.w0, log_T0)
    sum_d_r -= weighted_sum(rows.w0, log_T0)
    sum_d_alpha = r / alpha * rows.n - r * weighted_sum(rows.w0, 1 / (alpha + rows.T0))

    # x > 0: both terms of equation 6
    x, wt = rows.x, rows.w
    log_T, log_t = np.log(alpha + rows.T), np.log(alpha + rows.t_x)
    still = -(r + x) * log_T
    dropped = np.log(a) - np.log(b + x - 1) - (r + x) * log_t
    both = np.logaddexp(still, dropped)
    w = np.exp(dropped - both)
    total += weighted_sum(wt, both)
    sum_d_r -= weighted_sum(wt, (1 - w) * log_T + w * log_t)
    sum_d_alpha -= weighted_sum(wt, (r + x) * ((1 - w) / (alpha + rows.T) + w / (alpha + rows.t_x)))
    sum_d_a += weighted_sum(wt, w) / a
    sum_d_b -= weighted_sum(wt, w / (b + x - 1))

    grad = np.array([sum_d_r, sum_d_alpha, sum_d_a, sum_d_b]) * np.array([r, alpha, a, b]) / rows.n
    return total / rows.n, grad


def fit(
    x: FloatArray, t_x: FloatArray, T: FloatArray, weight: FloatArray | None = None, time_unit: str | None = None
) -> ModelFit:
    """Maximum-likelihood fit of (r, α, a, b) to customers' (x, t_x, T), in the unit of t_x and T.

    `weight`: how many customers each row stands for (rows already distinct); without it, customers
    sharing (x, t_x, T) are grouped here. Either way the total is equation 7 summed over customers,
    each distinct triple evaluated once.
    """
    if weight is None:
        grouped = group(x, t_x, T)
        x, t_x, T = grouped.columns
        weight = grouped.counts
    x, t_x, T, weight = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T, weight))
    if weight.sum() > 0 and not np.any(x[weight > 0] > 0):
        # x = 0 for everyone: ln B(a, b+x) − ln B(a, b) vanishes, so a and b do not enter the
        # likelihood, and (α/(α+T))^r keeps rising as the purchase rate r/α goes to 0.
        nan = {k: float("nan") for k in PARAMETERS}
        reason = "no customer has a repeat purchase: r, α, a, b are not identified"
        return ModelFit("bg_nbd", nan, float("nan"), int(round(weight.sum())), False, reason, 0, time_unit)
    # Start where the mean Poisson rate r/α matches the observed repeat rate, dropout at even odds:
    # r = 1, α = mean T / mean x, a = b = 1.
    n = float(weight.sum())
    mean_x = max(weighted_sum(weight, x) / max(n, 1.0), 1e-3)
    mean_T = max(weighted_sum(weight, T) / max(n, 1.0), 1e-3)
    start = np.log(np.array([1.0, mean_T / mean_x, 1.0, 1.0]))

    rows = _Rows.of(x, t_x, T, weight)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        return _mean_log_likelihood_and_gradient(theta, rows)

    return maximise("bg_nbd", PARAMETERS, objective, start, customers=int(round(n)), time_unit=time_unit)


def p_alive(r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """P(still active at T | x, t_x, T): the share of equation 6's likelihood that comes from its
    first ('alive at T') term, which is the denominator of equation 10 inverted
    (Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model"):

    P(alive) = 1 / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^{r+x}),   1 when x = 0.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    _, still, dropped = _log_terms(r, alpha, a, b, x, t_x, T)
    # e^{still} / (e^{still} + e^{dropped}) in logs: no overflow for large x
    return np.exp(still - np.logaddexp(still, dropped))


def expected_purchases(
    r: float, alpha: float, a: float, b: float, horizon: float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """E[Y(H) | x, t_x, T]: expected purchases in (T, T+H], equation 10 of the paper:

    E[Y(H) | ...] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+H))^{r+x} ₂F₁(r+x, b+x; a+b+x−1; H/(α+T+H))]
                    / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^{r+x})

    The denominator is 1 / P(alive), so it is computed as P(alive) · numerator. At a = 1 the first
    factor is 0/0 (a removable singularity: E[Y] is smooth in a), so within 5e-5 of it the value is
    the mean of those at a = 1 ± 1e-4, which differs from the limit by O(1e-8).
    """
    if abs(a - 1) < A_NEAR_ONE / 2:
        below = expected_purchases(r, alpha, 1 - A_NEAR_ONE, b, horizon, x, t_x, T)
        above = expected_purchases(r, alpha, 1 + A_NEAR_ONE, b, horizon, x, t_x, T)
        return (below + above) / 2
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    z = horizon / (alpha + T + horizon)
    shrink = np.exp((r + x) * np.log((alpha + T) / (alpha + T + horizon)))
    numerator = (a + b + x - 1) / (a - 1) * (1 - shrink * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return numerator * p_alive(r, alpha, a, b, x, t_x, T)
