"""Terminal views of the load history: `retention status`, `batches`, `quarantine`, and the run's audit
lines. Rich tables on a terminal; on a pipe the same tables as plain text (console.py), one row a line,
so that `grep` and the tests read them. The readers' HTML report is elsewhere (outputs/report/).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .config import Settings
from .console import PLAIN_WIDTH, show
from .database import connect
from .ingest import batch_log, lake
from .quality.check import CheckStatus
from .status_model import Batch, Status, collect_status


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> Table:
    """A table with a rule under its header and no frame: it reads the same with or without colour.
    `right`: the columns (by position) of numbers, aligned right."""
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i, header in enumerate(headers):
        t.add_column(header, justify="right" if i in right else "left")
    for row in rows:
        t.add_row(*(cell(v) for v in row))
    return t


def section(title: str, body: RenderableType) -> Group:
    return Group(Text(title, style="bold cyan"), body)


def audit_summary(checks) -> str:
    """One line per check: status, name, rows checked, and what failed (plain text, for logs)."""
    return "\n".join(
        f"  {'ok' if c.status == CheckStatus.PASSED else c.status.upper():7} {c.check_name:44} {c.rows_checked:>6} rows"
        + (f"  {c.details}" if c.details else "")
        for c in checks
    )


def audit_table(checks) -> Table:
    """The audit's checks for a terminal: the status coloured, the details of a warning or failure beside it."""
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    t.add_column("")
    t.add_column("check")
    t.add_column("rows", justify="right")
    t.add_column("details", overflow="fold")
    for c in checks:
        mark = {CheckStatus.PASSED: Text("ok", style="green"), CheckStatus.WARNED: Text("WARNED", style="yellow")}.get(
            c.status, Text(c.status.upper(), style="bold red")
        )
        t.add_row(mark, c.check_name, str(c.rows_checked), c.details or "")
    return t


def last_run(settings: Settings) -> str:
    """The last run's outcome and its warnings (`retention status --last-run`, printed by `make run`)."""
    return _last_run_text(collect_status(settings)) or "no run yet"


def _last_run_text(status: Status) -> str | None:
    last = status.last_run
    if last is None:
        return None
    line = f"last run: {last.what} {last.run_id or ''} — {last.status} at {last.finished_at}"
    line += f"\n  {last.error}" if last.error else ""
    return line + "".join(f"\n  warning: {w}" for w in last.warnings)


def status_view(console: Console, status: Status) -> None:
    """The last run, the batches the last ingest rejected, what is published and where, the lake's
    batches with rows read / loaded / quarantined per file, and why rows were quarantined."""
    parts: list[RenderableType] = []
    if text := _last_run_text(status):
        parts.append(Text(text))
    if status.rejected_batches:
        parts.append(
            section(
                "batches rejected by the last ingest (nothing of them is loaded)",
                table(["batch", "file", "problem"], [(r.batch, r.file or "", r.problem) for r in status.rejected_batches]),
            )
        )
    parts.append(Text(_published_text(status)))
    if not status.batches:
        parts.append(Text(f"no batches loaded yet (landing folder {status.landing_dir})"))
    else:
        parts += [_batches_section(status.batches), *_quarantine_sections(status)]
    _print_sections(console, parts)


def load_status(settings: Settings) -> str:
    """`retention status` as plain text (for callers without a terminal)."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, no_color=True, color_system=None, highlight=False, width=PLAIN_WIDTH)
    status_view(console, collect_status(settings))
    return out.getvalue().rstrip("\n")


def _published_text(status: Status) -> str:
    p, out = status.published, status.outputs
    if not p.exists:
        return f"published: nothing yet ({p.warehouse} does not exist)"
    text = f"published: {p.warehouse}, as of {p.as_of}, run {p.run_id}, at {p.published_at}"
    if out.report.exists:
        text += f"\n  report {out.report.path}; parquet {out.parquet.path}"
    return text


def _print_sections(console: Console, parts: list[RenderableType]) -> None:
    for i, part in enumerate(parts):
        if i:
            console.print()
        show(console, part)


def _counts(batch: Batch, table: str) -> tuple[object, object, object]:
    found = batch.counts(table)
    return found if found is not None else (None, None, None)


def _batches_section(batches: list[Batch]) -> Group:
    rows = [
        (b.batch_date, b.loaded_at, *_counts(b, "customers"), *_counts(b, "orders"), ", ".join(b.files_absent)) for b in batches
    ]
    return section(
        "batches in the lake (rows read / loaded / quarantined per file)",
        table(
            ["batch", "loaded at (UTC)", "cust read", "loaded", "quar.", "orders read", "loaded", "quar.", "files absent"],
            rows,
            right=range(2, 8),
        ),
    )


def _quarantine_sections(status: Status) -> list[RenderableType]:
    if not status.quarantine:
        return [Text("quarantine: no rows")]
    by_file = [(g.batch_date, g.file, g.reason, g.example_values, g.rows, g.first_line) for g in status.quarantine]
    overall = [(r.reason, r.example_values, r.rows, r.files) for r in status.quarantine_reasons]
    return [
        section(
            "quarantined rows by batch, file and reason",
            table(["batch", "file", "reason", "values (up to 3)", "rows", "first line"], by_file, right=(4, 5)),
        ),
        section("quarantine reasons overall", table(["reason", "values (up to 3)", "rows", "files"], overall, right=(2, 3))),
        Text("`retention quarantine [--batch DATE] [--reason R] [--csv FILE]` shows or writes the rows themselves"),
    ]


def batches_view(console: Console, settings: Settings) -> None:
    """Every batch the lake holds, removed or loaded: its state, loads, rows and its landing folder."""
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
        show(console, Text(f"no batches in the lake yet (landing folder {settings.landing_dir})"))
        return
    show(
        console,
        section(
            "batches in the lake (rows read / quarantined per file)",
            table(
                ["batch", "state", "loaded at (UTC)", "cust read", "quar.", "orders read", "quar.", "landing folder", "note"],
                out,
                right=range(3, 7),
            ),
        ),
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


def quarantine_view(console: Console, rows: list[tuple]) -> None:
    shown = [(b, f, line, reason, raw if len(raw) <= 100 else raw[:99] + "…") for b, f, line, reason, raw in rows]
    show(console, table(QUARANTINE_COLUMNS, shown, right=(2,)))
