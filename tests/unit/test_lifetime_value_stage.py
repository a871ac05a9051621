"""The lifetime-value stage of the build (retention.warehouse.lifetime_value) on a hand-made occasions
table: the per-customer statistics of docs/reference.md §4.6, the as-of-day customer, and the tables it writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import numpy as np
import pytest

from retention.clv import ModelFit
from retention.warehouse.lifetime_value import fit_lifetime_value, identified

AS_OF = dt.date(2025, 6, 30)
START = dt.date(2023, 1, 1)


@pytest.fixture(scope="module")
def stage():
    """400 customers buying at random over 2.5 years, plus two hand-made ones:
    `y_three`: occasions on START + 100, + 105, + 112 with revenue 10, 20, 40 → x = 2, t_x = 12,
    T = (AS_OF − START) − 100 = 911 − 100 = 811 days, m = (20 + 40) / 2 = 30;
    `z_today`: one occasion, on the as-of date → x = 0, t_x = 0, T = 0, p_alive = 1;
    `w_first`: one occasion on START, so the history is AS_OF − START = 911 days."""
    rng = np.random.default_rng(7)
    span = (AS_OF - START).days
    rows = []
    for i in range(400):
        first = int(rng.integers(0, span - 30))
        days = {first} | {int(d) for d in rng.integers(first, span, size=int(rng.poisson(2.0)))}
        rows += [(f"c{i:03d}", START + dt.timedelta(days=d), float(rng.gamma(4.0, 10.0))) for d in sorted(days)]
    rows += [("y_three", START + dt.timedelta(days=d), v) for d, v in ((100, 10.0), (105, 20.0), (112, 40.0))]
    rows += [("z_today", AS_OF, 25.0), ("w_first", START, 15.0)]
    con = duckdb.connect()
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_run_dated_as_of as select ?::date as as_of_date", [AS_OF])
    con.execute(
        "create table intermediate.int_orders_grouped_into_occasions (customer_id varchar, occasion_date date, revenue double)"
    )
    con.executemany("insert into intermediate.int_orders_grouped_into_occasions values (?, ?, ?)", rows)
    fit = fit_lifetime_value(con, horizon_days=365)
    yield con, fit
    con.close()


def _customer(con, customer_id: str) -> dict:
    cur = con.execute("select * from clv.customer_values where customer_id = ?", [customer_id])
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def test_the_statistics_are_those_of_the_contract(stage):
    con, fit = stage
    assert fit is not None and fit.ok, fit and fit.problems
    y = _customer(con, "y_three")
    assert (y["repeat_occasions"], y["days_first_to_last_occasion"], y["days_first_occasion_to_as_of"]) == (2, 12, 811)
    assert y["mean_repeat_occasion_revenue"] == pytest.approx(30.0)
    assert 0 < y["p_alive"] < 1 and y["expected_value"] == pytest.approx(y["expected_purchases"] * y["expected_order_value"])


def test_a_customer_whose_only_order_is_on_the_as_of_date_has_x_0_and_p_alive_1(stage):
    con, _ = stage
    z = _customer(con, "z_today")
    assert (z["repeat_occasions"], z["days_first_to_last_occasion"], z["days_first_occasion_to_as_of"]) == (0, 0, 0)
    assert z["p_alive"] == 1.0
    assert z["mean_repeat_occasion_revenue"] is None  # no repeat occasion: the population mean is used
    p, q, v = (con.execute("select value from clv.model_parameters where parameter = ?", [k]).fetchone()[0] for k in "pqv")
    assert z["expected_order_value"] == pytest.approx(p * v / (q - 1))


def test_the_parameter_rows_and_the_backtest(stage):
    con, _ = stage
    params = con.execute("select model, parameter, time_unit, as_of_date, is_usable from clv.model_parameters").fetchall()
    assert sorted((m, k) for m, k, *_ in params) == sorted(
        [("bg_nbd", k) for k in ("r", "alpha", "a", "b")] + [("gamma_gamma", k) for k in ("p", "q", "v")]
    )
    assert {(u, d, ok) for *_, u, d, ok in params} == {("day", AS_OF, True)}
    # 911 days of history: a 365-day holdout would leave less than two thirds of it for calibration, so
    # the holdout is a third of it, 303 days, from 2024-08-31 (2025-06-30 − 303 days)
    groups = con.execute(
        "select repeat_occasions_group, calibration_end_date, holdout_days, customers, actual_occasions "
        "from clv.backtest order by group_order"
    ).fetchall()
    assert groups[0][0] == "all" and groups[0][1:3] == (dt.date(2024, 8, 31), 303)
    assert groups[0][3] == sum(g[3] for g in groups[1:]) and groups[0][4] == sum(g[4] for g in groups[1:])
    holdout = con.execute(
        "select count(*) from intermediate.int_orders_grouped_into_occasions o where occasion_date > ? and customer_id in "
        "(select customer_id from intermediate.int_orders_grouped_into_occasions group by 1 having min(occasion_date) <= ?)",
        [groups[0][1], groups[0][1]],
    ).fetchone()[0]
    assert groups[0][4] == holdout


def test_a_fit_heading_for_the_edge_of_the_parameter_space_is_not_identified():
    """The conformance data's uniform spends (no heterogeneity) send the Gamma-Gamma's q and v towards
    infinity (q ≈ 1.2e5, v ≈ 2.8e6 there): not identified, so the audit warns instead of failing."""
    ridge = ModelFit("gamma_gamma", {"p": 2.69, "q": 1.17e5, "v": 2.79e6}, -500.0, 131, False, "no stationary point")
    assert not identified(ridge)
    assert identified(replace(ridge, parameters={"p": 6.25, "q": 3.74, "v": 15.44}))  # CDNOW's, per dollar
    assert not identified(replace(ridge, parameters={"p": 6.25, "q": 3.74, "v": float("nan")}))
    assert not identified(replace(ridge, customers=0))
