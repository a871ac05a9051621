"""Parquet copies of the published marts: `parquet/<table>.parquet`, the same rows and columns."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..sql import ident, sql_text

SCHEMA = "marts"


def export_marts(con: duckdb.DuckDBPyConnection, catalog: str, folder: Path) -> list[str]:
    """Write every table of `catalog`.marts to `folder`/<table>.parquet (zstd); returns the table names.
    Row order is the table's own (DuckDB keeps insertion order), so the files read back as the table does."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = ? order by 1", [catalog, SCHEMA]
        ).fetchall()
    ]
    for table in tables:
        target = sql_text(str(folder / f"{table}.parquet"))
        con.execute(
            f"copy (select * from {ident(catalog)}.{SCHEMA}.{ident(table)}) to {target} "
            "(format parquet, compression zstd, preserve_order true)"
        )
    return tables
