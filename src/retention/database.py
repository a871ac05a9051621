"""DuckDB connections with the warehouse's settings: memory limit, spill folder, threads, UTC.

Ingest, the build's raw views, the audit and the publish all open DuckDB through `connect`, so
every one of them honours RETENTION_MEMORY_LIMIT and RETENTION_THREADS and spills into the state
folder, never into the working directory.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .config import Settings
from .sql import sql_text


def connect(settings: Settings, database: str | Path = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=read_only)
    try:
        con.execute(f"set memory_limit = {sql_text(settings.memory_limit)}")
        con.execute(f"set temp_directory = {sql_text(str(settings.temp_dir))}")
        con.execute(f"set threads = {settings.threads}")
        con.execute("set TimeZone = 'UTC'")  # timestamps are UTC instants; calendars convert explicitly
        con.execute("set preserve_insertion_order = true")  # the default, and the lake's lines depend on it
    except BaseException:
        con.close()
        raise
    return con
