"""The end of `retention run`: the audit's lines, then a short summary of what the run did, what readers
now see and where (the outputs of docs/reference.md), and the next command to try.

A panel on a terminal; on a pipe or in a log the same rows as plain `label  value` lines.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .config import Settings
from .console import show
from .pipeline import RunSummary, check_warnings, target_path
from .quality.check import CheckStatus
from .report import audit_summary, audit_table

NEXT = "next: `retention report --open` opens the report; `retention show` prints the retention tables"


def _batches(summary: RunSummary) -> str:
    plan = summary.plan
    loaded = plan.loaded_batches
    listed = f" ({loaded[0]} … {loaded[-1]})" if len(loaded) > 2 else f" ({', '.join(loaded)})" if loaded else ""
    return f"{len(loaded)} loaded{listed}, {plan.unchanged_batches} unchanged"


def _audit(summary: RunSummary) -> str:
    checks = summary.checks
    if not checks:
        return "not run (nothing new to build)"
    passed = sum(c.status == CheckStatus.PASSED for c in checks)
    warned = [c.check_name for c in checks if c.status == CheckStatus.WARNED]
    failed = [c.check_name for c in checks if c.status not in (CheckStatus.PASSED, CheckStatus.WARNED)]
    text = f"{passed} passed"
    text += f", {len(warned)} warned ({', '.join(warned)})" if warned else ", no warnings"
    return text + (f", {len(failed)} failed ({', '.join(failed)})" if failed else ", none failed")


def _published(settings: Settings, summary: RunSummary) -> str:
    plan = summary.plan
    if summary.published is None:
        return f"nothing new: {target_path(settings, plan)} is already up to date and was left as it was"
    what = f"the snapshot as of {plan.as_of} (the published marts are newer)" if plan.target == "snapshot" else "the marts"
    return f"published {what} to {summary.published}"


def _where(path: Path) -> str:
    return str(path) if path.exists() else f"{path} (not there)"


def summary_rows(settings: Settings, summary: RunSummary, seconds: float) -> list[tuple[str, str]]:
    """(label, value) rows; a row with no label is a sentence of its own."""
    plan, rows = summary.plan, summary.plan.rows
    out = [
        ("run", f"{plan.run_id}, as of {plan.as_of}" + (f" (through {plan.through})" if plan.through else "")),
        ("batches", _batches(summary)),
        (
            "rows",
            f"read {rows.get('rows_read', 0)}, loaded {rows.get('rows_loaded', 0)}, "
            f"quarantined {rows.get('rows_quarantined', 0)}",
        ),
        ("audit", _audit(summary)),
        ("", _published(settings, summary)),
    ]
    if summary.outputs_error:
        out.append(("", "the marts are published, but the outputs for readers are not: " + summary.outputs_error))
    elif summary.outputs is not None and summary.outputs.report.exists():
        where = summary.outputs
        out += [
            ("report", _where(where.report)),
            ("parquet", _where(where.parquet)),
            ("dbt docs", _where(where.docs)),
            ("data docs", _where(where.data_docs)),
        ]
    out.append(("took", f"{seconds:.1f}s"))
    return out


def run_view(console: Console, settings: Settings, summary: RunSummary, seconds: float) -> None:
    if summary.checks:
        if console.is_terminal:
            show(console, Group(Text("audit", style="bold cyan"), audit_table(summary.checks)))
        else:
            show(console, Text("audit:\n" + audit_summary(summary.checks)))
    rows = summary_rows(settings, summary, seconds)
    if console.is_terminal:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in rows:
            grid.add_row(label, value)
        ok = not summary.outputs_error
        show(console, Panel(grid, title="retention run", border_style="green" if ok else "yellow", expand=False))
        show(console, Text(NEXT, style="dim"))
        return
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:{width}}  {value}" if label else f"  {value}" for label, value in rows]
    show(console, Text("\n".join(["summary", *lines, NEXT])))


def warnings_of(summary: RunSummary) -> list[str]:
    """The audit's warnings, said on stderr after the summary (the ingest's were logged as they came)."""
    return check_warnings(summary.checks)
