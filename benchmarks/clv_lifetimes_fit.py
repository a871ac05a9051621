"""Run by benchmarks/clv_fit.py under an interpreter that has `lifetimes` (never the project's venv):
fits BetaGeoFitter and GammaGammaFitter to the customers in the .npz given and prints JSON.

BetaGeoFitter is fitted twice: on every customer (as its users usually call it) and on the distinct
(x, t_x, T) with their counts as `weights` (its own sufficient-statistics option). Both in days, as ours.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter  # type: ignore[import-not-found]


def main() -> None:
    d = np.load(sys.argv[1])
    x, t_x, T, m = d["x"], d["t_x"], d["T"], d["m"]
    fits = []

    def record(model: str, how: str, started: float, fitter: object) -> None:
        fits.append({"model": model, "how": how, "seconds": time.perf_counter() - started, "parameters": params(fitter)})

    started = time.perf_counter()
    record("bg_nbd", "every customer", started, BetaGeoFitter().fit(x, t_x, T))

    started = time.perf_counter()
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    record("bg_nbd", "weighted distinct triples", started, BetaGeoFitter().fit(*rows.T, weights=counts))

    spenders = (x > 0) & (m > 0)
    started = time.perf_counter()
    record("gamma_gamma", "every spender", started, GammaGammaFitter().fit(x[spenders], m[spenders]))
    print(json.dumps({"fits": fits}))


def params(fitter: object) -> dict[str, float]:
    # lifetimes names α `alpha` and the Gamma-Gamma's v `v`, as ours
    return {str(k): float(v) for k, v in fitter.params_.items()}  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
