"""Plain-text views of the published marts and of the load history, for the terminal."""
from __future__ import annotations

from pathlib import Path

import duckdb

from .config import Settings
from .ingest import lake
from .ingest.load import connect


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [[("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.rjust(w) for v, w in zip(values, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def marts_overview(warehouse: Path, periods: int = 6, cohorts: int = 6, months: int = 6) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = []
        for grain in ("month", "quarter", "year"):
            cur = con.execute("""
                select period_start, customers_start, customers_end, new_customers, retained_customers,
                       reactivated_customers, churned_customers, retention_rate, strict_retention_rate
                from marts.period_retention where period_grain = ? order by period_start desc limit ?""",
                              [grain, periods if grain != "year" else 3])
            headers = [d[0] for d in cur.description]
            out.append(f"period retention by {grain} (latest first)\n" + _table(headers, cur.fetchall()))
        pivot = ", ".join(f"max(case when period_number = {k} then retention_rate end) as m{k}" for k in range(months + 1))
        cur = con.execute(f"""
            select cohort_start, max(cohort_size) as size, {pivot}
            from marts.cohort_retention group by cohort_start order by cohort_start desc limit ?""", [cohorts])
        out.append("cohort retention (share of the cohort active k months later)\n"
                   + _table([d[0] for d in cur.description], cur.fetchall()))
        return "\n\n".join(out)
    finally:
        con.close()


def load_status(settings: Settings) -> str:
    con = connect(settings)
    try:
        if not lake.has_batches(settings.lake_dir):
            return f"no batches loaded yet (landing folder {settings.landing_dir})"
        batches = con.execute(f"""
            select batch_date, min(loaded_at) as loaded_at,
                   sum(rows_read) filter (where table_name = 'customers') as customers_read,
                   sum(rows_read) filter (where table_name = 'orders') as orders_read,
                   sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined
            from read_parquet('{lake.glob(settings.lake_dir, "manifest.parquet")}')
            group by 1 order by 1""").fetchall()
        reasons = con.execute(f"""
            select split_part(reason, ':', 1) as reason, count(*) as rows, count(distinct source_file) as files
            from read_parquet('{lake.glob(settings.lake_dir, "quarantine.parquet")}')
            group by 1 order by 2 desc""").fetchall()
    finally:
        con.close()
    text = "batches in the lake\n" + _table(
        ["batch", "loaded_at (UTC)", "customers read", "orders read", "loaded", "quarantined"],
        [(b[0], str(b[1])[:19], *b[2:]) for b in batches])
    text += "\n\nquarantine reasons\n" + (_table(["reason", "rows", "files"], reasons) if reasons else "(none)")
    return text
