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
    "customer_lifetime_values_in_range": (
        [
            f"update marts.customers set p_alive = 1.5 where customer_id = {SOME_BUYER}",
            "update marts.customers set expected_value = -1 where customer_id = (select max(customer_id)"
            " from marts.customers where completed_orders > 0)",
        ],
        ["p_alive: e.g. ", "expected values: e.g. "],
    ),
    "customers_add_up": (
        [
            f"update marts.customers set rfm_monetary_score = null where customer_id = {SOME_BUYER}",
            "update marts.customers set revenue = revenue + 10 where customer_id = (select max(customer_id)"
            " from marts.customers where completed_orders > 0)",
            "delete from marts.customers where customer_id = (select customer_id from marts.customers"
            " where completed_orders > 0 order by customer_id limit 1 offset 1)",
        ],
        ["RFM scores: e.g. ", "revenue: customers ", "vs monthly cohort sizes"],
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
