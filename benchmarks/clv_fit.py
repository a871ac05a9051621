"""Fit time and peak memory of the CLV models (retention.clv.fit_clv) on simulated customers.

    .venv/bin/python benchmarks/clv_fit.py [--customers 23000 1000000] [--lifetimes /tmp/lt/bin/python]

Customers are drawn from the BG/NBD and Gamma-Gamma processes (retention.clv.simulate) over three
years in whole days, as the warehouse counts purchase occasions (§4.1). For each size it prints:
distinct (x, t_x, T) triples (what the BG/NBD likelihood is evaluated on), the wall-clock time of
`fit_clv` in days and in weeks with its iterations, and the peak memory of the fit (tracemalloc, in a
separate run so that tracing does not slow the timed one) and the process's peak RSS.

--lifetimes PYTHON: also fit the same customers with the `lifetimes` library (0.11.3, BetaGeoFitter
and GammaGammaFitter), run by that interpreter through benchmarks/clv_lifetimes_fit.py, so the
project never depends on it; prints its time and its parameters' relative difference from ours.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from retention.clv import fit_clv, simulate

TRUTH_BGNBD = (0.8, 30.0, 1.5, 4.0)  # r, α (days), a, b
TRUTH_SPEND = (6.0, 4.0, 15.0)  # p, q, v
HORIZON_DAYS = 365.0
HELPER = Path(__file__).with_name("clv_lifetimes_fit.py")


def run(n: int, lifetimes_python: str | None) -> None:
    started = time.perf_counter()
    c = simulate.customers(n, TRUTH_BGNBD, TRUTH_SPEND, longest=3 * 365.0, seed=2024, whole_days=True)
    print(f"\n== {n:,} customers (simulated in {time.perf_counter() - started:.1f} s; {int((c.x > 0).sum()):,} with x ≥ 1)")

    for unit in ("day", "week"):
        started = time.perf_counter()
        result = fit_clv(c.x, c.t_x, c.T, c.m, HORIZON_DAYS, time_unit=unit)
        seconds = time.perf_counter() - started
        bg, gg = result.bg_nbd, result.gamma_gamma
        print(
            f"fit_clv in {unit}s: {seconds:.2f} s; distinct triples {result.distinct_triples:,}; ok={result.ok} {result.problems}"
        )
        print(f"  bg_nbd {fmt(bg.parameters)} iterations {bg.iterations} LL {bg.log_likelihood:.1f}")
        print(f"  gamma_gamma {fmt(gg.parameters)} iterations {gg.iterations} LL {gg.log_likelihood:.1f}")
        if unit == "day":
            ours = {**bg.parameters, **gg.parameters}
            means = (result.p_alive.mean(), result.expected_purchases.mean(), result.expected_order_value.mean())
            print(f"  mean p_alive {means[0]:.4f}, E[Y({HORIZON_DAYS:g} d)] {means[1]:.4f}, E[M] {means[2]:.3f}")

    tracemalloc.start()
    fit_clv(c.x, c.t_x, c.T, c.m, HORIZON_DAYS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    inputs = sum(a.nbytes for a in (c.x, c.t_x, c.T, c.m))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the fit (tracemalloc): {peak / 2**20:.1f} MiB (inputs {inputs / 2**20:.1f} MiB)")
    print(f"process peak RSS so far: {rss:.0f} MiB")

    if lifetimes_python:
        compare_with_lifetimes(lifetimes_python, c, ours)


def compare_with_lifetimes(python: str, c: simulate.Customers, ours: dict[str, float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.npz"
        np.savez(data, x=c.x, t_x=c.t_x, T=c.T, m=c.m)
        try:
            out = subprocess.run([python, str(HELPER), str(data)], capture_output=True, text=True, check=True, timeout=900)
        except subprocess.TimeoutExpired:
            print("lifetimes: did not finish within 15 minutes")
            return
        except subprocess.CalledProcessError as e:
            print(f"lifetimes failed: {e.stderr.strip().splitlines()[-1:]}")
            return
    report = json.loads(out.stdout)
    for fit in report["fits"]:
        diff = {k: v / ours[k] - 1 for k, v in fit["parameters"].items()}
        print(f"lifetimes {fit['model']} ({fit['how']}): {fit['seconds']:.2f} s; {fmt(fit['parameters'])}")
        print(f"  relative difference from ours: {', '.join(f'{k} {d:+.1e}' for k, d in diff.items())}")


def fmt(parameters: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.5g}" for k, v in parameters.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[23_000, 1_000_000])
    parser.add_argument("--lifetimes", metavar="PYTHON", help="an interpreter with lifetimes installed (not the project's)")
    args = parser.parse_args()
    for n in args.customers:
        run(n, args.lifetimes)


if __name__ == "__main__":
    main()
