"""A whole nightly run (`retention run`: ingest, dbt build, audit, publish) on a large demo export,
against the same run by another checkout of the project, measured in the same session.

    .venv/bin/python benchmarks/nightly_run.py [--customers 206000] [--months 30]
        [--compare OTHER_CHECKOUT/.venv/bin/retention] [--repeat 1] [--landing DIR] [--nightly]

The demo writer makes about 4.85 orders per customer over 30 months, so the default is about
1,000,000 orders. Each run starts from an empty state folder (every batch is loaded and every model
built). With --nightly, the state folder first loads every batch but the newest (not timed), then the
run that loads the newest batch and rebuilds everything is timed: the night after the night before,
with dbt's parse and proven unit tests kept in the state folder as they are in production. With
--compare, both sides run alternately --repeat times on the same landing folder and the ratio of their
medians is printed: how much slower or faster this checkout's nightly run is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from retention.demo import write_demo_landing

HERE = Path(sys.executable).parent / "retention"


def _run(retention: Path, landing: Path, scratch: Path) -> float:
    env = dict(
        os.environ,
        RETENTION_LANDING_DIR=str(landing),
        RETENTION_WAREHOUSE=str(scratch / "retention.duckdb"),
        RETENTION_STATE_DIR=str(scratch / "state"),
        RETENTION_PII_SALT="benchmark",
    )
    started = time.perf_counter()
    done = subprocess.run([str(retention), "run"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{retention} run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def timed_run(retention: Path, landing: Path, scratch: Path, nightly: bool = False) -> float:
    if scratch.exists():
        shutil.rmtree(scratch)
    if not nightly:
        return _run(retention, landing, scratch)
    batches = sorted(p for p in landing.iterdir() if p.is_dir())
    growing = scratch / "landing"
    growing.mkdir(parents=True)
    for batch in batches:
        if batch == batches[-1]:
            _run(retention, growing, scratch)  # the nights before
        (growing / batch.name).mkdir()
        for export in batch.iterdir():  # hard links: no copy, and no link leading outside the landing folder
            os.link(export, growing / batch.name / export.name)
    return _run(retention, growing, scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=206_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--compare", type=Path, help="another checkout's .venv/bin/retention")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--landing", type=Path, help="reuse (or keep) the landing folder here")
    parser.add_argument("--nightly", action="store_true", help="time the run that adds the newest batch")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nightly_run_"))
    landing = args.landing or work / "landing"
    if not landing.is_dir():
        started = time.perf_counter()
        summary = write_demo_landing(landing, customers=args.customers, months=args.months)
        print(f"demo export: {summary} written in {time.perf_counter() - started:.1f}s")
    sides = {"this checkout": HERE} | ({"compared": args.compare} if args.compare else {})
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.repeat):
        for name, retention in sides.items():
            times[name].append(timed_run(retention, landing, work / name.replace(" ", "_"), args.nightly))
            print(f"{name}: {times[name][-1]:.1f}s")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name}: median {median:.1f}s over {len(times[name])} run(s)")
    if args.compare:
        print(f"ratio this checkout / compared: {medians['this checkout'] / medians['compared']:.2f}x")
    shutil.rmtree(work / "this_checkout", ignore_errors=True)
    shutil.rmtree(work / "compared", ignore_errors=True)


if __name__ == "__main__":
    main()
