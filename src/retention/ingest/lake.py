"""The raw lake: immutable Parquet per batch, swapped in whole.

    lake/loads/<date>__<load_id>/   customers.parquet, orders.parquet, quarantine.parquet, manifest.parquet,
                                    customers_lines.parquet, orders_lines.parquet
    lake/batches/<date>  ->  ../loads/<date>__<load_id>      (a symlink, replaced atomically)

`customers.parquet` and `orders.parquet` hold every record the export could be split into, typed,
in file order, each with its verdict: `problem` is NULL when the row loads, else the reason it is
quarantined (`quarantine.parquet` has those rows again, with their raw text, plus the records that
could not be split at all).

The line a record starts on is not among its columns, because a streaming CSV read cannot number
its rows without giving up its parallelism. Record k (from 0) is on line k + 2 (after the one-line
header) unless `<table>_lines.parquet` says otherwise: it lists (record, source_line) for every
record of a file whose records are not one line each (multi-line quoted fields, blank lines) and
is empty for every other file. Read the files through `table_sql`, which keeps the loadable rows
and puts in every line.

A batch becomes visible only when its symlink is replaced, after every file of the load is on disk,
so a crash leaves the previous load of that batch or the new one, never a mix. Loads no symlink
points at are debris of an interrupted run and are removed by the next one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from ..durable import fsync
from ..faults import failpoint
from ..sql import sql_text

RECORD_TABLES = ("customers", "orders")


def lines_file(table: str) -> str:
    return f"{table}_lines.parquet"


TABLE_FILES = (
    "customers.parquet",
    "orders.parquet",
    "quarantine.parquet",
    "manifest.parquet",
    *(lines_file(t) for t in RECORD_TABLES),
)

# Parquet v2 data pages: written about twice as fast as v1, and smaller; DuckDB, Arrow and Spark read them.
PARQUET = "format parquet, parquet_version 'v2'"
FIRST_RECORD_LINE = 2  # after the one-line header


def batches_dir(lake: Path) -> Path:
    return lake / "batches"


def loads_dir(lake: Path) -> Path:
    return lake / "loads"


def new_load_dir(lake: Path, batch: str, load_id: str) -> Path:
    path = loads_dir(lake) / f"{batch}__{load_id}"
    path.mkdir(parents=True)
    return path


def publish_load(lake: Path, batch: str, load_dir: Path) -> None:
    """Make `load_dir` the current content of `batch` in one rename."""
    for name in TABLE_FILES:
        fsync(load_dir / name)
    fsync(load_dir)
    links = batches_dir(lake)
    links.mkdir(parents=True, exist_ok=True)
    tmp = links / f".{batch}.{load_dir.name}.tmp"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(Path("..") / "loads" / load_dir.name)
    failpoint("ingest.before_swap")
    os.replace(tmp, links / batch)
    fsync(links)
    failpoint("ingest.after_swap")


def remove_batch(lake: Path, batch: str) -> bool:
    """Take `batch` out of the lake in one unlink (its load is collected as garbage); False if absent."""
    link = batches_dir(lake) / batch
    if not link.is_symlink():
        return False
    link.unlink()
    fsync(batches_dir(lake))
    collect_garbage(lake)
    return True


def batch_names(lake: Path) -> list[str]:
    links = batches_dir(lake)
    if not links.is_dir():
        return []
    return sorted(p.name for p in links.iterdir() if p.is_symlink() and not p.name.startswith("."))


def collect_garbage(lake: Path) -> list[str]:
    """Remove loads no batch points at (replaced, or left by a crash), and stray temp links."""
    links, loads = batches_dir(lake), loads_dir(lake)
    if not loads.is_dir():
        return []
    live = (
        {os.readlink(p).rsplit("/", 1)[-1] for p in links.iterdir() if p.is_symlink() and not p.name.startswith(".")}
        if links.is_dir()
        else set()
    )
    if links.is_dir():
        for p in links.iterdir():
            if p.name.startswith(".") and p.is_symlink():
                p.unlink()
    removed = []
    for d in loads.iterdir():
        if d.name not in live:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
    return removed


def glob(lake: Path, name: str) -> str:
    return str(batches_dir(lake) / "*" / name)


def record_lines_sql(records: str, lines: str) -> str:
    """The records of the Parquet files `records` (a read_parquet path or list, SQL) with the line
    each starts on, from the `lines` files of the same loads or else from its position."""
    return f"""
        select r.* exclude (file_row_number, filename, load),
               coalesce(l.source_line, r.file_row_number + {FIRST_RECORD_LINE}) as source_line
        from (select *, parse_dirpath(filename) as load
              from read_parquet({records}, file_row_number = true, filename = true, union_by_name = true)) r
        left join (select parse_dirpath(filename) as load, record, source_line
                   from read_parquet({lines}, filename = true)) l
            on l.load = r.load and l.record = r.file_row_number"""


def table_sql(lake: Path, table: str) -> str:
    """What the lake holds now of `table`: for customers and orders, the rows that load."""
    files = sql_text(glob(lake, f"{table}.parquet"))
    if table not in RECORD_TABLES:
        return f"select * from read_parquet({files}, union_by_name = true)"
    lines = sql_text(glob(lake, lines_file(table)))
    return f"select * exclude (problem) from ({record_lines_sql(files, lines)}) where problem is null"


def has_batches(lake: Path) -> bool:
    links = batches_dir(lake)
    return links.is_dir() and any(p.is_symlink() and not p.name.startswith(".") for p in links.iterdir())


def manifest(con: duckdb.DuckDBPyConnection, lake: Path) -> list[dict]:
    """One row per (batch, file) of what the lake holds now."""
    if not has_batches(lake):
        return []
    cur = con.execute(f"{table_sql(lake, 'manifest')} order by batch_date, file_name")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]
