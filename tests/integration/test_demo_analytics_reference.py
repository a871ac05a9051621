"""The analytics marts that `retention run` publishes over the whole demo data equal the plain-Python
reading of docs/reference.md §4.1–§4.4 (tests/reference.py), column by column."""

from __future__ import annotations

import pytest

from tests import reference
from tests.support.compare import assert_rows_equal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def orders(demo_landing):
    return reference.latest_orders(demo_landing)


@pytest.fixture(scope="module")
def events(orders):
    return reference.activity(orders)


@pytest.fixture(scope="module")
def as_of(demo_landing):
    return reference.as_of_date(demo_landing)


def test_period_retention_with_weeks_completeness_and_revenue_retention(demo_published, events, as_of):
    got = demo_published.rows("marts.period_retention", "period_grain, period_start")
    assert_rows_equal(got, reference.analytics_period_retention(events, as_of), ("period_grain", "period_start"))


def test_cohort_retention_with_week_and_quarter_cohorts(demo_published, events, as_of):
    got = demo_published.rows("marts.cohort_retention", "cohort_grain, cohort_start, period_number")
    want = reference.analytics_cohort_retention(events, as_of)
    assert_rows_equal(got, want, ("cohort_grain", "cohort_start", "period_number"))


def test_rolling_retention(demo_published, orders, as_of):
    got = demo_published.rows("marts.rolling_retention", "cohort_start, day_window")
    assert_rows_equal(got, reference.rolling_retention(orders, as_of), ("cohort_grain", "cohort_start", "day_window"))


def test_period_retention_by_segment(demo_published, demo_landing, events):
    got = demo_published.rows("marts.period_retention_by_segment", "segment_type, segment_value")
    want = reference.period_retention_by_segment(events, reference.latest_customer_segments(demo_landing))
    got = [{k: g[k] for k in want[0]} for g in got]  # the revenue columns are extra
    assert_rows_equal(got, want, ("segment_type", "segment_value", "period_grain", "period_start"))


def test_cohort_retention_by_segment(demo_published, demo_landing, events):
    got = demo_published.rows("marts.cohort_retention_by_segment", "segment_type, segment_value")
    want = reference.cohort_retention_by_segment(events, reference.latest_customer_segments(demo_landing))
    assert_rows_equal(got, want, ("segment_type", "segment_value", "cohort_grain", "cohort_start", "period_number"))


def test_customer_lifecycle(demo_published, events):
    got = demo_published.rows("marts.customer_lifecycle", "period_grain, period_start, customer_id")
    want = reference.customer_lifecycle(events)
    assert_rows_equal(got, want, ("period_grain", "period_start", "customer_id"))
