"""Plain-text views of the published marts and of the load history, for the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import duckdb

from .config import Settings
from .database import connect
from .ingest import batch_log, lake
from .ingest.quarantine import EXAMPLES_SQL, REASON_SQL
from .run_record import last_run_file, rejections_file


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
            cur = con.execute(
                """
                select period_start, customers_start, customers_end, new_customers, retained_customers,
                       reactivated_customers, churned_customers, retention_rate, strict_retention_rate
                from marts.period_retention where period_grain = ? order by period_start desc limit ?""",
                [grain, periods if grain != "year" else 3],
            )
            headers = [d[0] for d in cur.description]
            out.append(f"period retention by {grain} (latest first)\n" + _table(headers, cur.fetchall()))
        pivot = ", ".join(f"max(case when period_number = {k} then retention_rate end) as m{k}" for k in range(months + 1))
        cur = con.execute(
            f"""
            select cohort_start, max(cohort_size) as size, {pivot}
            from marts.cohort_retention where cohort_grain = 'month'
            group by cohort_start order by cohort_start desc limit ?""",
            [cohorts],
        )
        out.append(
            "cohort retention (share of the cohort active k months later)\n"
            + _table([d[0] for d in cur.description], cur.fetchall())
        )
        return "\n\n".join(out)
    finally:
        con.close()


def audit_summary(checks) -> str:
    """One line per check: status, name, rows checked, and what failed."""
    return "\n".join(
        f"  {'ok' if c.status == 'passed' else c.status.upper():7} {c.check_name:44} {c.rows_checked:>6} rows"
        + (f"  {c.details}" if c.details else "")
        for c in checks
    )


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def load_status(settings: Settings) -> str:
    """The last run, the batches the last ingest rejected, and what the lake holds: rows read, loaded
    and quarantined per batch and file, and why rows were quarantined."""
    sections = [s for s in (_last_run(settings), _rejected_batches(settings)) if s]
    if not lake.has_batches(settings.lake_dir):
        sections.append(f"no batches loaded yet (landing folder {settings.landing_dir})")
    else:
        history = _lake_history(settings)
        sections += [_batches_table(history.batches), _quarantine_tables(history.reasons, history.totals)]
    return "\n\n".join(sections)


def _last_run(settings: Settings) -> str | None:
    last = _json(last_run_file(settings))
    if not last:
        return None
    line = f"last run: {last.get('what')} {last.get('run_id', '')} — {last.get('status')} at {last.get('finished_at')}"
    line += f"\n  {last['error']}" if last.get("error") else ""
    return line + "".join(f"\n  warning: {w}" for w in last.get("warnings") or [])


def last_run(settings: Settings) -> str:
    """The last run's outcome and its warnings (`retention status --last-run`, printed by `make run`)."""
    return _last_run(settings) or "no run yet"


def _rejected_batches(settings: Settings) -> str | None:
    rejected = _json(rejections_file(settings)).get("rejected") or []
    if not rejected:
        return None
    return "batches rejected by the last ingest (nothing of them is loaded)\n" + _table(
        ["batch", "file", "problem"], [(r["batch"], r["file"] or "", r["problem"]) for r in rejected]
    )


class _LakeHistory(NamedTuple):
    batches: list[tuple]  # per batch: when loaded, rows read / loaded / quarantined per file, files absent
    reasons: list[tuple]  # quarantined rows per batch, file and reason, with the first line
    totals: list[tuple]  # quarantined rows and files per reason


def _lake_history(settings: Settings) -> _LakeHistory:
    manifest = f"({lake.table_sql(settings.lake_dir, 'manifest')})"
    quarantine = f"({lake.table_sql(settings.lake_dir, 'quarantine')})"
    con = connect(settings)
    try:
        batches = con.execute(f"""
            select batch_date, strftime(min(loaded_at), '%Y-%m-%d %H:%M:%S') as loaded_at,
                   sum(rows_read) filter (where table_name = 'customers'),
                   sum(rows_loaded) filter (where table_name = 'customers'),
                   sum(rows_quarantined) filter (where table_name = 'customers'),
                   sum(rows_read) filter (where table_name = 'orders'),
                   sum(rows_loaded) filter (where table_name = 'orders'),
                   sum(rows_quarantined) filter (where table_name = 'orders'),
                   string_agg(file_name, ', ') filter (where not present) as missing_files
            from {manifest} group by 1 order by 1""").fetchall()
        reasons = con.execute(f"""
            select batch_date, source_file, {REASON_SQL} as reason, {EXAMPLES_SQL}, count(*), min(source_line)
            from {quarantine} group by all order by 1, 2, 5 desc""").fetchall()
        totals = con.execute(f"""
            select {REASON_SQL} as reason, {EXAMPLES_SQL}, count(*), count(distinct source_file)
            from {quarantine} group by 1 order by 3 desc""").fetchall()
    finally:
        con.close()
    return _LakeHistory(batches, reasons, totals)


