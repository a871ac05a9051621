"""Shared fixtures and pytest hooks; the helpers they use live in tests/support/ (imported from there by tests)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# the helpers' asserts explain their failures as a test's own do (before anything imports them)
pytest.register_assert_rewrite("tests.support")

from tests.support.warehouse import Warehouse  # noqa: E402  (after the assert-rewrite registration)

# CI must be reproducible: the same examples every run there; locally, new ones every run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


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


@pytest.fixture(scope="session")
def demo_landing(demo_published) -> Path:
    """The demo CRM exports `make run` uses: those `demo_published` was built from, so a reference computed
    from them reads exactly what was published."""
    return demo_published.landing


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """A small demo export (monthly batches 2023-02-01 … 2023-07-01) for tests that run the pipeline many times."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("small") / "landing"
    write_demo_landing(landing, customers=150, months=6)
    return landing
