"""Publishing: copy what readers may see into a new file, then swap it in with one rename.

A reader that has the old file open keeps its consistent view; the next connection gets the new
file. The published file is written in DuckDB's v1.0.0 storage format so that BI tools bundling
DuckDB 1.1 and later (up to 2.x) can open it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from ..config import Settings
from ..ingest.load import connect
from ..ingest.rows import ident, sql_text

STORAGE_VERSION = "v1.0.0"
PUBLISHED_SCHEMAS = ("marts",)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    comment = con.execute("select comment from duckdb_tables() where database_name = 'build' "
                          "and schema_name = ? and table_name = ?", [schema, table]).fetchall()
    if comment and comment[0][0]:
        con.execute(f"comment on table pub.{ident(schema)}.{ident(table)} is {sql_text(comment[0][0])}")
    for column, text in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'build' "
            "and schema_name = ? and table_name = ? and comment is not null", [schema, table]).fetchall():
        con.execute(f"comment on column pub.{ident(schema)}.{ident(table)}.{ident(column)} is {sql_text(text)}")


def publish(settings: Settings, build_db: Path, extra_tables: dict[str, str], marker: dict) -> Path:
    """Replace $RETENTION_WAREHOUSE with the marts of `build_db` plus `extra_tables`
    ({"schema.table": select over the attached databases `build`}); record `marker` once it is in place."""
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{marker['run_id']}.tmp"
    tmp.unlink(missing_ok=True)
    con = connect(settings)
    try:
        con.execute(f"attach {sql_text(str(build_db))} as build (read_only)")
        con.execute(f"attach {sql_text(str(tmp))} as pub (storage_version {sql_text(STORAGE_VERSION)})")
        tables = [(s, t) for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'build' "
            f"and schema_name in ({', '.join(sql_text(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2").fetchall()]
        for schema in {*PUBLISHED_SCHEMAS, *(name.split(".")[0] for name in extra_tables)}:
            con.execute(f"create schema if not exists pub.{ident(schema)}")
        for schema, table in tables:
            con.execute(f"create table pub.{ident(schema)}.{ident(table)} as "
                        f"select * from build.{ident(schema)}.{ident(table)}")
            _copy_comments(con, schema, table)
        for name, select in extra_tables.items():
            schema, table = name.split(".")
            con.execute(f"create table pub.{ident(schema)}.{ident(table)} as {select}")
        con.execute("detach pub")
        con.execute("detach build")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    _fsync(tmp)
    os.replace(tmp, target)
    _fsync(target.parent)
    write_marker(settings, marker)
    return target


def write_marker(settings: Settings, marker: dict) -> None:
    """What the published file was built from, so that a run with nothing new can leave it alone."""
    path = settings.published_marker
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=2, default=str))
    os.replace(tmp, path)


def read_marker(settings: Settings) -> dict | None:
    try:
        return json.loads(settings.published_marker.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
