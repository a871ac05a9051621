"""Each audit check of the analytics marts catches what it is for: one real build, then a tampered copy
per check (the style of test_audit_tampering.py). A failing check must raise AuditFailed naming the
check and the rows at fault (period, cohort, segment)."""

from __future__ import annotations

import pytest

from tests.integration.test_audit_tampering import _failure, _tampered, built  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

# check: (tampering statements, texts the failure must name)
TAMPERING = {
    "lifecycle_counts_match_period_retention": (
        [
            "update marts.customer_lifecycle set lifecycle_state = 'reactivated' where period_grain = 'month'"
            " and period_start = date '2023-04-01' and customer_id = (select min(customer_id)"
            " from marts.customer_lifecycle where period_grain = 'month' and period_start = date '2023-04-01'"
            " and lifecycle_state = 'retained')"
        ],
        ["month 2023-04-01 retained", "month 2023-04-01 reactivated"],
    ),
    "segment_rows_add_up_to_totals": (
        [
            "update marts.period_retention_by_segment set customers_end = customers_end + 1 where segment_type = 'region'"
            " and period_grain = 'quarter' and period_start = date '2023-04-01' and segment_value = (select"
            " min(segment_value) from marts.period_retention_by_segment where segment_type = 'region')",
            "update marts.cohort_retention_by_segment set revenue = revenue + 7 where segment_type = 'channel'"
            " and cohort_start = date '2023-02-01' and period_number = 1 and segment_value = (select"
            " min(segment_value) from marts.cohort_retention_by_segment where segment_type = 'channel')",
        ],
        [
            "period_retention_by_segment region quarter 2023-04-01",
            "cohort_retention_by_segment channel month 2023-02-01 k=1",
        ],
    ),
    "gross_revenue_retention_at_most_net_and_one": (
        [
            "update marts.period_retention set gross_revenue_retention = 1.5"
            " where period_grain = 'month' and period_start = date '2023-05-01'"
        ],
        ["month 2023-05-01: GRR 1.5"],
    ),
    "unbounded_active_covers_active_and_never_rises": (
        [
            "update marts.cohort_retention set unbounded_active_customers = cohort_size + 1"
            " where cohort_grain = 'month' and cohort_start = date '2023-02-01' and period_number = 2"
        ],
        ["month 2023-02-01 first at k=2"],
    ),
    "cumulative_revenue_never_falls": (
        [
            "update marts.cohort_retention set cumulative_revenue = 0"
            " where cohort_grain = 'quarter' and cohort_start = date '2023-01-01' and period_number = 1"
        ],
        ["quarter 2023-01-01 first at k=1"],
    ),
    "rolling_counts_within_cohort": (
        [
            "update marts.rolling_retention set returned_customers = eligible_customers + 1"
            " where cohort_start = date '2023-03-01' and day_window = 14"
        ],
        ["month 2023-03-01 windows 14"],
    ),
    "cohort_revenue_is_all_completed_revenue": (
        [
            "update marts.cohort_retention set revenue = revenue + 100"
            " where cohort_grain = 'week' and period_number = 0"
            " and cohort_start = (select min(cohort_start) from marts.cohort_retention where cohort_grain = 'week')"
        ],
        ["week cohorts"],
    ),
}


@pytest.mark.parametrize("check", sorted(TAMPERING))
def test_a_tampered_analytics_mart_fails_its_check_and_names_the_rows(built, tmp_path, check):  # noqa: F811
    statements, named = TAMPERING[check]
    message = _failure(built, _tampered(built, tmp_path, *statements))
    assert f"{check} failed" in message
    assert all(text in message for text in named), message
