"""Values worked out by hand from the papers' equations, and the fit's failure reports."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import check_grad

from retention.clv import bgnbd, fit_clv, gamma_gamma, simulate
from retention.clv.bgnbd import _mean_log_likelihood_and_gradient, _Rows


def one(*values: float) -> tuple[np.ndarray, ...]:
    return tuple(np.array([float(v)]) for v in values)


def test_bgnbd_likelihood_of_one_customer_by_hand_from_equation_6() -> None:
    """r = 2, α = 3, a = 2, b = 3; x = 2, t_x = 4, T = 6. Equation 6, term by term:
    B(a, b+x)/B(a, b) = B(2, 5)/B(2, 3) = (1/30)/(1/12) = 2/5;  Γ(r+x) α^r / Γ(r) = Γ(4)·9/Γ(2) = 54;
    first term = 2/5 · 54 / (3+6)^4 = 108/32805;
    B(a+1, b+x−1)/B(a, b) = B(3, 4)/B(2, 3) = (1/60)/(1/12) = 1/5;  second = 1/5 · 54 / (3+4)^4 = 54/12005.
    P(alive) is the first term's share."""
    first, second = Fraction(108, 32805), Fraction(54, 12005)
    x, t_x, T = one(2, 4, 6)
    assert bgnbd.log_likelihood(2, 3, 2, 3, x, t_x, T)[0] == pytest.approx(math.log(first + second), abs=1e-12)
    assert bgnbd.p_alive(2, 3, 2, 3, x, t_x, T)[0] == pytest.approx(float(first / (first + second)), rel=1e-12)


def test_bgnbd_likelihood_with_unit_parameters_by_hand() -> None:
    """r = α = a = b = 1, x = 1, t_x = 1, T = 2: B(1,2)/B(1,1) · 1/3² + B(2,1)/B(1,1) · 1/2² = 1/18 + 1/8 = 13/72."""
    assert bgnbd.log_likelihood(1, 1, 1, 1, *one(1, 1, 2))[0] == pytest.approx(math.log(13 / 72), abs=1e-12)


def test_bgnbd_no_repeat_purchase_by_hand() -> None:
    """x = 0: only the first term, (α/(α+T))^r = (3/9)² = 1/9, and the customer is surely alive."""
    x, t_x, T = one(0, 0, 6)
    assert bgnbd.log_likelihood(2, 3, 2, 3, x, t_x, T)[0] == pytest.approx(math.log(1 / 9), abs=1e-12)
    assert bgnbd.p_alive(2, 3, 2, 3, x, t_x, T)[0] == 1.0
    assert bgnbd.p_alive(0.3, 200.0, 0.7, 9.0, *one(0, 0, 1000))[0] == 1.0


def test_gamma_gamma_by_hand() -> None:
    """p = 1, q = 2, v = 1, x = 1, m = 1: Γ(3)/(Γ(1)Γ(2)) · 1 / 2³ = 1/4.
    p = 2, q = 3, v = 4, x = 2, m = 5: E[M] = 2 (4 + 10) / (4 + 3 − 1) = 14/3; population mean 2·4/2 = 4."""
    assert gamma_gamma.log_likelihood(1, 2, 1, *one(1, 1))[0] == pytest.approx(math.log(1 / 4), abs=1e-12)
    assert gamma_gamma.expected_order_value(2, 3, 4, *one(2, 5))[0] == pytest.approx(14 / 3, rel=1e-12)
    assert gamma_gamma.expected_order_value(2, 3, 4, np.array([0.0]), np.array([np.nan]))[0] == pytest.approx(4.0)


def test_bgnbd_gradient_matches_finite_differences_of_the_likelihood() -> None:
    c = simulate.customers(300, (0.8, 30.0, 1.5, 4.0), (6.0, 4.0, 15.0), 1000.0, seed=3)
    weight = np.ones(c.x.size)
    theta = np.log(np.array([0.6, 20.0, 1.2, 3.0]))

    def mean_ll(t: np.ndarray) -> float:
        r, alpha, a, b = np.exp(t)
        return float(bgnbd.log_likelihood(r, alpha, a, b, c.x, c.t_x, c.T).mean())

    error = check_grad(mean_ll, lambda t: _mean_log_likelihood_and_gradient(t, _Rows.of(c.x, c.t_x, c.T, weight))[1], theta)
    assert error < 1e-5


def test_fit_log_likelihood_is_the_sum_over_customers() -> None:
    """Grouping customers by (x, t_x, T) changes nothing: the reported total equals equation 7 summed
    over every customer at the fitted parameters."""
    c = simulate.customers(2000, (0.8, 30.0, 1.5, 4.0), (6.0, 4.0, 15.0), 1000.0, seed=4, whole_days=True)
    fitted = bgnbd.fit(c.x, c.t_x, c.T)
    assert fitted.customers == 2000
    per_customer = bgnbd.log_likelihood(*fitted.parameters.values(), c.x, c.t_x, c.T)
    assert fitted.log_likelihood == pytest.approx(per_customer.sum(), rel=1e-12)


