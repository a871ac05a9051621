"""Periods follow the calendar of RETENTION_TIMEZONE (contract §2, §4), not UTC's."""

from __future__ import annotations

import pytest

from retention.demo import write_demo_landing
from tests import reference
from tests.conftest import assert_rows_equal

pytestmark = pytest.mark.slow


def test_marts_on_a_far_from_utc_calendar_equal_the_reference(warehouse):
    write_demo_landing(warehouse.landing, customers=300, months=8)
    zone = "Pacific/Auckland"  # UTC+12/+13: an evening order in UTC is the next day there
    warehouse.env["RETENTION_TIMEZONE"] = zone
    warehouse.run("run")

    events = reference.activity(reference.latest_orders(warehouse.landing), zone)
    utc_events = reference.activity(reference.latest_orders(warehouse.landing))
    moved = sum(1 for (_, local, _), (_, utc, _) in zip(events, utc_events) if local.month != utc.month)
    assert moved > 0, "no order changes month between UTC and the zone: the test would prove nothing"
    assert_rows_equal(
        warehouse.rows("(select * from marts.period_retention where period_grain <> 'week')", "period_grain, period_start"),
        reference.period_retention(events),
        ("period_grain", "period_start"),
    )
    assert_rows_equal(
        warehouse.rows("(select * from marts.cohort_retention where cohort_grain = 'month')", "cohort_start, period_number"),
        reference.cohort_retention(events),
        ("cohort_grain", "cohort_start", "period_number"),
    )
