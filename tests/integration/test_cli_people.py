"""The CLI for people: progress while a run goes, a summary at its end, `status --json`, `report`, `show`.

Every test runs the real `retention` command as a subprocess on real data; expected counts come from
SQL over the lake or from hand-worked data, never from the command's own output.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.landing import customers, write_batch
from tests.support.warehouse import RETENTION, ROOT, Warehouse

ANSI = re.compile(r"\x1b\[")
STAGES = ("ingest", "build", "audit", "publish", "outputs")


def _summary_value(stdout: str, label: str) -> str:
    """The value of a `  label  value` row of the run's plain summary."""
    [line] = [line for line in stdout.splitlines() if re.match(rf"  {re.escape(label)}\s{{2,}}\S", line)]
    return line[len(label) + 2 :].strip()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, small_landing) -> tuple[Warehouse, subprocess.CompletedProcess]:
    """The small demo plus one batch with a quarantined row, run off a terminal (output captured)."""
    wh = Warehouse(tmp_path_factory.mktemp("cli_people"))
    shutil.copytree(small_landing, wh.landing, dirs_exist_ok=True)
    write_batch(
        wh.landing,
        "2023-07-15",
        customers=[],
        orders=[["Z1", "Z", "2023-07-10", "3", "USD", "shipped"]],
    )
    return wh, wh.run("run")


@pytest.mark.slow  # one run of the whole pipeline (dbt)
def test_run_off_a_terminal_says_each_stage_and_batch_in_plain_lines_and_where_the_outputs_are(small_run):
    wh, done = small_run
    assert not ANSI.search(done.stdout) and not ANSI.search(done.stderr)
    progress = done.stderr.splitlines()
    for stage in STAGES:
        assert f"[{stage}] started" in "\n".join(progress), stage
        assert sum(1 for line in progress if line.startswith(f"[{stage}] done in ")) == 1, stage
    batches = sorted(p.name for p in wh.landing.iterdir() if p.is_dir())
    for batch in batches:
        [line] = [line for line in progress if line.startswith(f"[ingest] batch {batch} loaded")]
        assert line.endswith(f"({batches.index(batch) + 1}/{len(batches)})")
    report, parquet = Path(_summary_value(done.stdout, "report")), Path(_summary_value(done.stdout, "parquet"))
    assert report.is_file() and report.stat().st_size > 0
    assert (parquet / "period_retention.parquet").is_file()
    assert "retention report --open" in done.stdout and "retention show" in done.stdout
    assert "published the marts to " + str(wh.path) in done.stdout


@pytest.mark.slow
def test_status_json_counts_equal_the_lake(small_run):
    wh, done = small_run
    status = json.loads(wh.run("status", "--json").stdout)

    read = {
        (b["batch_date"], f["table"]): (f["rows_read"], f["rows_loaded"], f["rows_quarantined"])
        for b in status["batches"]
        for f in b["files"]
    }
    loaded = {
        (str(d), t): n
        for t in ("customers", "orders")
        for d, n in wh.lake(f"select batch_date, count(*) from {{{t}}} group by 1")
    }
    counted = wh.lake("select batch_date, table_name, count(*) from {quarantine} group by all")
    quarantined = {(str(d), t): n for d, t, n in counted}
    expected = {
        key: (loaded.get(key, 0) + quarantined.get(key, 0), loaded.get(key, 0), quarantined.get(key, 0))
        for key in set(read) | set(loaded) | set(quarantined)
    }
    assert read == expected
    assert read[("2023-07-15", "orders")] == (1, 0, 1)  # by hand: the one order's status is unknown

    [reason] = status["quarantine_reasons"]
    assert (reason["reason"], reason["example_values"], reason["rows"]) == ("unknown status", "shipped", 1)
    run_id = _summary_value(done.stdout, "run").split(",")[0]
    assert status["last_run"]["run_id"] == run_id and status["last_run"]["status"] == "published warehouse"
    assert status["published"] | {"published_at": None} == {
        "warehouse": str(wh.path), "exists": True, "as_of": "2023-07-15", "run_id": run_id, "published_at": None
    }  # fmt: skip
    assert status["outputs"]["report"]["exists"] and status["rejected_batches"] == []


