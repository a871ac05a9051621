"""Write one publish's outputs for readers as a set, and swap it in (sets.py).

Everything is read from the file just published (what readers see), never from the build: the outputs
cannot describe marts that readers do not have.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import faults, progress
from ..config import Settings
from ..database import connect
from ..sql import sql_text
from . import sets
from .data_docs import publish_data_docs
from .dbt_docs import publish_dbt_docs
from .parquet import export_marts
from .report import render_report


def write_outputs(
    settings: Settings, run_id: str, published: Path, snapshot_as_of: str | None = None, dbt_docs: Path | None = None
) -> sets.Locations:
    """Parquet, report, dbt docs and Data Docs of the file `published`, written as one set under
    $RETENTION_OUTPUT_DIR/.sets and swapped in; returns where readers find them. `dbt_docs`: the static
    dbt docs page of the build that made `published` (`dbt docs generate --static`)."""
    if snapshot_as_of is None:
        sets.check_names(settings)
    folder = sets.new_set(settings, run_id)
    # one after the other: the Parquet files on a thread beside the report saved under 0.1 s on the demo,
    # too little for a speed trick (speedups.py)
    with progress.stage("report"):
        (folder / "report.html").write_text(render_report(published), encoding="utf-8")
    with progress.stage("docs"):
        publish_dbt_docs(dbt_docs, folder / "docs")
        publish_data_docs(settings, run_id, folder / "data_docs")
    with progress.stage("parquet"):
        tables, info = _export(settings, published, folder / "parquet")
    faults.failpoint("outputs.writing")
    sets.swap_in(
        settings,
        folder,
        {
            "run_id": run_id,
            "as_of": str(info.get("as_of_date")),
            "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "warehouse": str(published),
            "tables": tables,
        },
        snapshot_as_of,
    )
    return sets.locations(settings, snapshot_as_of)


def _export(settings: Settings, published: Path, folder: Path) -> tuple[list[str], dict]:
    """Every mart of `published` as Parquet in `folder`, and its audit.run_info row."""
    con = connect(settings)
    try:
        con.execute(f"attach {sql_text(str(published))} as published (read_only)")
        tables = export_marts(con, "published", folder)
        cur = con.execute("select * from published.audit.run_info")
        info = dict(zip([d[0] for d in cur.description], cur.fetchone() or []))
    finally:
        con.close()
    return tables, info
