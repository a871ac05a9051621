"""A long-lived BI process (a Superset worker, a notebook): one SQLAlchemy engine per setting, reading the
published warehouse in a loop while `retention run` publishes (tests/integration/test_bi_connection.py).

Runs with the Python of a separate virtual environment (SQLAlchemy 2.0, duckdb-engine 0.17, DuckDB 2.0,
pandas, polars): duckdb-engine 0.17 fails on reflection with the SQLAlchemy 2.1 of the project's venv.

    python long_lived_reader.py MODE WAREHOUSE OUTPUT_DIR EVENTS READY STOP

MODE `recommended`: the README's settings (section "Reading the marts from BI tools"):
    `uri`    duckdb:///WAREHOUSE?access_mode=read_only with poolclass=NullPool (Superset's default pool)
    `attach` duckdb:///:memory: with poolclass=NullPool, ATTACH 'WAREHOUSE' (READ_ONLY) on every connection
  each also read through pandas.read_sql and polars.read_database, and the Parquet copies through polars.
MODE `holding`: SQLAlchemy's default pool (QueuePool), one connection held open for the whole loop, and
  beside it the `uri` and `attach` settings (what a notebook holding a connection gets from each).

EVENTS gets one JSON object a line: `reflected` (the marts and their columns as the inspector sees them),
`seen` (the first time a source read a run_id, with the time and every mart's row count in that read),
`error`, `reads` (per source and run_id: when the first and the last read that returned it started) and
`done`. READY appears after the first complete round; one more round follows STOP.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import polars as pl
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

RUN_ID = "select run_id from audit.run_info"


def uri_engine(path: str) -> sa.Engine:
    # NullPool: every checkout opens the file anew and closing it drops DuckDB's instance, so the next
    # checkout opens the file the last publish renamed into place
    return sa.create_engine(f"duckdb:///{path}?access_mode=read_only", poolclass=NullPool)


def attach_engine(path: str) -> sa.Engine:
    # Every :memory: connection is its own DuckDB instance, so its ATTACH opens the file as it is now,
    # even while another connection in this process still has the old file open (which the uri engine
    # would share). NullPool: a pooled connection would keep the old file attached.
    engine = sa.create_engine("duckdb:///:memory:", poolclass=NullPool)

    @sa.event.listens_for(engine, "connect")
    def attach_read_only(dbapi_connection, _record) -> None:
        quoted = path.replace("'", "''")
        dbapi_connection.execute(f"attach '{quoted}' as retention (read_only)")
        dbapi_connection.execute("use retention")

    return engine


def reflect(engine: sa.Engine) -> dict[str, list[str]]:
    """Every table of schema marts with its columns, as SQLAlchemy's inspector (Superset's datasets) sees them."""
    inspector = sa.inspect(engine)
    return {t: [c["name"] for c in inspector.get_columns(t, schema="marts")] for t in inspector.get_table_names(schema="marts")}


def read_marts(con: sa.Connection, tables: list[str]) -> tuple[str, dict[str, int]]:
    """The run_id and every mart's row count, all in one connection (one file); a few rows of each mart too."""
    run_id = con.execute(sa.text(RUN_ID)).scalar_one()
    counts = {}
    for t in tables:
        counts[t] = con.execute(sa.text(f'select count(*) from marts."{t}"')).scalar_one()
        con.execute(sa.text(f'select * from marts."{t}" limit 5')).fetchall()
    return run_id, counts


def with_sqlalchemy(engine: sa.Engine, tables: list[str]) -> Callable[[], tuple[str, dict[str, int]]]:
    def read() -> tuple[str, dict[str, int]]:
        with engine.connect() as con:
            return read_marts(con, tables)

    return read


def with_pandas(engine: sa.Engine) -> Callable[[], tuple[str, dict[str, int]]]:
    def read() -> tuple[str, dict[str, int]]:
        with engine.connect() as con:
            run_id = pd.read_sql(sa.text(RUN_ID), con)["run_id"].iloc[0]
            rows = len(pd.read_sql(sa.text("select * from marts.period_retention"), con))
        return run_id, {"period_retention": rows}

    return read


