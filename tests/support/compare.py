"""Digests of the published file and comparisons with the reference (tests/reference.py).

One copy of each, so that every test means the same thing by "the file did not change" and "the
marts equal the reference".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb

from tests import reference

# What a reader sees: both marts, every row, in a fixed order (also used by reader subprocesses).
MARTS_QUERIES = (
    "select * from marts.period_retention order by period_grain, period_start",
    "select * from marts.cohort_retention order by cohort_grain, cohort_start, period_number",
)


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes: "the published file was not touched"."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def marts_digest(path: Path) -> str:
    """sha256 of both marts as read from `path` (read-only): "readers see the same marts"."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = [con.execute(q).fetchall() for q in MARTS_QUERIES]
    finally:
        con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def inode(path: Path) -> int:
    return os.stat(path).st_ino


def assert_rows_equal(got: list[dict], want: list[dict], keys: tuple[str, ...]) -> None:
    """Column by column, floats to 1e-9, revenue to the cent; every row of `want` and no other."""
    index = {tuple(g[k] for k in keys): g for g in got}
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}"
    problems = []
    for w in want:
        k = tuple(w[c] for c in keys)
        g = index.get(k)
        if g is None:
            problems.append(f"missing row {k}")
            continue
        for c, expected in w.items():
            actual = g[c]
            if expected is None or actual is None:
                same = expected is None and actual is None
            elif isinstance(expected, float) or c == "revenue":
                same = abs(float(actual) - float(expected)) <= (0.005 if c == "revenue" else 1e-9)
            else:
                same = actual == expected
            if not same:
                problems.append(f"{k} {c}: expected {expected!r}, got {actual!r}")
    assert not problems, "\n".join(problems[:30])


def _rows(source, table: str, order_by: str) -> list[dict]:
    """Rows of `table` (a name or a parenthesised select) in a warehouse fixture or a database file."""
    if hasattr(source, "rows"):
        return source.rows(table, order_by)
    con = duckdb.connect(str(source), read_only=True)
    try:
        cur = con.execute(f"select * from {table} order by {order_by}")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def assert_marts_equal_reference(
    warehouse,
    landing: Path | None = None,
    through: dt.date | None = None,
    timezone: str = "UTC",
    source_zone: str | None = None,
) -> None:
    """Both marts of `warehouse` (a Warehouse fixture, or the path of a published file or snapshot) equal
    tests/reference.py on every row and column, for the batches dated on or before `through`, on the
    calendar of `timezone`, reading timestamps without an offset as wall-clock time in `source_zone` (a
    mapping's `timezone:`; None: UTC)."""
    events = reference.activity(reference.latest_orders(landing or warehouse.landing, through), timezone, source_zone)
    # here the marts of docs/reference.md §4.2 for the grains month, quarter and year and the monthly cohorts
    # (the weekly and quarterly ones are compared in tests/integration/test_demo_analytics_reference.py)
    assert_rows_equal(
        _rows(warehouse, "(select * from marts.period_retention where period_grain <> 'week')", "period_grain, period_start"),
        reference.period_retention(events),
        ("period_grain", "period_start"),
    )
    assert_rows_equal(
        _rows(warehouse, "(select * from marts.cohort_retention where cohort_grain = 'month')", "cohort_start, period_number"),
        reference.cohort_retention(events),
        ("cohort_grain", "cohort_start", "period_number"),
    )
