"""Environments for the programs a test starts besides the `retention` CLI: a stock Airflow pointed at
this project, and a throwaway virtual environment for readers that bring their own libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.warehouse import ROOT


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


def throwaway_venv(folder: Path, requirements: list[str]) -> str:
    """A virtual environment in `folder` with `requirements` installed from PyPI by the project's uv, for
    readers that bundle their own DuckDB, SQLAlchemy ... (not the project's); returns its Python.
    Skips the test, with uv's reason, when they cannot be installed (PyPI unreachable)."""
    uv = Path(sys.executable).parent / "uv"
    python = folder / "bin" / "python"
    steps = [
        [str(uv), "venv", "-q", "--python", sys.executable, str(folder)],
        [str(uv), "pip", "install", "-q", "--python", str(python), *requirements],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            why = done.stderr.strip()[-300:]
            pytest.skip(f"could not install {' '.join(requirements)} from PyPI ({' '.join(step[:3])}): {why}")
    return str(python)
