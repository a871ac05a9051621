"""The published marts over the whole demo data equal an independent plain-Python computation."""

from __future__ import annotations

import pytest

from tests import reference
from tests.conftest import assert_rows_equal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def events(demo_landing):
    return reference.activity(reference.latest_orders(demo_landing))


def test_period_retention_equals_the_reference(demo_published, events):
    got = demo_published.rows("(select * from marts.period_retention where period_grain <> 'week')", "period_grain, period_start")
    assert_rows_equal(got, reference.period_retention(events), ("period_grain", "period_start"))


def test_cohort_retention_equals_the_reference(demo_published, events):
    got = demo_published.rows(
        "(select * from marts.cohort_retention where cohort_grain = 'month')", "cohort_start, period_number"
    )
    assert_rows_equal(got, reference.cohort_retention(events), ("cohort_grain", "cohort_start", "period_number"))


def test_the_demo_exercises_what_the_formulas_distinguish(demo_published):
    """Guard against a demo too tame to catch a wrong formula: reactivations, churn and gaps all occur."""
    reactivated, churned, periods = demo_published.query(
        "select sum(reactivated_customers), sum(churned_customers), count(*) from marts.period_retention "
        "where period_grain = 'month'"
    )[0]
    assert reactivated > 0 and churned > 0 and periods >= 24


def test_published_tables_and_columns_carry_their_descriptions(demo_published):
    missing = demo_published.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' and (comment is null or comment = '')"
    )
    assert missing == []
    tables = demo_published.query(
        "select table_name from duckdb_tables() where schema_name = 'marts' and comment is not null order by 1"
    )
    assert [t for (t,) in tables] == [
        "cohort_retention",
        "cohort_retention_by_segment",
        "customer_lifecycle",
        "period_retention",
        "period_retention_by_segment",
        "rolling_retention",
    ]
