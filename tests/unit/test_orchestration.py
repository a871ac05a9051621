"""The DAG's task wrappers: verdicts fail at once, transient errors go to a retry; every run type has a
through date (docs/reference.md §3: a run without a logical date uses the day it starts)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from retention.errors import AuditFailed, ConfigError, DiskFull, RunFailed, WriterBusy
from retention.ingest.landing import BatchRejected
from retention.orchestration import fail_fast, run_through


@pytest.mark.parametrize(
    "verdict", [RunFailed("ingest rejected 2024-01-01/orders.csv"), AuditFailed("one_currency"), ConfigError("X='y'")]
)
def test_a_verdict_fails_the_task_without_retry_with_its_one_line_message(verdict):
    with pytest.raises(AirflowFailException, match=str(verdict)), fail_fast():
        raise verdict


def test_a_rejected_batch_is_a_verdict():
    assert not BatchRejected.retryable


@pytest.mark.parametrize("transient", [WriterBusy("held by retention run"), DiskFull("no space left on /data")])
def test_a_transient_error_is_raised_as_is_for_a_retry(transient):
    with pytest.raises(type(transient)), fail_fast():
        raise transient


def test_a_bug_keeps_its_traceback():
    with pytest.raises(KeyError), fail_fast():
        raise KeyError("x")


def _context(**kw):
    return {"params": {"through": None}, "logical_date": None, "dag_run": SimpleNamespace(start_date=None, run_after=None)} | kw


def test_through_is_the_param_then_the_logical_date_then_the_day_the_run_started():
    started = dt.datetime(2026, 3, 4, 23, 59, tzinfo=dt.UTC)
    assert run_through(_context(params={"through": "2024-02-01"}, logical_date=started)) == dt.date(2024, 2, 1)
    assert run_through(_context(logical_date=dt.datetime(1998, 7, 1, tzinfo=dt.UTC))) == dt.date(1998, 7, 1)
    assert run_through(_context(dag_run=SimpleNamespace(start_date=started, run_after=None))) == dt.date(2026, 3, 4)


@pytest.fixture
def webhook():
    """A real HTTP server on localhost; what was POSTed to it, as parsed JSON, in `received`."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # quiet test output
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_the_summary_is_posted_even_when_another_setting_failed_the_run(webhook, monkeypatch):
    """RETENTION_NOTIFY_WEBHOOK is read through Settings; a bad RETENTION_MEMORY_LIMIT (what failed the run)
    must not keep the failure from being told."""
    from retention.orchestration import _notify

    url, received = webhook
    monkeypatch.delenv("RETENTION_NOTIFY_EMAIL", raising=False)
    monkeypatch.setenv("RETENTION_NOTIFY_WEBHOOK", url)
    _notify({"run_id": "r1", "state": "success"}, {})
    monkeypatch.setenv("RETENTION_MEMORY_LIMIT", "lots")
    _notify({"run_id": "r2", "state": "failed"}, {})
    assert received == [{"run_id": "r1", "state": "success"}, {"run_id": "r2", "state": "failed"}]


def test_a_bad_notification_setting_is_named_and_nothing_is_sent(webhook, monkeypatch, caplog):
    from retention.orchestration import _notify

    url, received = webhook
    monkeypatch.delenv("RETENTION_NOTIFY_EMAIL", raising=False)
    monkeypatch.setenv("RETENTION_NOTIFY_WEBHOOK", url.removeprefix("http://"))
    _notify({"run_id": "r1", "state": "failed"}, {})
    assert received == []
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"RETENTION_NOTIFY_WEBHOOK={url.removeprefix('http://')!r}: is not an http(s) URL" in warning


def test_a_webhook_that_cannot_be_reached_is_logged_by_its_host_never_its_secret_path(monkeypatch, caplog):
    """Slack- and Teams-style webhooks carry their credential in the path: the task log names the host only."""
    from retention.orchestration import _notify

    monkeypatch.delenv("RETENTION_NOTIFY_EMAIL", raising=False)
    monkeypatch.setenv("RETENTION_NOTIFY_WEBHOOK", "http://127.0.0.1:1/services/T0/B0/s3cr3tT0ken")  # port 1: refused
    _notify({"run_id": "r1", "state": "failed"}, {})
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "127.0.0.1" in warning and "s3cr3tT0ken" not in warning, warning