def test_q_at_most_one_is_reported_not_returned() -> None:
    """Spend with a heavy tail (true q = 0.6): the population mean p·v/(q−1) does not exist."""
    c = simulate.customers(3000, (0.8, 30.0, 1.5, 4.0), (2.0, 0.6, 15.0), 1000.0, seed=5)
    result = fit_clv(c.x, c.t_x, c.T, c.m, horizon_days=365)
    assert not result.ok
    assert not result.gamma_gamma.ok and result.gamma_gamma.parameters["q"] <= 1
    assert "q" in (result.gamma_gamma.reason or "")
    assert result.problems and result.problems[0].startswith("gamma_gamma:")
    assert np.isnan(result.expected_order_value).all() and np.isnan(result.expected_value).all()
    assert result.bg_nbd.ok and np.isfinite(result.p_alive).all()


def test_nobody_repeating_is_reported_as_not_identified() -> None:
    """No repeat purchase at all: the likelihood (α/(α+T))^r rises without bound as the purchase rate
    goes to 0: reported as not identified, and no spender is left for the Gamma-Gamma."""
    T = np.linspace(10, 500, 400)
    zeros = np.zeros_like(T)
    result = fit_clv(zeros, zeros, T, np.full_like(T, np.nan), horizon_days=365)
    assert not result.bg_nbd.ok and "not identified" in (result.bg_nbd.reason or "")
    assert result.gamma_gamma.reason == "no customers to fit"
    assert np.isnan(result.p_alive).all()
    assert [p.split(":")[0] for p in result.problems] == ["bg_nbd", "gamma_gamma"]


@pytest.mark.parametrize(
    "x,t_x,T,m,rule",
    [
        ([1.5], [2], [3], [1], "whole number"),
        ([1], [4], [3], [1], "0 ≤ t_x ≤ T"),
        ([0], [1], [3], [np.nan], "t_x = 0 where x = 0"),
        ([2], [2], [3], [-1], "m is finite"),
    ],
)
def test_broken_inputs_are_refused(x: list, t_x: list, T: list, m: list, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        fit_clv(x, t_x, T, m, horizon_days=30)


def test_expected_purchases_is_continuous_through_a_equal_to_one() -> None:
    """Equation 10 divides by a − 1; at a = 1 the value is the limit, between its neighbours'."""
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 50.0]), np.array([40.0, 200.0])
    at_one = bgnbd.expected_purchases(0.8, 30.0, 1.0, 4.0, 365.0, x, t_x, T)
    below = bgnbd.expected_purchases(0.8, 30.0, 1.0 - 1e-3, 4.0, 365.0, x, t_x, T)
    above = bgnbd.expected_purchases(0.8, 30.0, 1.0 + 1e-3, 4.0, 365.0, x, t_x, T)
    assert np.all(np.isfinite(at_one))
    assert np.all((np.minimum(below, above) <= at_one) & (at_one <= np.maximum(below, above)))


def gauss_series(a: int, b: int, c: int, z: Fraction, terms: int = 200) -> Fraction:
    """₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ from its definition, in exact fractions (no scipy):
    each term is the one before times (a+n)(b+n) / ((c+n)(n+1)) · z, which tends to z = 1/4 here, so the
    terms past 200 are below 4^-150 of the sum."""
    total, term = Fraction(0), Fraction(1)
    for n in range(terms):
        total += term
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
    return total


@pytest.mark.parametrize(
    "x,t_x,expected",
    [
        # 2F1(r+x, b+x; a+b+x−1; z) = 2F1(4, 5; 6; 1/4) = 2.59214384185 (the series);
        # 6 · (1 − 81/256 · 2.59214384185) = 1.07897692524; P(alive) = 4802/11363, as in equation 6's test above
        # (1 / (1 + 2/4 · (9/7)^4) = 1 / (1 + 6561/4802)); 1.07897692524 · 4802/11363 = 0.455975287777
        (2, 4.0, 0.455975287777),
        # x = 0: no δ term; 4 · (1 − (3/4)² · 2F1(2, 3; 4; 1/4)) = 4 · (1 − 9/16 · 1.53008417852) = 0.557310598339
        (0, 0.0, 0.557310598339),
    ],
)
def test_bgnbd_expected_purchases_by_hand_from_equation_10(x: int, t_x: float, expected: float) -> None:
    """Fader, Hardie & Lee 2005, equation 10, for r = 2, α = 3, a = 2, b = 3, T = 6 and a horizon t = 3:

    E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
                          / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))

    so (α+T)/(α+T+t) = 9/12 = 3/4 and z = t/(α+T+t) = 3/12 = 1/4. The value is evaluated here term by term in
    exact fractions with the series for 2F1 (the `expected` numbers were worked the same way and written down
    to 12 digits; scipy's hyp2f1(4, 5, 6, 0.25) gives the same 2.59214384185), then the model's code is held
    to them."""
    r, alpha, a, b, T, t = 2, 3, 2, 3, 6, 3
    z = Fraction(t, alpha + T + t)
    shrink = Fraction(alpha + T, alpha + T + t) ** (r + x)
    numerator = Fraction(a + b + x - 1, a - 1) * (1 - shrink * gauss_series(r + x, b + x, a + b + x - 1, z))
    t_x_exact = Fraction(t_x).limit_denominator()
    odds_dropped = Fraction(a, b + x - 1) * (Fraction(alpha + T) / (alpha + t_x_exact)) ** (r + x) if x > 0 else 0
    by_hand = numerator / (1 + odds_dropped)
    assert float(by_hand) == pytest.approx(expected, abs=1e-12)

    got = bgnbd.expected_purchases(r, alpha, a, b, t, *one(x, t_x, T))[0]
    assert got == pytest.approx(expected, rel=1e-9)
