"""The DAG's writing tasks wait for the writer lock another run holds, saying who holds it, and go on
once it is free: with no Airflow pool, this is what keeps a backfill's task and the nightly run's from
writing the DuckDB files at once (Airflow starts a backfill's runs beside the DAG's max_active_runs)."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retention import orchestration
from retention.config import load_settings
from retention.errors import WriterBusy

HOLD = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": "another run's dbt_build", "since": "now"}).encode(), 0)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _settings(tmp_path: Path):
    # the CLI's setting says "do not wait": the DAG's writers wait all the same
    env = {
        "RETENTION_WAREHOUSE": str(tmp_path / "retention.duckdb"),
        "RETENTION_STATE_DIR": str(tmp_path / "state"),
        "RETENTION_LOCK_WAIT_SECONDS": "0",
    }
    return load_settings(env)


def _hold(lock: Path, seconds: float) -> subprocess.Popen:
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_waits_for_another_runs_lock_says_who_holds_it_and_goes_on_when_it_is_free(tmp_path, caplog):
    settings = _settings(tmp_path)
    holder = _hold(settings.lock_file, 2.0)
    caplog.set_level(logging.INFO, logger="retention")
    started = time.monotonic()
    try:
        with orchestration.writing(settings, "airflow crm_retention ingest 2024-01-01"):
            waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert waited >= 1.5
    said = [r.getMessage() for r in caplog.records]
    waiting = next(m for m in said if "waiting up to" in m)
    assert f"pid {holder.pid}" in waiting and "another run's dbt_build" in waiting and "7200s" in waiting
    assert said.index(waiting) < said.index("writer lock taken: airflow crm_retention ingest 2024-01-01")
    assert said[-1] == "writer lock released: airflow crm_retention ingest 2024-01-01"


def test_a_writer_that_waited_in_vain_raises_a_retryable_error_naming_the_holder(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.setattr(orchestration, "WRITER_LOCK_WAIT", dt.timedelta(seconds=1))  # not 2 h in a test
    holder = _hold(settings.lock_file, 30.0)
    try:
        with pytest.raises(WriterBusy) as busy, orchestration.writing(settings, "airflow crm_retention audit R1"):
            pytest.fail("the lock was held by another process")
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert busy.value.retryable  # Airflow retries it (fail_fast lets it through), with backoff
    assert f"pid {holder.pid}" in str(busy.value) and "waited 1s" in str(busy.value)
