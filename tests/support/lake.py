"""A landing folder loaded in-process by the real loader (retention.ingest.load.ingest): for the unit tests
of ingest, which write each file byte by byte and read the lake it leaves."""

from __future__ import annotations

from pathlib import Path

import duckdb

from retention.config import load_settings
from retention.ingest import lake as lake_tables
from retention.ingest.load import ingest

ORDERS_HEADER = "order_id,customer_id,ordered_at,amount,currency,status"
CUSTOMERS_HEADER = "customer_id,created_at,channel,region"


class Lake:
    """A landing folder and a state folder; `ingest()` runs the real loader in this process."""

    def __init__(self, base: Path, **env: str):
        self.landing = base / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.state = base / "state"
        self.env = {
            "RETENTION_LANDING_DIR": str(self.landing),
            "RETENTION_STATE_DIR": str(self.state),
            "RETENTION_WAREHOUSE": str(base / "warehouse.duckdb"),
            "RETENTION_THREADS": "2",
            "RETENTION_MEMORY_LIMIT": "1GB",
            "RETENTION_PII_SALT": "pepper",
            **env,
        }

    @property
    def settings(self):
        return load_settings(self.env)

    def write(self, rel: str, content: str | bytes, encoding: str = "utf-8", newline: str = "\n") -> Path:
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.replace("\n", newline).encode(encoding)
        path.write_bytes(content)
        return path

    def ingest(self):
        return ingest(self.settings)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        globs = {
            t: f"({lake_tables.table_sql(self.state / 'lake', t)})" for t in ("customers", "orders", "quarantine", "manifest")
        }
        con = duckdb.connect()
        try:
            return con.execute(sql.format(**globs), params or []).fetchall()
        finally:
            con.close()

    def manifest(self, file_name: str, batch: str | None = None) -> dict:
        con = duckdb.connect()
        try:
            cur = con.execute(
                f"select * from read_parquet('{self.state}/lake/batches/*/manifest.parquet') "
                "where file_name = ? and (? is null or batch_date = cast(? as date))",
                [file_name, batch, batch],
            )
            rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
        finally:
            con.close()
        assert len(rows) == 1, rows
        return rows[0]

    def quarantine(self) -> list[tuple]:
        return self.query("select source_file, source_line, reason, raw_text from {quarantine} order by source_file, source_line")

    def batches(self) -> list[str]:
        links = self.state / "lake" / "batches"
        return sorted(p.name for p in links.iterdir() if not p.name.startswith(".")) if links.is_dir() else []


def ok(report) -> None:
    assert not report.rejected, [str(e) for e in report.rejected]
