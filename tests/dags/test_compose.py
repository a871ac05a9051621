"""docker-compose.yml cannot start here (no Docker engine); check that it is a deployment that could:
it parses, builds on the Airflow release the lock pins, and runs commands this Airflow really has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, airflow_env

AIRFLOW = Path(sys.executable).parent / "airflow"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def locked_version(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, f"{package} is not pinned in requirements.lock"
    return match.group(1)


def test_image_is_the_locked_airflow_release_on_python_311():
    base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert base == f"apache/airflow:{locked_version('apache-airflow')}-python3.11"


def test_services_of_a_real_airflow_3_deployment(compose):
    services = compose["services"]
    assert {"postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"} <= set(services)
    assert re.fullmatch(r"postgres:\d+", services["postgres"]["image"])
    for name, service in services.items():
        if name.startswith("airflow"):
            env = service["environment"]
            assert env["RETENTION_LANDING_DIR"] and env["RETENTION_WAREHOUSE"]
            assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/retention/dags"
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")


@pytest.mark.airflow
def test_every_command_exists_in_the_installed_airflow(compose, tmp_path):
    env = airflow_env(tmp_path, {})
    commands = {tuple(s["command"]) for n, s in compose["services"].items() if n.startswith("airflow")}
    assert len(commands) == 4
    for command in commands:
        assert command[0] == "airflow"
        words = [w for w in command[1:] if not w.startswith("-") and not w.isdigit()]
        done = subprocess.run([str(AIRFLOW), *words, "--help"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"`airflow {' '.join(words)}` is not a command of this Airflow: {done.stderr[-500:]}"
