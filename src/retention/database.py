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


def session_settings(settings: Settings) -> dict[str, str]:
    """The DuckDB settings every connection of the warehouse runs with."""
    return {
        "memory_limit": settings.memory_limit,
        "temp_directory": str(settings.temp_dir),
        "threads": str(settings.threads),
        "TimeZone": "UTC",  # timestamps are UTC instants; calendars convert explicitly
        "preserve_insertion_order": "true",  # the default, and the lake's lines depend on it
    }


# Settings of the DuckDB instance, given when a file is first opened in a process (dbt's profile gives them
# as config_options). Another connection to that file in the same process must give the same ones.
INSTANCE_SETTINGS = ("memory_limit", "temp_directory")


def instance_config(session: dict[str, str]) -> dict[str, str | bool | int | float | list[str]]:
    return {name: session[name] for name in INSTANCE_SETTINGS}


def configured(con: duckdb.DuckDBPyConnection, session: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """`con` with the settings of `session`. A setting that already holds is left alone: a connection to a
    file this process has open shares its DuckDB instance (the fit shares dbt's), and DuckDB refuses to
    set temp_directory again once the instance has spilled there, even to the same folder."""
    try:
        for name, value in session.items():
            if str(con.execute("select current_setting(?)", [name]).fetchone()[0]) == value:  # type: ignore[index]
                continue
            con.execute(f"set {name} = {sql_text(value)}")
    except BaseException:
        con.close()
        raise
    return con


def connect(settings: Settings, database: str | Path = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    return configured(duckdb.connect(str(database), read_only=read_only), session_settings(settings))
