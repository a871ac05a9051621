"""Time and peak memory of the lifetime-value stage of a run (retention.warehouse.lifetime_value), as the
build runs it: read the purchase occasions from the build database, fit, backtest, write schema clv.

    .venv/bin/python benchmarks/clv_stage.py [--customers 23000 1000000]

For each size, customers are drawn from the BG/NBD and Gamma-Gamma processes (retention.clv.simulate,
whole days, three years) and written as occasions (first on day as_of − T, last on first + t_x, the
others spread between; repeat occasions' revenue averaging m) into a scratch DuckDB file shaped like the
build database. A fresh process then runs the stage alone, as `build` does (connect with the
warehouse's settings, `fit_lifetime_value`), and reports its wall time, the fit's share of it, and
the process's peak RSS (the Python interpreter, DuckDB and numpy included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from retention.clv import simulate

TRUTH_BGNBD = (0.8, 30.0, 1.5, 4.0)  # r, α (days), a, b
TRUTH_SPEND = (6.0, 4.0, 15.0)  # p, q, v
AS_OF = dt.date(2025, 7, 1)

STAGE = """
import json, logging, resource, sys, time
from retention.config import load_settings
from retention.database import connect
from retention.warehouse import lifetime_value
timings = []
class Keep(logging.Handler):
    def emit(self, record):
        timings.append(record.getMessage())
logging.getLogger("retention.warehouse.lifetime_value").addHandler(Keep())
logging.getLogger("retention.warehouse.lifetime_value").setLevel(logging.INFO)
settings = load_settings({"RETENTION_WAREHOUSE": sys.argv[2], "RETENTION_MEMORY_LIMIT": "2GB", "RETENTION_THREADS": "2"})
con = connect(settings, sys.argv[1])
started = time.perf_counter()
fit = lifetime_value.fit_lifetime_value(con, 365)
seconds = time.perf_counter() - started
con.close()
print(json.dumps({"seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ok": fit.ok, "log": timings}))
"""


def write_occasions(n: int, database: Path) -> int:
    c = simulate.customers(n, TRUTH_BGNBD, TRUTH_SPEND, longest=3 * 365.0, seed=2024, whole_days=True)
    rng = np.random.default_rng(1)
    x = c.x.astype(np.int64)
    first = np.datetime64(AS_OF) - c.T.astype("timedelta64[D]")
    customer = np.repeat(np.arange(n), x + 1)
    k = np.arange(customer.size) - np.repeat(np.cumsum(x + 1) - (x + 1), x + 1)  # occasion index per customer
    t_x = np.repeat(c.t_x.astype(np.int64), x + 1)
    xr = np.repeat(x, x + 1)
    between = (rng.random(customer.size) * np.maximum(t_x - 1, 0)).astype(np.int64) + 1
    offset = np.where(k == 0, 0, np.where(k == xr, t_x, np.minimum(between, t_x)))
    m = np.nan_to_num(np.repeat(c.m, x + 1), nan=20.0)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(customer).map("c{:07d}".format),
            "occasion_date": np.repeat(first, x + 1) + offset.astype("timedelta64[D]"),
            "revenue": np.where(k == 0, rng.gamma(4.0, 5.0, customer.size), m),
        }
    )
    con = duckdb.connect(str(database))
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_run_dated_as_of as select ?::date as as_of_date", [AS_OF])
    con.register("frame", frame)
    con.execute(
        "create table intermediate.int_orders_grouped_into_occasions as "
        "select customer_id, cast(occasion_date as date) as occasion_date, revenue from frame"
    )
    con.close()
    return int(customer.size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[23_000, 1_000_000])
    args = parser.parse_args()
    for n in args.customers:
        with tempfile.TemporaryDirectory() as scratch:
            database = Path(scratch) / "build.duckdb"
            started = time.perf_counter()
            rows = write_occasions(n, database)
            print(f"\n== {n:,} customers, {rows:,} occasions (written in {time.perf_counter() - started:.1f} s)")
            done = subprocess.run(
                [sys.executable, "-c", STAGE, str(database), str(Path(scratch) / "wh" / "w.duckdb")],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise SystemExit(done.stderr[-2000:])
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"stage: {result['seconds']:.2f} s, peak RSS {result['peak_rss_mib']:.0f} MiB, fit ok: {result['ok']}")
            for line in result["log"]:
                print(f"  {line}")


if __name__ == "__main__":
    main()
