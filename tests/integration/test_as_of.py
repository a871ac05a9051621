"""`retention run --through DATE` builds the marts as of that date (docs/reference.md §3): from the batches
dated on or before it, each order in its latest version among those batches, even when a later batch
changes it (an order refunded later). Compared on every row with the reference, and hand-worked.

Also what the run publishes beside the marts for people: `audit.quarantine_summary` and `retention show`.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.compare import assert_marts_equal_reference, file_digest
from tests.support.landing import customer, customers, order, write_batch
from tests.support.warehouse import snapshot_of

pytestmark = pytest.mark.slow


@pytest.fixture
def landing(warehouse):
    write_batch(
        warehouse.landing,
        "2024-01-31",
        customers("c1", "c2", "c3"),
        [order("o1", "c1", "2024-01-05"), order("o2", "c2", "2024-01-10"), order("o3", "c3", "2024-01-20", status="pending")],
    )
    write_batch(
        warehouse.landing,
        "2024-02-29",
        [],
        [
            order("o1", "c1", "2024-01-05", status="refunded"),  # January's o1 refunded in February's export
            order("o3", "c3", "2024-01-20"),  # o3 completed
            order("o4", "c2", "2024-02-10"),
            order("o5", "c1", "2024-02-15"),
        ],
    )
    # the customers export has rows that are quarantined: unparseable created_at on lines 3 and 5, a
    # missing customer_id on line 4
    bad = [customer("c5", "yesterday"), customer("", "2024-03-01"), customer("c6", "tomorrow")]
    write_batch(
        warehouse.landing,
        "2024-03-31",
        customers("c4") + bad,
        [order("o2", "c2", "2024-01-10", status="refunded"), order("o6", "c3", "2024-03-01")],
    )
    return warehouse.landing


def months(wh) -> list[tuple]:
    return wh.query(
        "select period_start, customers_start, customers_end, new_customers, retained_customers, "
        "reactivated_customers, churned_customers from marts.period_retention where period_grain = 'month' order by 1"
    )


def test_backfills_before_a_later_refund_equal_the_reference(warehouse, landing):
    """The lake holds every batch; runs --through earlier dates must take each order's latest version
    among the batches up to that date (a filter applied after picking the latest version overall
    would lose o1 and o2, refunded in later batches)."""
    d = dt.date
    # everything: o1 and o2 refunded, so c2 first buys in February; c3 is back in March
    warehouse.run("run")
    assert months(warehouse) == [
        (d(2024, 1, 1), 0, 1, 1, 0, 0, 0),
        (d(2024, 2, 1), 1, 2, 2, 0, 0, 1),
        (d(2024, 3, 1), 2, 1, 0, 0, 1, 2),
    ]
    assert_marts_equal_reference(warehouse, landing)

    # the quarantine, per file and reason, with the first line of each reason
    assert warehouse.query(
        "select batch_date, source_file, table_name, reason, rows_quarantined, first_line "
        "from audit.quarantine_summary order by reason"
    ) == [
        (d(2024, 3, 31), "2024-03-31/customers.csv", "customers", "missing customer_id", 1, 4),
        (d(2024, 3, 31), "2024-03-31/customers.csv", "customers", "unparseable created_at", 2, 3),
    ]

    # `retention show`: the latest months first, S E N retained reactivated churned, the rates in percent
    shown = warehouse.run("show").stdout
    by_month = shown.split("period retention by month (latest first)\n")[1].split("\n\n")[0].splitlines()[2:]
    assert [line.split()[:10] for line in by_month[:2]] == [
        ["2024-03-01", "2", "1", "0", "0", "1", "2", "50.0%", "0.0%", "100.0%"],
        ["2024-02-01", "1", "2", "2", "0", "0", "1", "0.0%", "0.0%", "100.0%"],
    ]
    assert by_month[2].split()[:7] == ["2024-01-01", "0", "1", "1", "0", "0", "0"] and "%" not in by_month[2]
    # the cohort table, monthly cohorts only: January {c3} (o1, o2 refunded), back in March; February {c1, c2}
    cohorts = shown.split("cohort retention by month (share of the cohort active k months later)\n")[1].splitlines()[2:]
    assert [line.split() for line in cohorts] == [
        ["2024-02-01", "2", "100.0%", "0.0%"],
        ["2024-01-01", "1", "100.0%", "0.0%", "100.0%"],
    ]

    # as of February's export: o1 refunded; o2 still completed; o3 completed (January, c3); c1 first
    # buys in February (o5)
    published = file_digest(warehouse.path)
    warehouse.run("run", "--through", "2024-03-15")
    feb = snapshot_of(warehouse, "2024-02-29")  # older than the published marts: a snapshot, never over them
    assert months(feb) == [(d(2024, 1, 1), 0, 2, 2, 0, 0, 0), (d(2024, 2, 1), 2, 2, 1, 1, 0, 1)]
    assert_marts_equal_reference(feb, landing, through=d(2024, 3, 15))

    # as of January's export: o1 and o2 completed (both refunds are in later batches), o3 pending
    warehouse.run("run", "--through", "2024-02-15")
    jan = snapshot_of(warehouse, "2024-01-31")
    assert months(jan) == [(d(2024, 1, 1), 0, 2, 2, 0, 0, 0)]
    assert_marts_equal_reference(jan, landing, through=d(2024, 2, 15))
    assert file_digest(warehouse.path) == published  # today's marts untouched by both backfills