@pytest.mark.slow
def test_report_prints_the_published_report_and_open_falls_back_to_its_url(small_run):
    wh, _ = small_run
    shown = wh.run("report").stdout.strip()
    assert Path(shown).is_file() and shown == str(wh.base / "warehouse" / "outputs" / "report.html")
    wh.env["BROWSER"] = "false"  # a "browser" that fails: webbrowser.open returns False
    try:
        opened = wh.run("report", "--open").stdout
    finally:
        del wh.env["BROWSER"]
    assert f"open {Path(shown).as_uri()}" in opened


def test_report_without_a_published_warehouse_is_one_line_and_exit_1(warehouse):
    done = warehouse.run("report", check=False)
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("retention: ") and "retention run" in line


@pytest.mark.slow  # one run of the whole pipeline (dbt), under a pseudo-terminal
def test_run_under_a_terminal_draws_progress_and_publishes(tmp_path, small_landing):
    wh = Warehouse(tmp_path)
    env = dict(wh.env, RETENTION_LANDING_DIR=str(small_landing), TERM="xterm-256color", COLUMNS="120")
    env.pop("AIRFLOW_CTX_DAG_ID", None)
    primary, secondary = pty.openpty()
    child = subprocess.Popen([str(RETENTION), "run"], stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=ROOT)
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(primary)
    assert child.wait(timeout=600) == 0, out.decode(errors="replace")[-3000:]
    text = out.decode(errors="replace")
    assert ANSI.search(text)  # drawn, not plain
    assert "[ingest]" not in text  # the plain lines are for logs
    assert all(stage in text for stage in STAGES) and "✓" in text and "✗" not in text
    assert "retention run" in text and "report.html" in text  # the summary panel
    assert wh.query("select count(*) from marts.period_retention")[0][0] > 0


@pytest.fixture(scope="module")
def zero_revenue(tmp_path_factory) -> tuple[Warehouse, subprocess.CompletedProcess]:
    """Three quarters of hand-worked orders: Q1 and Q2 each a completed order of amount 0, Q3 one of 25.
    revenue_start of every quarter shown is the revenue of the quarter before: 0 (Q1: none before), so
    NRR and GRR are NULL in all three rows (docs/reference.md); S is 0, 1, 1, so retention is not.
    A file in the way of the outputs' `report.html` makes the outputs fail after the publish."""
    wh = Warehouse(tmp_path_factory.mktemp("cli_show"))
    orders = [  # order_id, customer_id, ordered_at, amount, currency, status
        ["O1", "C1", "2023-02-10", "0", "USD", "completed"],
        ["O2", "C2", "2023-05-10", "0", "USD", "completed"],
        ["O3", "C1", "2023-08-10", "25", "USD", "completed"],
    ]
    write_batch(wh.landing, "2023-08-15", customers=customers("C1", "C2", created_at="2023-01-01"), orders=orders)
    outputs = wh.base / "warehouse" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "report.html").write_text("not the link the outputs are published by")
    return wh, wh.run("run")


@pytest.mark.slow
def test_outputs_that_fail_after_the_publish_are_said_plainly_and_exit_0(zero_revenue):
    wh, done = zero_revenue
    assert done.returncode == 0
    assert "published the marts to " + str(wh.path) in done.stdout
    assert "the marts are published, but the outputs for readers are not" in done.stdout
    assert "report.html" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.slow
def test_show_quarter_limit_3_leaves_out_a_column_empty_in_the_rows_shown(zero_revenue):
    wh, _ = zero_revenue
    assert wh.query(
        "select period_start::varchar, customers_start, net_revenue_retention, gross_revenue_retention "
        "from marts.period_retention where period_grain = 'quarter' order by 1 desc"
    ) == [("2023-07-01", 1, None, None), ("2023-04-01", 1, None, None), ("2023-01-01", 0, None, None)]

    shown = wh.run("show", "--grain", "quarter", "--limit", "3", "--cohorts", "0").stdout
    lines = shown.split("period retention by quarter (latest first)\n")[1].strip("\n").splitlines()
    header, rows = lines[0].split(), [line.split() for line in lines[2:]]
    assert len(rows) == 3 and [r[0] for r in rows] == ["2023-07-01", "2023-04-01", "2023-01-01"]
    assert "NRR" not in header and "GRR" not in header  # NULL in every row shown
    assert "retention" in header  # NULL only in the first quarter's row
    # by hand: Q3 S=1 E=1 N=0 → (1 − 0) / 1; Q2 S=1 E=1 N=1 → 0
    assert [r[7] for r in rows[:2]] == ["100.0%", "0.0%"]
    assert "cohort retention" not in shown
