"""The retention report (report.html): one self-contained page of charts over a published warehouse."""

from __future__ import annotations

from pathlib import Path


def render_report(database: Path) -> str:
    """The report's HTML for the published DuckDB file `database` (its marts and audit tables)."""
    return "<!doctype html><title>Retention report</title><p>The retention report is being built.</p>"  # placeholder
