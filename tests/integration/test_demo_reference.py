"""The published marts over the whole demo data equal an independent plain-Python computation."""

from __future__ import annotations

import pytest

from tests.mart_docs import mart_docs
from tests.support.compare import assert_marts_equal_reference

pytestmark = pytest.mark.slow


def test_both_marts_equal_the_reference(demo_published, demo_landing):
    assert_marts_equal_reference(demo_published, demo_landing)


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
        "clv_backtest",
        "clv_model",
        "cohort_retention",
        "cohort_retention_by_segment",
        "customer_lifecycle",
        "customers",
        "period_retention",
        "period_retention_by_segment",
        "rolling_retention",
    ]


def test_published_comments_are_the_marts_yaml_descriptions(demo_published):
    """What readers see in DuckDB's comments is what the YAML (and so dbt docs) says, doc() blocks
    resolved: dbt persists the descriptions on the build's marts and the publish copies them."""
    docs = mart_docs()
    tables = dict(demo_published.query("select table_name, comment from duckdb_tables() where schema_name = 'marts'"))
    columns = demo_published.query("select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'")
    assert tables == {model: doc.description for model, doc in docs.items()}
    described = {(m, c): text for m, doc in docs.items() for c, text in doc.columns.items()}
    assert {(t, c): text for t, c, text in columns} == described
