"""docker-compose.yml cannot start here (no Docker engine); check that it is a deployment that could:
it parses, builds on the Airflow release the lock pins, and runs commands this Airflow really has."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.environments import airflow_env
from tests.support.warehouse import ROOT

AIRFLOW = Path(sys.executable).parent / "airflow"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def locked_version(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, f"{package} is not pinned in requirements.lock"
    return match.group(1)


def test_image_is_the_locked_airflow_release_on_python_311():
    base = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)[-1]  # the final stage
    assert base == f"apache/airflow:{locked_version('apache-airflow')}-python3.11"


SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}


def airflow_commands(compose: dict) -> list[list[str]]:
    """Every `airflow …` a service or health check runs (a `bash -c` line split at &&)."""
    out = []
    for name, service in compose["services"].items():
        if not name.startswith("airflow"):
            continue
        lines = [service["command"], (service.get("healthcheck") or {}).get("test", [])]
        for line in lines:
            text = line[-1] if line and line[0] in ("bash", "CMD-SHELL") else shlex.join(line) if line else ""
            out += [shlex.split(part) for part in text.split("&&") if part.strip().startswith("airflow")]
    return out


def test_services_of_the_tested_airflow_3_deployment(compose):
    """What tests/dags/test_running_airflow.py runs: the four Airflow services on PostgreSQL, LocalExecutor."""
    services = compose["services"]
    assert {"postgres", "airflow-init", *SERVICES} == set(services)
    assert re.fullmatch(r"postgres:\d+\.\d+", services["postgres"]["image"]), "pin the image tag"
    for name, service in services.items():
        if name.startswith("airflow"):
            env = service["environment"]
            assert re.fullmatch(r"retention-warehouse:[\w.-]+", service["image"]) and not service["image"].endswith(":latest")
            assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
            assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/retention/dags"
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
            mounts = {re.sub(r"\$\{[^}]*\}", "host", v).split(":")[1] for v in service["volumes"]}
            for setting in ("RETENTION_LANDING_DIR", "RETENTION_STATE_DIR", "RETENTION_OUTPUT_DIR"):
                assert env[setting] in mounts, f"{name}: {setting} is not on a volume"
            assert str(Path(env["RETENTION_WAREHOUSE"]).parent) in mounts
        if name in SERVICES | {"postgres"}:
            assert service["healthcheck"]["test"], name


def test_secrets_come_from_a_non_committed_env_file(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"POSTGRES_PASSWORD", "RETENTION_PII_SALT", "AIRFLOW_JWT_SECRET"} <= required
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert required <= set(example)
    assert "/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_deployment_sets_up_no_pool(compose):
    """A pool the DAG needed would have to be created in every Airflow that runs it, or its tasks sit
    scheduled forever; the DAG needs none (test_dagbag), so none is set up here either."""
    assert [c for c in airflow_commands(compose) if c[1] == "pools"] == []


@pytest.mark.airflow
def test_every_command_exists_in_the_installed_airflow(compose, tmp_path):
    env = airflow_env(tmp_path, {})
    commands = airflow_commands(compose)
    assert {c[1] for c in commands} >= {"db", "api-server", "scheduler", "dag-processor", "triggerer", "jobs"}
    for command in commands:
        done = subprocess.run([str(AIRFLOW), *command[1:], "--help"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"`{shlex.join(command)}` is not a command of this Airflow: {done.stderr[-500:]}"
        usage = done.stdout
        for flag in (w.split("=")[0] for w in command[1:] if w.startswith("--")):
            assert flag in usage, f"`{shlex.join(command)}`: this Airflow has no {flag}"
        if "--job-type" in command:
            assert command[command.index("--job-type") + 1] in usage
