"""The lifetime-value columns of the published demo marts agree with a second implementation: the
per-customer statistics read straight from the demo CSVs with pandas (latest row of each order wins,
completed orders, UTC days — the demo warehouse runs in UTC), and the published closed forms evaluated
plainly from the published parameters:

BG/NBD (Fader, Hardie & Lee 2005), with δ = a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x) for x > 0:
  P(alive) = 1 / (1 + δ)   (1 when x = 0)
  E[Y(H)]  = (a + b + x − 1) / (a − 1) · [1 − ((α + T) / (α + T + H))^(r + x)
             · 2F1(r + x, b + x; a + b + x − 1; H / (α + T + H))] / (1 + δ·[x > 0])
Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): E[M | x, m] = p (v + x m) / (p x + q − 1),
  p v / (q − 1) when x = 0.
Tolerance: 1e-9 relative (both sides evaluate the same closed forms in double precision; only the
order of operations differs).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.special import hyp2f1

pytestmark = pytest.mark.slow

HORIZON = 365.0  # RETENTION_CLV_HORIZON_DAYS's default


def _occasions(landing) -> tuple[pd.DataFrame, pd.Timestamp]:
    frames = [pd.read_csv(f, dtype=str).assign(batch=f.parent.name) for f in sorted(landing.glob("*/orders.csv"))]
    orders = pd.concat(frames, ignore_index=True)
    orders = orders.groupby("order_id").tail(1)  # batches in date order, lines in file order: the last row wins
    done = orders[orders.status.str.strip().str.lower() == "completed"].copy()
    done["day"] = pd.to_datetime(done.ordered_at).dt.normalize()
    done["amount"] = done.amount.astype(float)
    as_of = pd.Timestamp(max(f.parent.name for f in landing.glob("*/orders.csv")))
    return done.groupby(["customer_id", "day"], as_index=False).amount.sum(), as_of


def _statistics(occasions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    rows = {}
    for customer, o in occasions.sort_values("day").groupby("customer_id"):
        days, revenue = list(o.day), list(o.amount)
        x = len(days) - 1
        rows[customer] = {
            "x": x,
            "t_x": (days[-1] - days[0]).days,
            "T": (as_of - days[0]).days,
            "m": sum(revenue[1:]) / x if x else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def test_published_values_follow_the_published_formulas(demo_published, demo_landing):
    occasions, as_of = _occasions(demo_landing)
    stats = _statistics(occasions, as_of)
    params = {k: v for k, v in demo_published.query("select parameter, value from marts.clv_model")}
    r, alpha, a, b, p, q, v = (params[k] for k in ("r", "alpha", "a", "b", "p", "q", "v"))
    assert demo_published.query("select distinct as_of_date, customers from marts.clv_model where model = 'bg_nbd'") == [
        (as_of.date(), len(stats))
    ]
    published = {
        row[0]: row[1:]
        for row in demo_published.query(
            "select customer_id, p_alive, expected_purchases, expected_order_value, expected_value "
            "from marts.customers where completed_orders > 0"
        )
    }
    assert set(published) == set(stats.index)
    worst = 0.0
    for customer, s in stats.iterrows():
        x, t_x, T, m = int(s["x"]), s["t_x"], s["T"], s["m"]  # not s.T: that is the transpose
        delta = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
        p_alive = 1 / (1 + delta)
        z = HORIZON / (alpha + T + HORIZON)
        purchases = (
            (a + b + x - 1)
            / (a - 1)
            * (1 - ((alpha + T) / (alpha + T + HORIZON)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
        ) / (1 + delta)
        order_value = p * (v + x * m) / (p * x + q - 1)
        for want, got in zip((p_alive, purchases, order_value, purchases * order_value), published[customer]):
            assert got == pytest.approx(want, rel=1e-9), customer
            worst = max(worst, abs(got - want) / max(abs(want), 1e-300))
    assert worst < 1e-9
    one_timer = stats.index[stats.x == 0][0]
    assert published[one_timer][0] == 1.0


def test_the_backtest_counts_the_holdout_occasions(demo_published, demo_landing):
    occasions, as_of = _occasions(demo_landing)
    rows = demo_published.query(
        "select repeat_occasions_group, calibration_end_date, holdout_days, customers, actual_occasions, predicted_occasions, "
        "mean_absolute_error, is_usable from marts.clv_backtest order by group_order"
    )
    everyone, *groups = rows
    assert everyone[0] == "all" and everyone[7]
    # the demo's history is about 2.5 years: a 365-day holdout would leave under two thirds for calibration
    history = (as_of - occasions.day.min()).days
    assert everyone[2] == min(365, history // 3) and pd.Timestamp(everyone[1]) == as_of - pd.Timedelta(days=everyone[2])
    cutoff = pd.Timestamp(everyone[1])
    first = occasions.groupby("customer_id").day.min()
    calibration = first[first <= cutoff].index
    in_holdout = occasions[(occasions.day > cutoff) & occasions.customer_id.isin(calibration)]
    assert everyone[3] == len(calibration) and everyone[4] == len(in_holdout)
    assert sum(g[3] for g in groups) == everyone[3] and sum(g[4] for g in groups) == everyone[4]
    assert [g[0] for g in groups] == [str(k) for k in range(len(groups) - 1)] + ["7+"]
    assert math.isclose(sum(g[5] for g in groups), everyone[5], rel_tol=1e-12)
    assert all(g[6] >= 0 for g in rows)
