"""`retention show`: the latest period retention of one grain and a cohort table, from the published
file (the marts of docs/reference.md §4). Rates are shown as percentages; a column that is
empty (NULL) in every row shown is left out — e.g. the rates of a first period, whose S is 0.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console, Group
from rich.text import Text

from .console import show
from .report import table

GRAINS = ("week", "month", "quarter", "year")
COHORT_GRAINS = ("week", "month", "quarter")  # marts.cohort_retention has no yearly cohorts
MAX_COHORT_PERIODS = 12  # columns k = 0 … 12: wider than that does not fit a terminal

# marts.period_retention's columns in the order shown, with short headers (docs/reference.md names them);
# the rates are fractions in the mart
PERIOD_COLUMNS = {
    "period_start": "period",
    "customers_start": "start (S)",
    "customers_end": "end (E)",
    "new_customers": "new (N)",
    "retained_customers": "retained",
    "reactivated_customers": "reactivated",
    "churned_customers": "churned",
    "retention_rate": "retention",
    "strict_retention_rate": "strict",
    "churn_rate": "churn",
    "revenue_end": "revenue",
    "net_revenue_retention": "NRR",
    "gross_revenue_retention": "GRR",
    "is_complete": "complete",
}
RATES = {"retention_rate", "strict_retention_rate", "churn_rate", "net_revenue_retention", "gross_revenue_retention"}


def percent(value: object) -> str | None:
    return None if value is None else f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]  # a DOUBLE


def without_empty_columns(headers: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """Drop the columns whose every value in `rows` is NULL (nothing to read there)."""
    keep = [i for i in range(len(headers)) if any(r[i] is not None for r in rows)]
    return [headers[i] for i in keep], [tuple(r[i] for i in keep) for r in rows]


def period_rows(con: duckdb.DuckDBPyConnection, grain: str, limit: int) -> tuple[list[str], list[tuple]]:
    rows = con.execute(
        f"""select {", ".join(PERIOD_COLUMNS)} from marts.period_retention
            where period_grain = ? order by period_start desc limit ?""",
        [grain, limit],
    ).fetchall()
    shown = [tuple(percent(v) if c in RATES else v for c, v in zip(PERIOD_COLUMNS, r)) for r in rows]
    return without_empty_columns(list(PERIOD_COLUMNS.values()), shown)


def cohort_rows(con: duckdb.DuckDBPyConnection, grain: str, cohorts: int) -> tuple[list[str], list[tuple]]:
    pivot = ", ".join(f"max(retention_rate) filter (where period_number = {k}) as k{k}" for k in range(MAX_COHORT_PERIODS + 1))
    rows = con.execute(
        f"""select cohort_start, max(cohort_size) as cohort_size, {pivot}
            from marts.cohort_retention where cohort_grain = ?
            group by cohort_start order by cohort_start desc limit ?""",
        [grain, cohorts],
    ).fetchall()
    headers = ["cohort_start", "cohort_size", *(f"k={k}" for k in range(MAX_COHORT_PERIODS + 1))]
    shown = [(r[0], r[1], *(percent(v) for v in r[2:])) for r in rows]
    return without_empty_columns(headers, shown)


def marts_view(console: Console, warehouse: Path, grain: str = "month", limit: int = 6, cohorts: int = 6) -> None:
    cohort_grain = grain if grain in COHORT_GRAINS else "quarter"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        p_headers, p_rows = period_rows(con, grain, limit)
        c_headers, c_rows = cohort_rows(con, cohort_grain, cohorts) if cohorts > 0 else ([], [])
    finally:
        con.close()
    if not p_rows:
        show(console, Text(f"marts.period_retention has no {grain} rows"))
    else:
        heading = Text(f"period retention by {grain} (latest first)", style="bold cyan")
        show(console, Group(heading, table(p_headers, p_rows, right=range(1, len(p_headers)))))
    if cohorts > 0 and c_rows:
        console.print()
        note = "" if cohort_grain == grain else f"; there are no {grain}ly cohorts"
        title = f"cohort retention by {cohort_grain} (share of the cohort active k {cohort_grain}s later{note})"
        show(console, Group(Text(title, style="bold cyan"), table(c_headers, c_rows, right=range(1, len(c_headers)))))
