"""The retention report (report.html): one self-contained page of charts over a published warehouse.

queries.py reads the marts and audit tables, charts.py builds one altair chart per section, bundle.py
provides the inlined Vega JavaScript (cached on disk), page.py lays it all out.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .bundle import javascript_bundle
from .charts import build_sections
from .page import render_page
from .queries import read_report_data


def render_report(database: Path, cache_dir: Path | None = None) -> str:
    """The report's HTML for the published DuckDB file `database` (its marts and audit tables).

    `cache_dir` keeps the built JavaScript bundle between runs (default: $XDG_CACHE_HOME/retention).
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        data = read_report_data(con)
    finally:
        con.close()
    return render_page(data, build_sections(data), javascript_bundle(cache_dir))