def with_polars(engine: sa.Engine) -> Callable[[], tuple[str, dict[str, int]]]:
    def read() -> tuple[str, dict[str, int]]:
        with engine.connect() as con:
            run_id = pl.read_database(RUN_ID, connection=con)["run_id"][0]
            rows = pl.read_database("select * from marts.cohort_retention", connection=con).height
        return run_id, {"cohort_retention": rows}

    return read


def with_parquet(output_dir: Path) -> Callable[[], tuple[str, dict[str, int]]]:
    def read() -> tuple[str, dict[str, int]]:
        # resolve `current` once: the set it names stays whole while read, even if a publish swaps the link
        folder = (output_dir / "current").resolve()
        run_id = json.loads((folder / "run_info.json").read_text())["run_id"]
        counts = {p.stem: pl.read_parquet(p).height for p in sorted((folder / "parquet").glob("*.parquet"))}
        return run_id, counts

    return read


def sources(mode: str, path: str, output_dir: Path, emit) -> dict[str, Callable[[], tuple[str, dict[str, int]]]]:
    if mode == "holding":
        engine = sa.create_engine(f"duckdb:///{path}?access_mode=read_only")  # SQLAlchemy's default: QueuePool
        held = engine.connect()  # a dashboard's connection, never given back
        tables = list(reflect(engine))
        return {
            "held": lambda: read_marts(held, tables),
            "pooled": with_sqlalchemy(engine, tables),  # QueuePool keeps its connections open between checkouts
            # beside the held connection: NullPool opens the path again, which shares the held (old) file;
            # ATTACH in its own :memory: instance opens the file as it is now
            "uri_beside_held": with_sqlalchemy(uri_engine(path), tables),
            "attach_beside_held": with_sqlalchemy(attach_engine(path), tables),
        }
    found = {}
    for name, engine in (("uri", uri_engine(path)), ("attach", attach_engine(path))):
        marts = reflect(engine)
        emit({"event": "reflected", "source": name, "marts": marts})
        tables = list(marts)
        found.update(
            {
                name: with_sqlalchemy(engine, tables),
                f"pandas@{name}": with_pandas(engine),
                f"polars@{name}": with_polars(engine),
            }
        )
    found["polars@parquet"] = with_parquet(output_dir)
    return found


def main(mode: str, path: str, output_dir: str, events: str, ready: str, stop: str) -> None:
    out = open(events, "a", buffering=1)

    def emit(record: dict) -> None:
        out.write(json.dumps(record, default=str) + "\n")

    readers = sources(mode, path, Path(output_dir), emit)
    # source -> run_id -> when the first and the last read that returned it started: a read that started
    # after the publish and still returned the old run_id would show here
    reads: dict[str, dict[str, dict]] = {name: {} for name in readers}
    rounds: list[float] = []  # seconds per round: how late a source can see a publish
    while True:
        last = os.path.exists(stop)
        started = time.monotonic()
        for name, read in readers.items():
            begun = time.time()
            try:
                run_id, counts = read()
            except Exception as e:  # noqa: BLE001 - recorded: the test asserts there is none
                emit({"event": "error", "source": name, "t": time.time(), "error": f"{type(e).__name__}: {e}"[:500]})
                continue
            if run_id not in reads[name]:
                emit({"event": "seen", "source": name, "run_id": run_id, "t": time.time(), "counts": counts})
                reads[name][run_id] = {"first_start": begun, "last_start": begun, "n": 0}
            reads[name][run_id]["last_start"] = begun
            reads[name][run_id]["n"] += 1
        rounds.append(time.monotonic() - started)
        if len(rounds) == 1:
            open(ready, "a").close()
        if last:
            break
        time.sleep(0.02)  # leave the shared cores to the run
    emit({"event": "reads", "reads": reads})
    emit({"event": "done", "rounds": len(rounds), "median_round_s": sorted(rounds)[len(rounds) // 2], "max_round_s": max(rounds)})


if __name__ == "__main__":
    main(*sys.argv[1:7])
