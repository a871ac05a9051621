"""Shared fixtures: a scratch warehouse per test, the CLI run for real, CSV writers."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings as hypothesis_settings

from retention.ingest import lake as lake_tables
from tests.helpers import assert_rows_equal  # noqa: F401  (re-exported: the one copy is in tests/helpers.py)

# CI must be reproducible: the same examples every run there; locally, new ones every run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
# `make test-fast` (RETENTION_TEST_TIER=fast) draws a quarter of the examples: for iterating, not for CI
FAST_TIER = os.environ.get("RETENTION_TEST_TIER") == "fast"


def examples(n: int) -> int:
    """How many examples a property test draws in this tier."""
    return max(10, n // 4) if FAST_TIER else n


ROOT = Path(__file__).resolve().parents[1]
RETENTION = Path(sys.executable).parent / "retention"
CUSTOMER_COLUMNS = ["customer_id", "created_at", "channel", "region"]
ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"]


def write_csv(path: Path, columns: list[str], rows: list[dict | list], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, lineterminator=newline)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns] if isinstance(r, dict) else r)
    return path


def write_batch(landing: Path, date: str, customers: list | None = None, orders: list | None = None) -> Path:
    """A batch folder; pass None to leave a file out, [] for a header-only file."""
    folder = landing / date
    folder.mkdir(parents=True, exist_ok=True)
    if customers is not None:
        write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, customers)
    if orders is not None:
        write_csv(folder / "orders.csv", ORDER_COLUMNS, orders)
    return folder


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


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory) -> Path:
    """The demo CRM exports `make run` uses, written once per test session."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("demo") / "landing"
    write_demo_landing(landing)
    return landing


# --- Warehouses built once per pytest run --------------------------------------------------------------
# Many tests need "a warehouse that has published this export" before doing what they test. Building it
# is most of a test's time, so each such starting point is built once per `pytest` run, by whichever
# xdist worker asks first, and every test gets its own copy (a copy is milliseconds; the state folder
# holds no absolute path the next run relies on). The template itself is never written after it is built.


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or when a worker dies
        yield


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, made by `build(folder)` once per pytest run and shared by every xdist worker
    (their temporary folders are children of one run folder). Read it, or copy it to change it."""
    base = tmp_path_factory.getbasetemp()
    run_root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = run_root / "built_once" / name
    with _exclusive(run_root / "built_once" / f"{name}.lock"):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            (folder / ".built").touch()
    return folder


def copy_of(template: Path, dest: Path) -> Warehouse:
    """A private, writable copy of a warehouse built once (its landing, state and published file)."""
    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns(".built"), dirs_exist_ok=True)
    return Warehouse(dest)


def _demo_run(through: str | None = None, **size: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        from retention.demo import write_demo_landing

        wh = Warehouse(folder)
        write_demo_landing(wh.landing, **size)
        wh.run("run", *(["--through", through] if through else []))

    return build


@pytest.fixture
def published_demo(tmp_path_factory, tmp_path) -> Callable[..., Warehouse]:
    """`published_demo(customers=, months=, through=None)`: this test's own copy of a warehouse that has
    published the demo export of that size (`retention run [--through]`), built once per pytest run."""

    def make(customers: int, months: int, through: str | None = None) -> Warehouse:
        name = f"demo_{customers}x{months}" + (f"_through_{through}" if through else "")
        template = built_once(tmp_path_factory, name, _demo_run(through, customers=customers, months=months))
        return copy_of(template, tmp_path / name)

    return make


@pytest.fixture(scope="session")
def demo_published(tmp_path_factory) -> Warehouse:
    """The demo data (as `make run` writes it) published by `retention run` (the CLI): built once per
    pytest run, copied once per worker."""
    return copy_of(built_once(tmp_path_factory, "demo_published", _demo_run()), tmp_path_factory.mktemp("demo_cli"))


def airflow_env(base: Path, extra: dict[str, str]) -> dict[str, str]:
    """A stock Airflow pointed at this project (docs/reference.md §3): fresh SQLite home, the repo's dags/."""
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(base / "airflow_home"),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        **extra,
    )
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    return env


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """A small demo export (monthly batches 2023-02-01 … 2023-07-01) for tests that run the pipeline many times."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("small") / "landing"
    write_demo_landing(landing, customers=150, months=6)
    return landing
