"""Shared fixtures and pytest hooks; the helpers they use live in tests/support/ (imported from there by tests)."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory) -> Path:
    """The demo CRM exports `make run` uses, written once per test session."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("demo") / "landing"
    write_demo_landing(landing)
    return landing


@pytest.fixture(scope="session")
def demo_published(tmp_path_factory, demo_landing) -> Warehouse:
    """The demo data published once by `retention run` (the CLI)."""
    wh = Warehouse(tmp_path_factory.mktemp("demo_cli"))
    wh.env["RETENTION_LANDING_DIR"] = str(demo_landing)
    wh.run("run")
    return wh


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """A small demo export (monthly batches 2023-02-01 … 2023-07-01) for tests that run the pipeline many times."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("small") / "landing"
    write_demo_landing(landing, customers=150, months=6)
    return landing
