"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415–430; Fader &
Hardie 2013, "The Gamma-Gamma Model of Monetary Value", http://brucehardie.com/notes/025/).

A customer's spends z_1..z_x are i.i.d. gamma(p, ν); ν ~ gamma(q, v) across customers (v is the
note's γ, named as in docs/reference.md §4.6). Only x and the mean m = (z_1 + … + z_x)/x are observed; the
model assumes spend is independent of the purchase process, so it is fitted on its own.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, gammaln

from .optimise import ModelFit, maximise
from .sufficient import weighted_sum

FloatArray = NDArray[np.float64]
PARAMETERS = ("p", "q", "v")


def log_likelihood(p: float, q: float, v: float, x: FloatArray, m: FloatArray) -> FloatArray:
    """Per-customer log-density of the mean spend m given x (the note's marginal distribution of m,
    the mean of x gamma(p, ν) spends integrated over ν ~ gamma(q, v)):

    f(m | p, q, v; x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q m^{px−1} x^{px} / (v + m x)^{px+q}
    """
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def fit(x: FloatArray, m: FloatArray) -> ModelFit:
    """Maximum-likelihood fit of (p, q, v) to customers with x ≥ 1 repeat transactions of mean m > 0.

    m is continuous, so customers cannot be grouped as in the BG/NBD; what does not depend on the
    parameters is summed once, and Γ terms are evaluated per distinct x (x takes few values).
    """
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    n = x.size
    distinct_x, how_many = np.unique(x, return_counts=True)
    x_counts = how_many.astype(np.float64)
    mx = m * x
    # Σ (px−1) ln m + px ln x = p Σ x (ln m + ln x) − Σ ln m: parameter-free sums, once
    sum_x_log_mx = float(np.sum(x * np.log(mx)))
    sum_log_m = float(np.sum(np.log(m)))

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(theta)
        log_v_mx = np.log(v + mx)
        pxu = p * distinct_x
        total = (
            weighted_sum(x_counts, gammaln(pxu + q) - gammaln(pxu))
            - n * gammaln(q)
            + n * q * np.log(v)
            + p * sum_x_log_mx
            - sum_log_m
            - p * weighted_sum(x, log_v_mx)
            - q * log_v_mx.sum()
        )
        # ∂/∂p = Σ x [ψ(px+q) − ψ(px) + ln(mx) − ln(v+mx)]; ∂/∂q = Σ ψ(px+q) − ψ(q) + ln v − ln(v+mx);
        # ∂/∂v = Σ q/v − (px+q)/(v+mx)
        psi_pxq = digamma(pxu + q)
        d_p = weighted_sum(x_counts * distinct_x, psi_pxq - digamma(pxu)) + sum_x_log_mx - weighted_sum(x, log_v_mx)
        d_q = weighted_sum(x_counts, psi_pxq) - n * digamma(q) + n * np.log(v) - log_v_mx.sum()
        d_v = n * q / v - np.sum((p * x + q) / (v + mx))
        grad = np.array([d_p * p, d_q * q, d_v * v]) / n
        return float(total / n), grad

    # Start at p = 1 (exponential spends), q = 2, and v so that the population mean p v / (q − 1)
    # is the observed mean spend.
    start = np.log(np.array([1.0, 2.0, max(float(m.mean()) if n else 1.0, 1e-6)]))
    return maximise("gamma_gamma", PARAMETERS, objective, start, customers=n)


def domain_problem(q: float) -> str | None:
    """Why (p, q, v) cannot give expected spends, or None: the population mean p v / (q − 1) and
    every conditional expectation need q > 1."""
    if not q > 1:
        return f"q = {q:.4g} ≤ 1: the population mean spend p·v/(q−1) is undefined"
    return None


def expected_order_value(p: float, q: float, v: float, x: FloatArray, m: FloatArray) -> FloatArray:
    """E[M | x, m]: the expected spend per transaction of a customer with x transactions of mean m
    (the conditional expectation in Fader & Hardie's note):

    E[M | p, q, v; x, m] = p (v + x m) / (p x + q − 1)
                         = (q−1)/(px+q−1) · p v/(q−1) + px/(px+q−1) · m

    a weighted mean of the population mean p v/(q−1) and the customer's own mean m. For x = 0 it is
    the population mean (m is then not used).
    """
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    m = np.where(x > 0, m, 0.0)  # x = 0: no observed spend; the formula reduces to p v / (q − 1)
    return p * (v + x * m) / (p * x + q - 1)