def _batches_table(batches: list[tuple]) -> str:
    return "batches in the lake (rows read / loaded / quarantined per file)\n" + _table(
        ["batch", "loaded at (UTC)", "cust read", "loaded", "quar.", "orders read", "loaded", "quar.", "files absent"],
        batches,
    )


def _quarantine_tables(reasons: list[tuple], totals: list[tuple]) -> str:
    if not reasons:
        return "quarantine: no rows"
    return (
        "quarantined rows by batch, file and reason\n"
        + _table(["batch", "file", "reason", "values (up to 3)", "rows", "first line"], reasons)
        + "\n\nquarantine reasons overall\n"
        + _table(["reason", "values (up to 3)", "rows", "files"], totals)
        + "\n\n`retention quarantine [--batch DATE] [--reason R] [--csv FILE]` shows or writes the rows themselves"
    )


def batches_table(settings: Settings) -> str:
    """Every batch the lake holds, removed or lands: its state, loads, rows and its landing folder."""
    lake_dir = settings.lake_dir
    rows: dict[str, list] = {}
    if lake.has_batches(lake_dir):
        manifest = f"({lake.table_sql(lake_dir, 'manifest')})"
        con = connect(settings)
        try:
            for r in con.execute(f"""
                select batch_date::varchar, strftime(min(loaded_at), '%Y-%m-%d %H:%M:%S'),
                       sum(rows_read) filter (where table_name = 'customers'),
                       sum(rows_quarantined) filter (where table_name = 'customers'),
                       sum(rows_read) filter (where table_name = 'orders'),
                       sum(rows_quarantined) filter (where table_name = 'orders'),
                       string_agg(file_name, ', ') filter (where not present)
                from {manifest} group by 1 order by 1""").fetchall():
                rows[r[0]] = list(r)
        finally:
            con.close()
    loads = batch_log.load_counts(lake_dir)
    removed = batch_log.removed(lake_dir)
    out = []
    for name in sorted(set(rows) | set(removed)):
        present = (settings.landing_dir / name).exists()
        if name in rows:
            _, loaded_at, c_read, c_quar, o_read, o_quar, absent = rows[name]
            n = max(loads.get(name, 1), 1)
            state = "loaded" if n == 1 else f"replaced ({n} loads)"
            note = f"lacks {absent}" if absent else ""
        else:
            entry = removed[name]
            state, loaded_at, c_read, c_quar, o_read, o_quar = "removed", "", None, None, None, None
            note = f"by {entry.get('by')} at {entry.get('at')}: {entry.get('reason')}"
        out.append((name, state, loaded_at, c_read, c_quar, o_read, o_quar, "present" if present else "GONE", note))
    if not out:
        return f"no batches in the lake yet (landing folder {settings.landing_dir})"
    return "batches in the lake (rows read / quarantined per file)\n" + _table(
        ["batch", "state", "loaded at (UTC)", "cust read", "quar.", "orders read", "quar.", "landing folder", "note"], out
    )


QUARANTINE_COLUMNS = ["batch", "file", "line", "reason", "raw text (personal data hashed)"]


def quarantine_rows(settings: Settings, batch: str | None, reason: str | None) -> list[tuple]:
    """The quarantined rows, by batch, file and line; `reason` matches the start of the reason, ignoring case."""
    if not lake.has_batches(settings.lake_dir):
        return []
    where = ["true"]
    params: list = []
    if batch:
        where.append("batch_date = ?::date")
        params.append(batch)
    if reason:
        where.append("starts_with(lower(reason), lower(?))")
        params.append(reason.strip())
    con = connect(settings)
    try:
        return con.execute(
            f"""select batch_date::varchar, source_file, source_line, reason, raw_text
                from ({lake.table_sql(settings.lake_dir, "quarantine")})
                where {" and ".join(where)} order by batch_date, source_file, source_line""",
            params,
        ).fetchall()
    finally:
        con.close()


def quarantine_table(rows: list[tuple]) -> str:
    shown = [(b, f, line, reason, raw if len(raw) <= 100 else raw[:99] + "…") for b, f, line, reason, raw in rows]
    return _table(QUARANTINE_COLUMNS, shown)
