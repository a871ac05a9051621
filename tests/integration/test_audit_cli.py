"""The audit as people meet it: `retention run`'s summary, the published audit history, Data Docs,
and input data that trips a check (a second currency, a stale feed) stopping the publish."""

from __future__ import annotations

import subprocess

import pytest

from retention.config import load_settings
from retention.demo import write_demo_landing
from retention.quality.checks import checks_for
from tests.support.compare import file_digest
from tests.support.landing import customer, order, write_batch
from tests.support.warehouse import RETENTION, ROOT

pytestmark = pytest.mark.slow

CHECK_NAMES = [c.name for c in checks_for(load_settings({}))]


def late_batch(warehouse, currency: str) -> None:
    write_batch(
        warehouse.landing,
        "2023-07-15",
        customers=[customer("X1", "2023-07-10", region="east")],
        orders=[
            order("X-1", "X1", "2023-07-11 10:00:00", amount="40.00", currency=currency),
            order("X-2", "X1", "2023-07-12 10:00:00", amount="15.00", currency=currency),
            order("X-3", "NOBODY", "2023-07-12 11:00:00", amount="9.00", status="pending"),
        ],
    )


def test_summary_history_docs_and_input_that_fails_a_check(warehouse):
    write_demo_landing(warehouse.landing, customers=200, months=6)
    done = warehouse.run("run", "--through", "2023-07-01")
    lines = done.stdout.splitlines()
    for name in CHECK_NAMES:  # one line per check in the summary
        assert sum(1 for line in lines if f" {name} " in line) == 1, (name, done.stdout)
    assert len(lines) < 45  # one screen: a line per check, then the run's summary (progress goes to stderr)
    index = (warehouse.state / "data_docs" / "index.html").read_text()
    assert all(name in index for name in CHECK_NAMES)
    before = file_digest(warehouse.path)

    # a new batch whose completed orders are in EUR: the marts would add euros to dollars
    late_batch(warehouse, "EUR")
    failed = warehouse.run("run", check=False)
    assert failed.returncode == 1
    assert "one_currency failed" in failed.stderr
    assert "EUR: 2 completed orders in a feed of USD (" in failed.stderr
    assert "order X-1 (2023-07-15/orders.csv line 2), order X-2 (2023-07-15/orders.csv line 3)" in failed.stderr
    assert "nothing was published" in failed.stderr
    assert file_digest(warehouse.path) == before

    # re-delivered in dollars: published; the unknown customer is reported, not fatal
    late_batch(warehouse, "USD")
    done = warehouse.run("run")
    [warned] = [line for line in done.stdout.splitlines() if " orders_with_known_customer " in line]
    assert warned.strip().startswith("WARNED") and "X-3 (customer NOBODY)" in warned
    assert file_digest(warehouse.path) != before

    # the history in the published file has every run, the failed one included
    history = warehouse.query("""
        select run_id, check_name, status, observed, expected from audit.check_results
        where check_name in ('one_currency', 'orders_with_known_customer') order by checked_at, check_name""")
    assert [(c, s) for _, c, s, _, _ in history] == [
        ("one_currency", "passed"),
        ("orders_with_known_customer", "passed"),
        ("one_currency", "failed"),
        ("orders_with_known_customer", "warned"),
        ("one_currency", "passed"),
        ("orders_with_known_customer", "warned"),
    ]
    assert history[2][3:] == ("2", "0") and history[3][3:] == ("1", "0")
    assert len({r[0] for r in history}) == 3
    columns = [
        r[0]
        for r in warehouse.query(
            "select column_name from information_schema.columns where table_schema = 'audit' and table_name = 'check_results'"
        )
    ]
    assert {"run_id", "check_name", "observed", "expected", "status", "details"} <= set(columns)

    # a stale feed: the DAG's logical date is far past the newest batch, and freshness is set to fail
    env = dict(warehouse.env, RETENTION_FRESHNESS_MAX_DAYS="30", RETENTION_FRESHNESS_SEVERITY="fail")
    stale = subprocess.run(
        [str(RETENTION), "run", "--through", "2023-09-30"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "freshness failed" in stale.stderr
    assert "newest batch 2023-07-15 vs through date 2023-09-30: observed 77 days, expected at most 30 days" in stale.stderr
