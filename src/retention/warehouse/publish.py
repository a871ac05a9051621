"""Publishing: copy what readers may see into a new file, then swap it in with one rename.

A reader that has the old file open keeps its consistent view; the next connection gets the new
file. A reader holding the file open never blocks the swap (a rename does not care about open
handles), and the writer never opens the published file itself. The new file is checked (it opens
read-only, holds every table, in the promised storage format) before it replaces the old one.

The published file is written in DuckDB's v1.0.0 storage format (storage number 64): DuckDB 1.0.0,
1.1.3 and 2.0 were seen to open it; 0.10.3 refuses it (a "field id mismatch" serialization error).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from .. import faults
from ..config import Settings
from ..database import connect
from ..durable import fsync, write_text
from ..errors import PublishCheckFailed
from ..sql import ident, sql_text
from .audit_docs import AUDIT_TABLES

STORAGE_VERSION = "v1.0.0"
PUBLISHED_SCHEMAS = ("marts",)


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = 'build' and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    if comment and comment[0][0]:
        con.execute(f"comment on table pub.{ident(schema)}.{ident(table)} is {sql_text(comment[0][0])}")
    for column, text in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and table_name = ? and comment is not null",
        [schema, table],
    ).fetchall():
        con.execute(f"comment on column pub.{ident(schema)}.{ident(table)}.{ident(column)} is {sql_text(text)}")


def _describe(con: duckdb.DuckDBPyConnection, schema: str, table: str, docs: tuple[str, dict[str, str]] | None) -> None:
    if docs is None:
        return
    description, columns = docs
    con.execute(f"comment on table pub.{ident(schema)}.{ident(table)} is {sql_text(description)}")
    for column, text in columns.items():
        con.execute(f"comment on column pub.{ident(schema)}.{ident(table)}.{ident(column)} is {sql_text(text)}")


class Candidate:
    """The new warehouse file, written beside `target` (default $RETENTION_WAREHOUSE; a snapshot of a past
    date otherwise) under a temporary name that readers never open.

    `swap_in` copies the build's marts into it, adds the audit tables, checks the file and renames it over
    the target; `discard` removes it. A publish that fails leaves the target as it was."""

    def __init__(self, settings: Settings, build_db: Path, target: Path, run_id: str) -> None:
        self.settings, self.build_db, self.target = settings, build_db, target
        self.tmp = target.parent / f".{target.name}.{run_id}.tmp"
        self.tables: list[tuple[str, str]] = []
        self._con: duckdb.DuckDBPyConnection | None = None

    def _copy_marts(self) -> duckdb.DuckDBPyConnection:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_debris(self.target)
        con = self._con = connect(self.settings)
        try:
            con.execute(f"attach {sql_text(str(self.build_db))} as build (read_only)")
            con.execute(f"attach {sql_text(str(self.tmp))} as pub (storage_version {sql_text(STORAGE_VERSION)})")
            self.tables = [
                (s, t)
                for s, t in con.execute(
                    "select schema_name, table_name from duckdb_tables() where database_name = 'build' "
                    f"and schema_name in ({', '.join(sql_text(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2"
                ).fetchall()
            ]
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema if not exists pub.{ident(schema)}")
            for schema, table in self.tables:
                con.execute(
                    f"create table pub.{ident(schema)}.{ident(table)} as select * from build.{ident(schema)}.{ident(table)}"
                )
                _copy_comments(con, schema, table)
                faults.failpoint("publish.writing")  # after each table copied: the temp file is half written
        except BaseException:
            self.discard()
            raise
        return con

    def swap_in(self, extra_tables: dict[str, str], marker: dict, marker_file: Path | None = None) -> Path:
        """Add `extra_tables` ({"schema.table": select over the attached database `build`}), replace the
        target with the file, then record `marker` in `marker_file` (default: the published marker)."""
        con = self._copy_marts()
        try:
            for schema in {name.split(".")[0] for name in extra_tables}:
                con.execute(f"create schema if not exists pub.{ident(schema)}")
            for name, select in extra_tables.items():
                schema, table = name.split(".")
                con.execute(f"create table pub.{ident(schema)}.{ident(table)} as {select}")
                _describe(con, schema, table, AUDIT_TABLES.get(name))
            con.execute("detach pub")
            con.execute("detach build")
            con.close()
            self._con = None
            _verify(self.tmp, [f"{s}.{t}" for s, t in self.tables] + list(extra_tables))
            fsync(self.tmp)
            faults.failpoint("publish.copied")
            os.replace(self.tmp, self.target)
        except BaseException:
            self.discard()
            raise
        fsync(self.target.parent)
        faults.failpoint("publish.renamed")
        marker_file = marker_file or self.settings.published_marker
        marker_file.parent.mkdir(parents=True, exist_ok=True)
        write_text(marker_file, json.dumps(marker, indent=2, default=str))
        return self.target

    def discard(self) -> None:
        """Close the file and remove it."""
        if self._con is not None:
            self._con.close()
            self._con = None
        _unlink(self.tmp)


def _unlink(tmp: Path) -> None:
    """A temp file and its write-ahead log (left when a checkpoint failed, e.g. on a full disk)."""
    tmp.unlink(missing_ok=True)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def remove_debris(target: Path) -> list[str]:
    """Temp files of publishes that were killed or failed (only ever called under the writer lock)."""
    removed = []
    for debris in target.parent.glob(f".{target.name}.*.tmp*"):
        debris.unlink(missing_ok=True)
        removed.append(debris.name)
    return removed


def _verify(path: Path, tables: list[str]) -> None:
    """The new file opens read-only, as a reader will, in the promised format, with every table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where not internal and path is not null").fetchall()
        version = (tags[0][0] or {}).get("storage_version", "") if tags else ""
        have = {
            f"{s}.{t}"
            for s, t in con.execute("select schema_name, table_name from duckdb_tables() where not internal").fetchall()
        }
    finally:
        con.close()
    if version and not version.startswith(STORAGE_VERSION):
        raise PublishCheckFailed(f"{path} has storage version {version}, not {STORAGE_VERSION}")
    missing = sorted(set(tables) - have)
    if missing:
        raise PublishCheckFailed(f"{path} lacks {', '.join(missing)}")


def storage_version(path: Path) -> str:
    """The storage version DuckDB reports for a database file (e.g. 'v1.0.0+')."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where not internal and path is not null").fetchall()
    finally:
        con.close()
    return (tags[0][0] or {}).get("storage_version", "") if tags else ""


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_marker(settings: Settings) -> dict | None:
    """What $RETENTION_WAREHOUSE was built from, so that a run with nothing new can leave it alone."""
    return _read_json(settings.published_marker)


def read_snapshot_marker(settings: Settings, as_of: str) -> dict | None:
    return _read_json(settings.snapshot_marker(as_of))
