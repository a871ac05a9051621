"""The maximum-likelihood driver both models share.

Parameters are searched on their logarithms, so every positive parameter (r, α, a, b; p, q, v) stays
positive without constraints and the search is invariant to the unit of time (a change of unit only
shifts log α). The objective is the mean log-likelihood per customer, so the gradient tolerance
means the same thing at 23 thousand and at 1 million customers.

A fit is never returned silently wrong: `ModelFit.converged` says whether the optimiser reached a
stationary point inside the search range, `ModelFit.reason` says in words why not (or why the
parameters are outside the model's domain), and `ModelFit.ok` is both together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]
# mean log-likelihood and its gradient with respect to the log-parameters
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# e^±15 ≈ 3.3e6 / 3e-7: far outside any plausible value in days or weeks; a parameter that runs to
# this edge is not identified by the data (e.g. b → ∞ when nobody seems to drop out).
LOG_BOUND = 15.0
# |∂ mean-LL / ∂ log θ| below this at the optimum: a stationary point, not a stalled search.
GRADIENT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class ModelFit:
    """One model's maximum-likelihood fit.

    model: `bg_nbd` or `gamma_gamma`; parameters: name → value (BG/NBD r and α in `time_unit`s);
    log_likelihood: the maximised total log-likelihood (NaN when nothing was fitted);
    customers: customers the likelihood was summed over; converged: the optimiser reached a
    stationary point inside the search range with a finite likelihood; reason: None when the fit is
    usable, else why not; iterations: optimiser iterations.
    """

    model: str
    parameters: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    reason: str | None
    iterations: int = 0
    time_unit: str | None = None
    gradient: tuple[float, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.converged and self.reason is None


def maximise(
    model: str,
    names: tuple[str, ...],
    objective: Objective,
    start: FloatArray,
    customers: int,
    time_unit: str | None = None,
) -> ModelFit:
    """Maximise the mean log-likelihood over log-parameters from `start` (log values)."""
    if customers == 0:
        nan = {n: float("nan") for n in names}
        return ModelFit(model, nan, float("nan"), 0, False, "no customers to fit", 0, time_unit)

    def negative(theta: FloatArray) -> tuple[float, FloatArray]:
        value, grad = objective(theta)
        if not np.isfinite(value):
            # L-BFGS-B's line search backs off from an infinite value; a NaN would stop it.
            return np.inf, np.zeros_like(theta)
        return -value, -grad

    result = minimize(
        negative,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
        options={"maxiter": 1000, "gtol": GRADIENT_TOLERANCE / 10, "ftol": 1e-13},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    mean_ll, grad = objective(theta)
    parameters = {n: float(np.exp(t)) for n, t in zip(names, theta)}
    at_bound = [n for n, t in zip(names, theta) if abs(abs(t) - LOG_BOUND) < 1e-6]
    reason: str | None = None
    if not np.isfinite(mean_ll):
        reason = "the log-likelihood is not finite at the optimiser's last point"
    elif at_bound:
        reason = f"{', '.join(at_bound)} ran to the edge of the search range (e^±{LOG_BOUND:g}): not identified by these data"
    elif float(np.max(np.abs(grad))) > GRADIENT_TOLERANCE:
        reason = f"no stationary point: optimiser stopped ({result.message}) with gradient {np.max(np.abs(grad)):.2g}"
    return ModelFit(
        model=model,
        parameters=parameters,
        log_likelihood=float(mean_ll * customers),
        customers=customers,
        converged=reason is None,
        reason=reason,
        iterations=int(result.nit),
        time_unit=time_unit,
        gradient=tuple(float(g) for g in grad),
    )


def with_domain_check(fit: ModelFit, problem: str | None) -> ModelFit:
    """The same fit, not ok when its parameters are outside the model's domain (`problem` says how)."""
    if problem is None or fit.reason is not None:
        return fit
    return replace(fit, reason=problem)
