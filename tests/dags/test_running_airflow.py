"""A running Airflow, deployed as docker-compose.yml deploys it: api-server, scheduler, dag-processor and
triggerer on loopback, LocalExecutor, metadata in a PostgreSQL database made for this test run (and
dropped after), set up with `airflow db migrate` alone: no pool or anything else created by hand. The DAG
is unpaused and triggered through the REST API v2 without a logical date; then a backfill over past dates,
with a manual run beside it, writes one snapshot per date, leaves today's marts alone, and no two runs'
tasks ever write at the same time."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.compare import assert_marts_equal_reference
from tests.support.landing import order, write_batch
from tests.support.warehouse import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
BIN = Path(sys.executable).parent
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
SERVICES = (("api-server",), ("scheduler",), ("dag-processor",), ("triggerer",))
DAG = "crm_retention"
RUN_TIMEOUT = 900


def _psql(sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Airflow:
    def __init__(self, env: dict[str, str], base: str, home: Path):
        self.env, self.base, self.home, self.token = env, base, home, ""

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return json.loads(text) if text.strip().startswith(("{", "[")) else {"text": text}

    def wait_for_run(self, run_id: str) -> dict:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            run = self.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(2)
        raise AssertionError(f"{run_id} did not finish in {RUN_TIMEOUT}s: {self.logs_tail()}")

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.home.glob("*.out")))

    def failure_report(self, run_ids: list[str]) -> str:
        """Each failed task of these runs with the end of its log: what a failed assertion should show."""
        parts = []
        for run_id in run_ids:
            tasks = self.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{quote(run_id)}/taskInstances")["task_instances"]
            parts.append(f"run {run_id}: " + ", ".join(f"{t['task_id']}={t['state']}" for t in tasks))
            for t in tasks:
                if t["state"] == "failed":
                    parts.append(f"--- {t['task_id']} log:\n{self.task_log(run_id, t['task_id'], t['try_number'])[-3000:]}")
        return "\n".join(parts)

    def task_log_entries(self, run_id: str, task_id: str, try_number: int = 1) -> list:
        """The task's log as Airflow serves it: structured entries (timestamp, event, …) or plain lines."""
        request = urllib.request.Request(
            f"{self.base}/api/v2/dags/{DAG}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/logs/{try_number}?full_content=true",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["content"]

    def task_log(self, run_id: str, task_id: str, try_number: int = 1) -> str:
        content = self.task_log_entries(run_id, task_id, try_number)
        return "\n".join(str(line.get("event", line)) if isinstance(line, dict) else str(line) for line in content)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """The small demo export (monthly to 2023-07-01) and two small daily batches after it, so that a
    backfill over 2023-07-01 … 2023-07-02 has a different as-of date on each day."""
    from retention.demo import write_demo_landing

    landing = tmp_path_factory.mktemp("running") / "landing"
    write_demo_landing(landing, customers=120, months=6)
    write_batch(landing, "2023-07-02", customers=[], orders=[order("X1", "XC1", "2023-07-01 09:00:00", amount="12.50")])
    write_batch(landing, "2023-07-03", customers=[], orders=[order("X2", "XC2", "2023-07-02 09:00:00", amount="12.50")])
    return landing


class Webhook(http.server.BaseHTTPRequestHandler):
    """What the DAG's callbacks POST to RETENTION_NOTIFY_WEBHOOK, kept in `received`."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        Webhook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/retention"
    server.shutdown()


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, landing, webhook):
    base = tmp_path_factory.mktemp("airflow_server")
    wh = Warehouse(base)
    database = f"retention_airflow_{secrets.token_hex(4)}"
    home = base / "airflow_home"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": "test-password"}))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {
        k: v for k, v in wh.env.items() if k.startswith("RETENTION_")
    }
    env |= {
        "RETENTION_LANDING_DIR": str(landing),
        "RETENTION_NOTIFY_WEBHOOK": webhook,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[2] / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{PG}/{database}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        # the scheduler's and triggerer's log servers: free ports, not the fixed defaults other runs may hold
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
    }
    _psql(f"create database {database}")
    processes: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        server = Airflow(env, f"http://127.0.0.1:{port}", home)
        server.cli("db", "migrate")  # all the set-up docker-compose.yml's airflow-init does
        for service in SERVICES:
            out = open(home / f"{service[0]}.out", "w")  # noqa: SIM115 - closed with the process
            extra = ["--host", "127.0.0.1", "--port", str(port)] if service == ("api-server",) else []
            processes.append(
                subprocess.Popen(
                    [str(BIN / "airflow"), *service, *extra],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        _wait_healthy(server, processes)
        server.started_in = time.monotonic() - started  # type: ignore[attr-defined]
        yield server, wh
    finally:
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
        _psql(f"drop database if exists {database} with (force)")


def _wait_healthy(server: Airflow, processes: list[subprocess.Popen]) -> None:
    """Poll the health endpoint until every component reports healthy, then log in and wait for the DAG."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in processes), f"an Airflow process exited:\n{server.logs_tail()}"
        try:
            health = json.loads(urllib.request.urlopen(server.base + "/api/v2/monitor/health", timeout=5).read())
            if all(
                health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            ):
                break
        except (OSError, ValueError):
            pass
        time.sleep(1)
    else:
        raise AssertionError(f"Airflow did not become healthy in 300s:\n{server.logs_tail()}")
    request = urllib.request.Request(
        server.base + "/auth/token",
        data=json.dumps({"username": "admin", "password": "test-password"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    server.token = json.loads(urllib.request.urlopen(request, timeout=30).read())["access_token"]
    while time.monotonic() < deadline:
        try:
            server.api("GET", f"/api/v2/dags/{DAG}")
            return
        except urllib.error.HTTPError:
            time.sleep(1)
    raise AssertionError(f"the DAG was not parsed in time:\n{server.logs_tail()}")


@dataclass
class Triggered:
    run: dict  # the run triggered through the REST API, finished
    seconds: float  # from trigger to its end
    builder: str  # the run that built and published: this one, or the run unpausing scheduled
    others: list[str]  # the other runs of the DAG, which found the marts up to date


@pytest.fixture(scope="module")
def triggered(airflow) -> Triggered:
    """Unpausing the DAG schedules a run of its own beside the one triggered here; the scheduler may start
    either first (max_active_runs=1), and the first builds while the second finds the marts up to date."""
    server, wh = airflow
    server.api("PATCH", f"/api/v2/dags/{DAG}", {"is_paused": False})
    started = time.monotonic()
    run = server.api("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None})
    assert run["logical_date"] is None
    done = server.wait_for_run(run["dag_run_id"])
    seconds = time.monotonic() - started
    finished = [
        server.wait_for_run(other["dag_run_id"]) for other in server.api("GET", f"/api/v2/dags/{DAG}/dagRuns")["dag_runs"]
    ]
    first, *others = sorted(finished, key=lambda r: r["start_date"])
    return Triggered(done, seconds, first["dag_run_id"], [r["dag_run_id"] for r in others])


def test_a_run_triggered_through_the_rest_api_without_a_logical_date_publishes_the_marts(airflow, triggered, landing):
    server, wh = airflow
    run, seconds = triggered.run, triggered.seconds
    print(f"Airflow healthy in {server.started_in:.0f}s; trigger to success in {seconds:.0f}s")
    assert run["state"] == "success", server.logs_tail()
    # on the one pool a fresh metadata database has: nothing had to be created for the run to start
    assert [p["name"] for p in server.api("GET", "/api/v2/pools")["pools"]] == ["default_pool"]
    assert_marts_equal_reference(wh.path, landing, dt.date(2023, 7, 3))
    assert server.api("GET", f"/api/v2/dags/{DAG}")["next_dagrun_run_after"]  # and it is scheduled nightly
    marker = json.loads((wh.state / "published.json").read_text())
    assert marker["as_of"] == "2023-07-03" and marker["through"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_task_logs_say_what_happened(airflow, triggered):
    server, _ = airflow
    run_id = triggered.builder
    ingest, build, audit = (server.task_log(run_id, t) for t in ("ingest", "dbt_build", "audit"))
    assert "rows read" in ingest and "(as of 2023-07-03)" in ingest
    assert "model.retention.period_retention: success" in build
    assert "audit of run" in audit and " ok " in audit and " rows" in audit


def test_the_run_summary_is_kept_and_posted_to_the_webhook(airflow, triggered):
    """The DAG's success callback (run by Airflow's DAG processor) writes the run's summary in the state
    folder and POSTs it to RETENTION_NOTIFY_WEBHOOK."""
    _, wh = airflow
    run_id = triggered.run["dag_run_id"]
    deadline = time.monotonic() + 120
    while not [m for m in Webhook.received if m.get("run_id") == run_id]:
        assert time.monotonic() < deadline, f"no summary of {run_id} was posted; received {Webhook.received}"
        time.sleep(1)
    [posted] = [m for m in Webhook.received if m.get("run_id") == run_id]
    assert posted["state"] == "success" and posted["dag_id"] == DAG and posted["end_date"]
    kept = json.loads((wh.state / "airflow_runs" / f"{run_id.replace(':', '-')}.json").read_text())
    assert kept == posted


def test_the_asset_event_carries_the_as_of_date_and_fires_only_when_the_warehouse_changed(airflow, triggered):
    server, _ = airflow
    events = server.api("GET", "/api/v2/assets/events?order_by=timestamp")["asset_events"]
    ours = [e for e in events if e["source_run_id"] == triggered.builder]
    assert [e["extra"]["as_of"] for e in ours] == ["2023-07-03"]
    assert not [e for e in events if e["source_run_id"] in triggered.others]  # they changed nothing
    assert ours[0]["uri"].startswith("file://") or "retention_marts" in json.dumps(ours[0])


WRITERS = ("ingest", "dbt_build", "audit", "publish", "outputs")


def _when(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _lock_holds(server: Airflow, run_ids: list[str]) -> tuple[list[tuple[dt.datetime, dt.datetime, str]], int]:
    """When each writing task of these runs held the writer lock, from the lines it logs on taking and on
    releasing it (both inside the lock: the work between them is what must never overlap), and how many
    tasks had to wait for it."""
    holds, waits = [], 0
    for run_id in run_ids:
        tasks = server.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{quote(run_id)}/taskInstances")["task_instances"]
        for t in (t for t in tasks if t["task_id"] in WRITERS):
            for attempt in range(1, t["try_number"] + 1):
                taken = None
                for line in server.task_log_entries(run_id, t["task_id"], attempt):
                    event = str(line.get("event", "")) if isinstance(line, dict) else ""
                    waits += "waiting up to" in event
                    if event.startswith("writer lock taken"):
                        taken = _when(line["timestamp"])
                    elif event.startswith("writer lock released"):
                        assert taken is not None, f"{run_id} {t['task_id']}: released a lock it never took"
                        holds.append((taken, _when(line["timestamp"]), f"{run_id} {t['task_id']}#{attempt}"))
                        taken = None
    return sorted(holds), waits


def test_a_backfill_beside_a_manual_run_writes_a_snapshot_per_date_and_no_two_tasks_write_at_once(airflow, triggered, landing):
    """Airflow 3 counts a backfill's runs apart from the DAG's max_active_runs (each backfill has its own),
    so a backfill of two runs at once and a run triggered through the REST API all run together here.
    Without a pool the writer lock keeps their writing tasks to one at a time: a task that finds it held
    waits for it. Today's marts are up to date, so the manual run publishes nothing."""
    server, wh = airflow
    before = (wh.path.stat().st_ino, wh.path.stat().st_mtime_ns, (wh.state / "published.json").read_text())
    events_before = server.api("GET", "/api/v2/assets/events")["total_entries"]
    server.cli(
        "backfill", "create", "--dag-id", DAG, "--from-date", "2023-07-01", "--to-date", "2023-07-02", "--max-active-runs", "2"
    )
    manual = server.api("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None})["dag_run_id"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        runs = server.api("GET", f"/api/v2/dags/{DAG}/dagRuns?run_type=backfill")["dag_runs"]
        if len(runs) == 2 and all(r["state"] in ("success", "failed") for r in runs):
            break
        time.sleep(2)
    else:
        raise AssertionError(f"the backfill did not finish: {server.logs_tail()}")
    manual_run = server.wait_for_run(manual)
    run_ids = [r["dag_run_id"] for r in runs] + [manual]
    failed = [r["dag_run_id"] for r in [*runs, manual_run] if r["state"] != "success"]
    assert not failed, server.failure_report(failed)

    # the three runs were running at the same time: max_active_runs=1 did not hold the backfill back
    spans = [(_when(r["start_date"]), _when(r["end_date"])) for r in [*runs, manual_run]]
    assert max(start for start, _ in spans) < min(end for _, end in spans), spans
    holds, waits = _lock_holds(server, run_ids)
    assert {who.split("#")[0] for _, _, who in holds} == {f"{r} {t}" for r in run_ids for t in WRITERS}, holds
    for (_, ended, first), (started, _, then) in zip(holds, holds[1:], strict=False):
        assert ended <= started, f"{first} still held the writer lock when {then} took it"
    assert waits >= 1, "no task found the lock held: the runs did not overlap, so this proved nothing"
    print(f"{len(holds)} writing tasks of 3 runs, one at a time; {waits} waited for the lock")

    assert sorted(r["logical_date"][:10] for r in runs) == ["2023-07-01", "2023-07-02"]
    for day in (dt.date(2023, 7, 1), dt.date(2023, 7, 2)):
        assert_marts_equal_reference(wh.base / "warehouse" / "outputs" / "snapshots" / f"{day}.duckdb", landing, day)
    assert (wh.path.stat().st_ino, wh.path.stat().st_mtime_ns, (wh.state / "published.json").read_text()) == before
    assert server.api("GET", "/api/v2/assets/events")["total_entries"] == events_before  # snapshots announce nothing
