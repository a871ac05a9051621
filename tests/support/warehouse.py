"""The project's paths and a scratch warehouse: its landing folder, its state, and the CLI pointed at them."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from retention.ingest import lake as lake_tables

ROOT = Path(__file__).resolve().parents[2]
# the `retention` command beside the interpreter running the tests: the project's .venv
RETENTION = Path(sys.executable).parent / "retention"


class Warehouse:
    """One scratch warehouse: its landing folder, its state, and the CLI pointed at them."""

    def __init__(self, base: Path):
        self.base = base
        self.landing = base / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.path = base / "warehouse" / "retention.duckdb"
        self.state = base / "warehouse" / "state"
        self.env = dict(
            os.environ,
            RETENTION_LANDING_DIR=str(self.landing),
            RETENTION_WAREHOUSE=str(self.path),
            RETENTION_STATE_DIR=str(self.state),
            RETENTION_TIMEZONE="UTC",
            RETENTION_MEMORY_LIMIT="2GB",
        )
        self.env.pop("RETENTION_COLUMN_MAPPING", None)

    def run(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([str(RETENTION), *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if check and done.returncode != 0:
            raise AssertionError(f"retention {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def rows(self, table: str, order_by: str) -> list[dict]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            cur = con.execute(f"select * from {table} order by {order_by}")
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]
        finally:
            con.close()

    def lake(self, sql: str) -> list[tuple]:
        """Query the raw lake: {customers}, {orders}, {quarantine}, {manifest} name its Parquet globs."""
        globs = {
            t: f"({lake_tables.table_sql(self.state / 'lake', t)})" for t in ("customers", "orders", "quarantine", "manifest")
        }
        con = duckdb.connect()
        try:
            return con.execute(sql.format(**globs)).fetchall()
        finally:
            con.close()


def snapshot_of(warehouse, as_of: str):
    """The snapshot a run older than the published marts writes instead of them (docs/reference.md §3), as a
    warehouse to query; fails when it was not written."""
    path = warehouse.path.parent / "outputs" / "snapshots" / f"{as_of}.duckdb"
    assert path.is_file(), f"no snapshot as of {as_of} at {path}"
    view = copy.copy(warehouse)
    view.path = path
    return view
