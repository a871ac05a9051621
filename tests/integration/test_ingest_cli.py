"""Ingest through the real CLI, where what readers see (the published marts) is the point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.support.compare import file_digest
from tests.support.landing import ORDER_COLUMNS, customers, order, write_batch, write_csv
from tests.support.warehouse import Warehouse

pytestmark = pytest.mark.slow

MARTS = {
    "marts.period_retention": "period_grain, period_start",
    "marts.cohort_retention": "cohort_grain, cohort_start, period_number",
}


def marts(w: Warehouse) -> dict[str, list[tuple]]:
    return {t: w.query(f"select * from {t} order by {keys}") for t, keys in MARTS.items()}


def test_rejected_batch_leaves_published_marts_untouched_and_fix_loads(warehouse):
    write_batch(
        warehouse.landing,
        "2024-01-31",
        customers("c1", "c2"),
        [order("o1", "c1", "2024-01-05 10:00:00"), order("o2", "c2", "2024-01-20")],
    )
    warehouse.run("run")
    before_bytes, before = file_digest(warehouse.path), marts(warehouse)
    assert before["marts.period_retention"]  # something was published

    # February arrives without its amount column (and with a good customers file)
    bad = write_batch(warehouse.landing, "2024-02-29", customers("c3", created_at="2024-02-01"), None)
    write_csv(
        bad / "orders.csv",
        [c for c in ORDER_COLUMNS if c != "amount"],
        [order("o3", "c3", "2024-02-02")],
    )
    done = warehouse.run("run", check=False)
    assert done.returncode != 0
    assert "batch 2024-02-29, file orders.csv: required column(s) missing: amount" in done.stderr
    assert file_digest(warehouse.path) == before_bytes
    assert marts(warehouse) == before
    assert warehouse.lake("select distinct batch_date from {manifest}") == [(dt.date(2024, 1, 31),)]

    # the CRM admin re-exports February properly: the next run loads it
    write_batch(warehouse.landing, "2024-02-29", None, [order("o3", "c3", "2024-02-02"), order("o4", "c1", "2024-02-03")])
    warehouse.run("run")
    months = warehouse.query(
        "select period_start, customers_start, customers_end, new_customers, retained_customers "
        "from marts.period_retention where period_grain = 'month' order by 1"
    )
    # January: c1, c2 new. February: c1 retained, c3 new, c2 churned.
    assert [m[1:] for m in months] == [(0, 2, 2, 0), (2, 2, 1, 1)]
    load_ids = warehouse.lake("select batch_date, load_id from {manifest} order by 1, file_name")

    # delivered again, byte for byte: nothing new
    again = warehouse.run("run")
    assert "nothing new" in again.stdout
    assert warehouse.lake("select batch_date, load_id from {manifest} order by 1, file_name") == load_ids


def _history(landing: Path, dates: list[str]) -> None:
    batches = {
        "2024-01-31": (
            customers("c1", "c2", "c3"),
            [
                order("o1", "c1", "2024-01-03"),
                order("o2", "c2", "2024-01-10", amount="25.00"),
                order("o3", "c3", "2024-01-30T23:30:00-05:00"),
            ],
        ),  # 2024-01-31 04:30 UTC
        "2024-02-29": (
            customers("c4", created_at="2024-02-02"),
            [order("o4", "c1", "2024-02-04"), order("o5", "c4", "2024-02-05"), order("o6", "c2", "2024-02-06", status="pending")],
        ),
        "2024-03-31": (
            customers("c2", created_at="2024-01-01"),  # re-sent customer
            [
                order("o2", "c2", "2024-01-10", amount="25.00", status="refunded"),  # January order refunded later
                order("o6", "c2", "2024-03-01"),
                order("o7", "c3", "2024-03-02"),
            ],
        ),
    }
    for d in dates:
        write_batch(landing, d, *batches[d])


def test_late_batches_give_the_same_marts_as_in_order(tmp_path):
    in_order, late = Warehouse(tmp_path / "in_order"), Warehouse(tmp_path / "late")
    _history(in_order.landing, ["2024-01-31", "2024-02-29", "2024-03-31"])
    in_order.run("run")
    _history(late.landing, ["2024-03-31"])
    late.run("run")
    _history(late.landing, ["2024-02-29", "2024-01-31"])
    late.run("run")
    assert marts(late) == marts(in_order)
    # and the refund of o2 won although its batch was loaded first: c2 is active in March only
    months = in_order.query(
        "select period_start, customers_end, new_customers from marts.period_retention where period_grain = 'month' order by 1"
    )
    # Jan: c1, c3 (o2 refunded). Feb: c1, c4. Mar: c2 (first completed order o6), c3.
    assert [m[1:] for m in months] == [(2, 2), (2, 1), (2, 1)]


def test_personal_data_never_reaches_the_published_warehouse(warehouse):
    folder = write_batch(
        warehouse.landing, "2024-01-31", None, [order("o1", "c1", "2024-01-05"), order("o2", "c2", "2024-01-06", amount="oops")]
    )
    write_csv(
        folder / "customers.csv",
        ["customer_id", "created_at", "channel", "region", "email", "phone", "name"],
        [
            ["c1", "2024-01-01", "web", "eu", "grace.hopper@navy.example", "+1-555-0100", "Grace Hopper"],
            ["c2", "2024-01-02", "ads", "us", "alan@bletchley.example", "+44-20-0000", "Alan Turing"],
        ],
    )
    warehouse.run("run")
    clear = ["grace.hopper@navy.example", "+1-555-0100", "Grace Hopper", "alan@bletchley.example", "Alan Turing"]
    con = duckdb.connect(str(warehouse.path), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert ("marts", "period_retention") in tables
        for schema, table in tables:
            cols = [c[0] for c in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            if not cols:
                continue
            text = ", ".join(f"coalesce(cast(\"{c}\" as varchar), '')" for c in cols)
            blob = (
                con.execute(f"select string_agg(concat_ws('|', {text}), '\n') from \"{schema}\".\"{table}\"").fetchone()[0] or ""
            )
            for value in clear:
                assert value.lower() not in blob.lower(), f"{value} in clear in {schema}.{table}"
    finally:
        con.close()
    for table in ("customers", "orders"):
        for value in clear:
            assert not warehouse.lake(
                f"select 1 from {{{table}}} t where cast(t as varchar) ilike ?".replace(
                    "?", "'%" + value.replace("'", "''") + "%'"
                )
            )

    # visibility: `retention status` shows the batch, its counts and the quarantine reason
    status = warehouse.run("status").stdout
    row = next(line for line in status.splitlines() if line.strip().startswith("2024-01-31") and ":" in line)
    # customers read / loaded / quarantined, orders read / loaded / quarantined
    assert row.split()[3:] == ["2", "2", "0", "2", "1", "1"]
    assert "unparseable amount" in status
