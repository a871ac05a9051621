"""Splitting a decoded export into records with their line numbers.

DuckDB's CSV reader does the work (it is what keeps loading close to `read_csv` speed); the line
each record starts on comes from the quote parity at every line end, which is exact for files whose
quoting is well formed. A file with any malformed record goes through Python's csv module instead:
slower, but it keeps every record and says exactly which lines were wrong.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Reject:
    line: int
    raw: str
    reason: str


@dataclass(frozen=True)
class Records:
    table: str            # a temp table: the export's columns (VARCHAR) + _line + _raw_start/_raw_end
    rows_read: int        # records, blank lines excluded
    rejects: list[Reject]
    parser: str           # "duckdb" or "python"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def record_spans(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start line, start byte, end byte) of every non-blank data record after the header."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    quotes_before = np.cumsum(buf == 34, dtype=np.int64)[newlines]
    ends = newlines[quotes_before % 2 == 0]          # line ends outside quotes close a record
    starts = np.concatenate(([0], ends[:-1] + 1))
    start_lines = np.searchsorted(newlines, starts) + 1
    keep = ends > starts                             # blank lines are not records
    keep[0] = False                                  # the header
    return start_lines[keep], starts[keep], ends[keep]


def _fast(con: duckdb.DuckDBPyConnection, table: str, path: Path, data: bytes, names: list[str]) -> Records | None:
    columns = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
    rej, scan = f"{table}_rejects", f"{table}_scan"
    con.execute(f"""
        create or replace temp table {table}_csv as
        select * from read_csv('{str(path).replace("'", "''")}', columns={columns}, header=true,
            auto_detect=false, delim=',', quote='"', escape='"', new_line='\\n', strict_mode=true,
            store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}', max_line_size=16777216)
    """)
    rejected = con.execute(f"select count(*) from {rej}").fetchall()[0][0]
    con.execute(f"drop table if exists {rej}; drop table if exists {scan}")
    lines, starts, ends = record_spans(data)
    got = con.execute(f"select count(*) from {table}_csv").fetchall()[0][0]
    if rejected or got != len(lines):
        con.execute(f"drop table {table}_csv")
        return None
    con.register(f"{table}_spans", pd.DataFrame({"_line": lines, "_raw_start": starts, "_raw_end": ends}))
    con.execute(f"create or replace temp table {table} as select * from {table}_csv positional join {table}_spans")
    con.unregister(f"{table}_spans")
    con.execute(f"drop table {table}_csv")
    return Records(table, int(got), [], "duckdb")


def _python(con: duckdb.DuckDBPyConnection, table: str, data: bytes, names: list[str]) -> Records:
    text = data.decode("utf-8")
    line_offsets = np.concatenate(([0], np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    next(reader)  # header, checked already
    columns: list[list[str | None]] = [[] for _ in names]
    meta: dict[str, list[int]] = {"_line": [], "_raw_start": [], "_raw_end": []}
    rejects, rows_read, first_line = [], 0, reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # e.g. a field larger than the csv module allows
            last_line = reader.line_num
            raw = data[line_offsets[first_line - 1]:line_offsets[last_line] - 1].decode("utf-8", "replace")
            rows_read += 1
            rejects.append(Reject(first_line, raw, f"unreadable record: {e}"))
            first_line = last_line + 1
            continue
        last_line = reader.line_num
        start, end = int(line_offsets[first_line - 1]), int(line_offsets[last_line]) - 1
        if fields:
            rows_read += 1
            if len(fields) != len(names):
                raw = data[start:end].decode("utf-8", "replace")
                rejects.append(Reject(first_line, raw,
                                      f"wrong number of fields: expected {len(names)}, found {len(fields)}"))
            else:
                for column, value in zip(columns, fields):
                    column.append(value if value != "" else None)
                meta["_line"].append(first_line)
                meta["_raw_start"].append(start)
                meta["_raw_end"].append(end)
        first_line = last_line + 1
    frame = pd.DataFrame({n: pd.Series(c, dtype=object) for n, c in zip(names, columns)}
                         | {k: pd.Series(v, dtype="int64") for k, v in meta.items()})
    con.register(f"{table}_frame", frame)
    casts = ", ".join(f"cast({_quote(n)} as varchar) as {_quote(n)}" for n in names)
    con.execute(f"create or replace temp table {table} as select {casts}, _line, _raw_start, _raw_end from {table}_frame")
    con.unregister(f"{table}_frame")
    return Records(table, rows_read, rejects, "python")


def read_records(con: duckdb.DuckDBPyConnection, table: str, path: Path, data: bytes, names: list[str]) -> Records:
    """Load every record of `data` (already decoded; `path` holds exactly these bytes) into `table`."""
    return _fast(con, table, path, data, names) or _python(con, table, data, names)
