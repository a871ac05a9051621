"""Day-to-day operation, as a new user meets it: removing a bad batch, reading the quarantine, knowing
what built the published marts, a stale feed flagged by a plain `retention run`, export file names,
Airflow from the README, and a warehouse that describes itself. Expectations are hand-worked."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.landing import ORDER_COLUMNS, customer, order, write_batch, write_csv
from tests.support.warehouse import ROOT, Warehouse

pytestmark = pytest.mark.slow

C1 = customer("C1", region="EU")
EUR = {"amount": "10", "currency": "EUR"}  # the feed of these tests is in euros (its orders C1's: the default)


def months(wh) -> list[str]:
    return [
        str(r[0]) for r in wh.query("select period_start from marts.period_retention where period_grain = 'month' order by 1")
    ]


def test_a_bad_batch_is_removed_on_purpose_kept_out_until_corrected_and_a_vanished_folder_is_reported(warehouse):
    write_batch(warehouse.landing, "2024-01-15", customers=[C1], orders=[order("O1", ordered_at="2024-01-05", **EUR)])
    write_batch(
        warehouse.landing,
        "2024-02-15",
        customers=None,
        orders=[order("O2", ordered_at="2024-02-05", amount="10", currency="USD")],
    )
    failed = warehouse.run("run", check=False)
    assert failed.returncode == 1 and "one_currency" in failed.stderr

    no_reason = warehouse.run("batches", "remove", "2024-02-15", check=False)
    assert no_reason.returncode == 2  # why is part of the trail
    unknown = warehouse.run("batches", "remove", "2024-03-01", "--reason", "x", check=False)
    assert unknown.returncode == 1 and "batch 2024-03-01 is not in the lake" in unknown.stderr
    removed = warehouse.run("batches", "remove", "2024-02-15", "--reason", "USD order in a EUR feed")
    assert "the next `retention run` rebuilds the marts without it" in removed.stdout

    # the folder is still there, unchanged: not reloaded, said on every run
    done = warehouse.run("run")
    assert "batch 2024-02-15 was removed" in done.stderr and "USD order in a EUR feed" in done.stderr
    assert months(warehouse) == ["2024-01-01"]
    trail = warehouse.query("select batch_date::varchar, action, reason, done_by from audit.removed_batches")
    assert [t[:3] for t in trail] == [("2024-02-15", "removed", "USD order in a EUR feed")] and trail[0][3]
    listing = warehouse.run("batches").stdout
    feb = next(line for line in listing.splitlines() if line.startswith("2024-02-15"))
    assert "removed" in feb and "present" in feb and "USD order in a EUR feed" in feb
    again = warehouse.run("run")
    assert "nothing new" in again.stdout and "batch 2024-02-15 was removed" in again.stderr

    # a corrected re-delivery is loaded
    write_batch(warehouse.landing, "2024-02-15", customers=None, orders=[order("O2", ordered_at="2024-02-05", **EUR)])
    warehouse.run("run")
    assert months(warehouse) == ["2024-01-01", "2024-02-01"]
    assert [r[0] for r in warehouse.query("select action from audit.removed_batches order by happened_at")] == [
        "removed",
        "redelivered",
    ]

    # a landing folder that disappears: kept (the lake is the record) but reported on every run
    shutil.rmtree(warehouse.landing / "2024-01-15")
    gone = warehouse.run("run")
    assert "batch 2024-01-15 is in the lake (and in the marts) but its landing folder" in gone.stderr
    assert "is gone" in gone.stderr
    jan = next(line for line in warehouse.run("batches").stdout.splitlines() if line.startswith("2024-01-15"))
    assert "GONE" in jan


def test_the_quarantine_can_be_read_with_its_offending_values_and_written_for_the_crm_owner(warehouse, tmp_path):
    folder = write_batch(
        warehouse.landing,
        "2024-01-15",
        orders=[
            order("O1", ordered_at="2024-01-05", **EUR),
            order("O2", ordered_at="2024-01-06", status="shipped", **EUR),
            order("O3", ordered_at="soon", **EUR),
        ],
    )
    write_csv(
        folder / "customers.csv",
        ["customer_id", "created_at", "channel", "region", "email"],
        [["C1", "2024-01-01", "web", "EU", "ann@example.com"], ["C2", "yesterday", "web", "EU", "bob@example.com"]],
    )
    warehouse.run("run")

    status = warehouse.run("status").stdout
    by_reason = status.split("quarantined rows by batch, file and reason")[1]
    assert "unknown status" in by_reason and "shipped" in by_reason
    assert "unparseable ordered_at" in by_reason and "soon" in by_reason

    shown = warehouse.run("quarantine").stdout
    assert "unknown status: shipped" in shown and "unparseable created_at: yesterday" in shown
    assert "bob@example.com" not in shown  # personal data stays hashed
    only = warehouse.run("quarantine", "--reason", "Unknown Status").stdout
    assert "shipped" in only and "soon" not in only and "yesterday" not in only

    out = tmp_path / "fix_me.csv"
    warehouse.run("quarantine", "--batch", "2024-01-15", "--csv", str(out))
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], r["line"], r["reason"]) for r in rows] == [
        ("2024-01-15/customers.csv", "3", "unparseable created_at: yesterday"),
        ("2024-01-15/orders.csv", "3", "unknown status: shipped"),
        ("2024-01-15/orders.csv", "4", "unparseable ordered_at: soon"),
    ]
    assert rows[0]["raw_text"].startswith("C2,yesterday,web,EU,") and "bob@example.com" not in rows[0]["raw_text"]
    assert warehouse.query("select reason, example_values from audit.quarantine_summary order by source_file, reason") == [
        ("unparseable created_at", "yesterday"),
        ("unknown status", "shipped"),
        ("unparseable ordered_at", "soon"),
    ]


def test_a_plain_run_flags_a_stale_feed_and_the_published_file_says_what_built_it(warehouse):
    write_batch(warehouse.landing, "2024-01-15", customers=[C1], orders=[order("O1", ordered_at="2024-01-05", **EUR)])
    today = dt.datetime.now(dt.UTC).date()
    stale_days = (today - dt.date(2024, 1, 15)).days

    done = warehouse.run("run")
    assert f"newest batch 2024-01-15 vs today (UTC) {today}: observed {stale_days} days, expected at most 35 days" in done.stderr
    assert "retention: warning: freshness" in done.stderr and "RETENTION_LANDING_DIR" in done.stderr
    assert "freshness" in warehouse.run("status", "--last-run").stdout
    info = warehouse.rows("audit.run_info", "run_id")
    assert len(info) == 1
    assert str(info[0]["as_of_date"]) == "2024-01-15" and info[0]["through_date"] is None
    assert info[0]["timezone"] == "UTC" and info[0]["mapping_name"] == "canonical"
    import duckdb

    assert info[0]["duckdb_version"] == duckdb.__version__ and info[0]["dbt_version"].startswith("1.11")
    assert info[0]["code_version"].startswith("0.1.0+") and info[0]["published_at"] is not None

    # nothing new: still flagged, and fails when told to
    again = warehouse.run("run")
    assert "nothing new" in again.stdout and f"vs today (UTC) {today}: observed {stale_days} days" in again.stderr
    warehouse.env["RETENTION_FRESHNESS_SEVERITY"] = "fail"
    failing = warehouse.run("run", check=False)
    assert failing.returncode == 1 and "freshness" in failing.stderr
    del warehouse.env["RETENTION_FRESHNESS_SEVERITY"]

    # a setting that shapes the marts changed: said, and recorded
    warehouse.env["RETENTION_TIMEZONE"] = "Asia/Tokyo"
    tokyo = warehouse.run("run")
    assert "time zone changed from UTC to Asia/Tokyo since the last publish: every period is recomputed" in tokyo.stderr
    assert warehouse.query("select timezone from audit.run_info") == [("Asia/Tokyo",)]


def test_export_file_names_match_ignoring_case_and_a_batch_says_which_file_it_lacks(warehouse):
    folder = warehouse.landing / "2024-01-15"
    write_csv(folder / "Customers.csv", ["customer_id", "created_at", "channel", "region"], [C1])
    write_csv(folder / "orders.CSV", ORDER_COLUMNS, [order("O1", ordered_at="2024-01-05", **EUR)])
    write_batch(warehouse.landing, "2024-02-15", customers=[C1])
    done = warehouse.run("run")
    assert "batch 2024-02-15 has no orders.csv" in done.stderr
    assert warehouse.query("select count(*) from audit.load_manifest where batch_date = '2024-01-15' and present") == [(2,)]
    assert months(warehouse) == ["2024-01-01"]

    twice = write_batch(warehouse.landing, "2024-03-15", orders=[order("O3", ordered_at="2024-03-05", **EUR)])
    write_csv(twice / "Orders.csv", ORDER_COLUMNS, [order("O4", ordered_at="2024-03-06", **EUR)])
    rejected = warehouse.run("run", check=False)
    assert rejected.returncode == 1
    assert "batch 2024-03-15, file orders.csv: Orders.csv and orders.csv differ only in case" in rejected.stderr


def test_the_published_tables_and_columns_are_described_and_point_into_this_repository(warehouse):
    write_batch(warehouse.landing, "2024-01-15", customers=[C1], orders=[order("O1", ordered_at="2024-01-05", **EUR)])
    warehouse.run("run")
    tables = warehouse.query(
        "select schema_name, table_name, comment from duckdb_tables() where schema_name in ('marts', 'audit')"
    )
    columns = warehouse.query(
        "select schema_name, table_name, column_name, comment from duckdb_columns() where schema_name in ('marts', 'audit')"
    )
    assert {t[1] for t in tables if t[0] == "audit"} >= {"run_info", "check_results", "load_manifest", "quarantine_summary"}
    assert [t[:2] for t in tables if not (t[2] or "").strip()] == []
    assert [c[:3] for c in columns if not (c[3] or "").strip()] == []
    texts = [t[2] for t in tables] + [c[3] for c in columns]
    # they may cite docs/reference.md, which ships with the repository, never the contract file beside it that
    # users lack (the strings are built so that a search of the repository for them finds only real citations)
    outside = ("CONTRACT" + ".md", "contract" + " §", "../" + "shared")
    assert not [t for t in texts if any(o.lower() in t.lower() for o in outside)]
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme and (ROOT / "docs" / "reference.md").is_file()
    assert "## Operating the warehouse" in readme


@pytest.mark.airflow
def test_the_readme_airflow_command_works_in_a_plain_shell_after_make(tmp_path):
    home = tmp_path / "airflow_home"
    made = subprocess.run(["make", "-s", "airflow-db", f"AIRFLOW_HOME={home}"], cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    env_file = home / "airflow.env"
    assert f". {Path('airflow_home') / 'airflow.env'}" in (ROOT / "README.md").read_text()
    # a shell with none of the Makefile's variables, as a person's terminal or cron has: the README's lines
    wh = Warehouse(tmp_path / "wh")
    write_batch(wh.landing, "2024-01-15", customers=[C1], orders=[order("O1", ordered_at="2024-01-05", **EUR)])
    clean = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp_path))}
    clean |= {k: v for k, v in wh.env.items() if k.startswith("RETENTION_")}
    tested = subprocess.run(
        ["bash", "-c", f". {env_file} && airflow dags test crm_retention 2024-01-31"],
        env=clean,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert wh.query("select as_of_date::varchar, through_date::varchar from audit.run_info") == [("2024-01-15", "2024-01-31")]
