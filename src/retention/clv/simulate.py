"""The generative processes of both models, simulated directly (for tests and benchmarks: the truth a
fit must recover).

BG/NBD (Fader, Hardie & Lee 2005, §2): each customer has λ ~ gamma(shape r, rate α) and
p ~ beta(a, b); from the first purchase at time 0, purchases arrive as a Poisson process of rate λ,
and after each repeat purchase the customer drops out with probability p. Gamma-Gamma: each customer
has ν ~ gamma(shape q, rate v), and each repeat transaction's spend is gamma(shape p, rate ν).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Customers:
    """Per-customer statistics as the warehouse computes them (docs/reference.md §4.6)."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    m: FloatArray  # mean repeat spend; NaN where x = 0


def observation_lengths(n: int, longest: float, rng: np.random.Generator) -> FloatArray:
    """T for n customers whose first purchases are spread evenly over the `longest` days before the
    as-of date (at least one day)."""
    return np.maximum(rng.uniform(0.0, longest, n), 1.0)


def purchases(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: FloatArray,
    rng: np.random.Generator,
    whole_days: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """(x, t_x) of customers observed for T, simulated from the BG/NBD process (α in T's unit).

    whole_days: count purchase occasions as the warehouse does (§4.1): times are floored to days,
    purchases on a day that already had one are the same occasion, and the first day is day 0.
    """
    n = T.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    active = np.arange(n)
    # One step per purchase for the customers still buying within their window: vectorised over
    # customers, the loop runs as many times as the most frequent buyer buys.
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        inside = now[active] <= T[active]
        active = active[inside]
        if whole_days:
            day = np.floor(now[active])
            new_day = day > t_x[active]
            t_x[active[new_day]] = day[new_day]
            x[active[new_day]] += 1
        else:
            t_x[active] = now[active]
            x[active] += 1
        # drop out right after this purchase with probability p
        active = active[rng.uniform(size=active.size) >= p[active]]
    return x, t_x


def mean_spends(p: float, q: float, v: float, x: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Mean of x gamma(p, ν) spends, ν ~ gamma(q, rate v), per customer; NaN where x = 0.

    The sum of x i.i.d. gamma(p, ν) spends is gamma(p x, ν), so the mean is drawn in one step.
    """
    nu = rng.gamma(q, 1.0 / v, x.size)
    m = np.full(x.size, np.nan)
    buyers = x > 0
    m[buyers] = rng.gamma(p * x[buyers], 1.0 / nu[buyers]) / x[buyers]
    return m


def customers(
    n: int,
    bgnbd: tuple[float, float, float, float],
    spend: tuple[float, float, float],
    longest: float,
    seed: int,
    whole_days: bool = False,
) -> Customers:
    """n customers from both processes, observed for up to `longest` time units."""
    rng = np.random.default_rng(seed)
    T = observation_lengths(n, longest, rng)
    if whole_days:
        T = np.floor(T)
    x, t_x = purchases(*bgnbd, T, rng, whole_days=whole_days)
    return Customers(x, t_x, T, mean_spends(*spend, x, rng))
