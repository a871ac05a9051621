"""The numbers the report draws are the demo's, as tests/reference.py counts them by hand from the CSVs
(no browser: the charts' data is read from the page's embedded specs)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict

import pytest

from retention.outputs.report import render_report
from tests import reference

pytestmark = pytest.mark.slow

SEED = "Seed rate (E−N)/S"
STRICT = "Strict rate retained/S"


@pytest.fixture(scope="module")
def html(demo_published) -> str:
    return render_report(demo_published.path)


@pytest.fixture(scope="module")
def specs(html) -> dict:
    found = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S)
    assert found, "the page embeds no chart specs"
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def events(demo_landing) -> list:
    return reference.activity(reference.latest_orders(demo_landing))


def _rows(specs: dict, chart: str) -> list[dict]:
    return specs[chart]["datasets"]["rows"]


def _months(rows: list[dict]) -> dict[str, dict]:
    return {r["period_start"].isoformat(): r for r in rows if r["period_grain"] == "month"}


def test_period_trend_rates_are_the_references(specs, events):
    expected = _months(reference.period_retention(events))
    drawn = {(r["month"], r["measure"]): r["rate"] for r in _rows(specs, "period-trend")}
    months = sorted({m for m, _ in drawn})
    assert len(months) >= 24
    # the demo has months where reactivations lift the seed rate above the strict one
    assert any(drawn[(m, SEED)] > drawn[(m, STRICT)] + 0.05 for m in months if (m, STRICT) in drawn)
    for month in months:
        ref = expected[month]
        if ref["customers_start"] == 0:  # no rate without S: nothing drawn
            assert (month, SEED) not in drawn and (month, STRICT) not in drawn
            continue
        assert drawn[(month, SEED)] == pytest.approx((ref["customers_end"] - ref["new_customers"]) / ref["customers_start"])
        assert drawn[(month, STRICT)] == pytest.approx(ref["retained_customers"] / ref["customers_start"])


def test_bridge_adds_up_to_the_references_counts(specs, events):
    expected = _months(reference.period_retention(events))
    parts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in _rows(specs, "bridge"):
        parts[r["month"]][r["part"]] = r["customers"]
    assert len(parts) >= 12
    for month, p in parts.items():
        ref = expected[month]
        assert p["Churned"] == -ref["churned_customers"]
        assert p["New"] == ref["new_customers"] and p["Reactivated"] == ref["reactivated_customers"]
        # S − churned + new + reactivated = E, in the reference's S and E
        assert ref["customers_start"] + p["Churned"] + p["New"] + p["Reactivated"] == ref["customers_end"]
        assert p["Retained"] + p["New"] + p["Reactivated"] == ref["customers_end"]


def test_heatmap_cells_are_the_references_cohorts(specs, events):
    expected = {(r["cohort_start"].strftime("%Y-%m"), r["period_number"]): r for r in reference.cohort_retention(events)}
    cells = _rows(specs, "cohort-heatmap")
    assert len({c["cohort"] for c in cells}) == 24  # the latest 24 monthly cohorts
    for c in cells:
        ref = expected[(c["cohort"], c["period_number"])]
        assert (c["cohort_size"], c["active_customers"]) == (ref["cohort_size"], ref["active_customers"])
        assert c["retention_rate"] == pytest.approx(ref["retention_rate"])
    # the newest cohort's only cell, and every cohort's last, is marked open only if its month has not ended
    open_cells = [c for c in cells if c["cell"] != "complete"]
    assert all(c["is_complete"] is False for c in open_cells)


def test_segment_rates_pool_counts_over_the_last_complete_months(specs, events, demo_landing):
    as_of = reference.as_of_date(demo_landing)
    overall = _months(reference.period_retention(events))
    # complete: the month ends on or before the as-of date (docs/reference.md); S > 0 for a rate
    complete = sorted(
        m for m, r in overall.items() if reference.next_period(r["period_start"], "month") - dt.timedelta(days=1) <= as_of
    )
    complete = [m for m in complete if overall[m]["customers_start"] > 0][-12:]
    pooled: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in reference.period_retention_by_segment(events, reference.latest_customer_segments(demo_landing)):
        if r["period_grain"] == "month" and r["period_start"].isoformat() in complete:
            key = (r["segment_type"], r["segment_value"])
            pooled[key]["S"] += r["customers_start"]
            pooled[key]["kept"] += r["customers_end"] - r["new_customers"]
            pooled[key]["retained"] += r["retained_customers"]
    drawn = {(r["segment"], r["measure"]): r["rate"] for r in _rows(specs, "segments")}
    assert len(drawn) == 2 * len(pooled)
    for (segment_type, value), n in pooled.items():
        label = f"{segment_type}: {value}"
        assert drawn[(label, SEED)] == pytest.approx(n["kept"] / n["S"])
        assert drawn[(label, STRICT)] == pytest.approx(n["retained"] / n["S"])


def test_header_counts_the_runs_checks(html, demo_published):
    counts = dict(
        demo_published.query(
            "select status, count(*) from audit.check_results where run_id = (select run_id from audit.run_info) group by 1"
        )
    )
    header = html[html.index("<header>") : html.index("</header>")]
    assert f"{counts.get('passed', 0)} passed" in header
    assert f"{counts.get('warned', 0)} warned" in header
    assert f"{counts.get('failed', 0) + counts.get('error', 0)} failed" in header
