"""Each audit check of marts.customers and the lifetime-value marts catches what it is for: one real
build, then a tampered copy per check (the style of test_audit_tampering.py)."""

from __future__ import annotations

import pytest

from tests.integration.test_audit_tampering import _failure, _tampered, built  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

SOME_BUYER = "(select min(customer_id) from marts.customers where completed_orders > 0)"

# check: (tampering statements, texts the failure must name)
TAMPERING = {
    "clv_fit_is_usable": (
        ["update marts.clv_model set is_usable = false, fit_problem = 'bg_nbd: did not converge' where model = 'bg_nbd'"],
        ["bg_nbd: did not converge"],
    ),
    "customer_p_alive_in_unit_interval": (
        [f"update marts.customers set p_alive = 1.5 where customer_id = {SOME_BUYER}"],
        ["e.g. "],
    ),
    "customer_expected_values_non_negative": (
        [f"update marts.customers set expected_value = -1 where customer_id = {SOME_BUYER}"],
        ["e.g. "],
    ),
    "customers_with_orders_have_scores": (
        [f"update marts.customers set rfm_monetary_score = null where customer_id = {SOME_BUYER}"],
        ["e.g. "],
    ),
    "customer_revenue_is_all_completed_revenue": (
        [f"update marts.customers set revenue = revenue + 10 where customer_id = {SOME_BUYER}"],
        ["customers: "],
    ),
    "customers_with_orders_match_cohort_sizes": (
        [f"delete from marts.customers where customer_id = {SOME_BUYER}"],
        ["monthly cohorts"],
    ),
}


@pytest.mark.parametrize("check", sorted(TAMPERING))
def test_a_tampered_customers_mart_fails_its_check_and_names_the_rows(built, tmp_path, check):  # noqa: F811
    statements, named = TAMPERING[check]
    message = _failure(built, _tampered(built, tmp_path, *statements))
    assert f"{check} failed" in message
    assert all(text in message for text in named), message


def test_gamma_gamma_q_at_most_one_fails_the_fit_check(built, tmp_path):  # noqa: F811
    """q ≤ 1 leaves the Gamma-Gamma without a finite mean spend: outside its domain, even if converged."""
    message = _failure(built, _tampered(built, tmp_path, "update marts.clv_model set value = 0.9 where parameter = 'q'"))
    assert "clv_fit_is_usable failed" in message and "gamma_gamma" in message and "q <= 1" in message
