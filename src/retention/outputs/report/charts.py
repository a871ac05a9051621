"""One altair chart builder per report section, each returning its Vega-Lite spec as a dict.

Every chart carries a title, a one-line definition as subtitle and tooltips on its marks. Specs are
built with `to_dict(validate=False)`: the JSON-schema validation costs more than the rest of the render
and the builders below are covered by the browser test, which fails on any spec Vega-Lite rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt

from .queries import BRIDGE_MONTHS, CURVE_MIN_PERIODS, SEGMENT_MONTHS, ReportData, Row

Spec = dict[str, Any]

# the page's palette (page.py uses the same hues for its badges)
INK = "#111827"
MUTED = "#6b7280"
BLUE = "#2563eb"
TEAL = "#0d9488"
VIOLET = "#7c3aed"
RED = "#dc2626"
AMBER = "#d97706"
SLATE = "#64748b"
CATEGORICAL = [BLUE, TEAL, VIOLET, AMBER, "#db2777", SLATE, "#16a34a", "#0891b2"]

OPEN = "open (still filling)"
COMPLETE = "complete"
PCT = ".1%"


@dataclass(frozen=True)
class Section:
    """One chart of the page: its element id, card heading, spec and an optional note under it."""

    key: str
    heading: str
    spec: Spec
    note: str = ""
    wide: bool = False


def _title(text: str, subtitle: str) -> alt.Title:
    return alt.Title(text, subtitle=subtitle, anchor="start")


def _month_x(field: str = "month", title: str | None = None) -> alt.X:
    # months are dates at 00:00 UTC: read and labelled in UTC, or a reader west of Greenwich sees the month before
    return alt.X(
        f"utcyearmonth({field}):T",
        title=title,
        axis=alt.Axis(format="%b %Y", labelOverlap="greedy", labelSeparation=12, tickCount=6, grid=False),
    )


def _month_tooltip(field: str = "month", title: str = "Month") -> alt.Tooltip:
    return alt.Tooltip(f"utcyearmonth({field}):T", title=title, format="%B %Y")


# every chart reads its rows from the named dataset "rows", set on the spec after altair is done:
# altair deep-copies and hashes inline values, which cost more than everything else in the render
ROWS = alt.Data(name="rows")


def _spec(chart: alt.TopLevelMixin, rows: list[Row]) -> Spec:
    spec = chart.to_dict(validate=False)
    spec["datasets"] = {"rows": rows}
    return spec


def cohort_heatmap(data: ReportData) -> Section:
    """Monthly cohorts × months since the first order, coloured by retention rate; open cells lighter and dashed."""
    rows = [{**r, "cell": COMPLETE if r["is_complete"] else OPEN} for r in data.cohorts]
    # month 0 is 100 % by definition: the colour scale spans the later months so their differences show
    later = [r["retention_rate"] for r in rows if r["period_number"] > 0 and r["retention_rate"] is not None]
    top = max(later, default=1.0) or 1.0
    base = alt.Chart(ROWS).encode(
        x=alt.X("period_number:O", title="Months since first order", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort:O", title="Cohort (month of first order)"),
    )
    tooltip = [
        alt.Tooltip("cohort:O", title="Cohort"),
        alt.Tooltip("period_number:O", title="Months since first order"),
        alt.Tooltip("cohort_size:Q", title="Cohort size", format=","),
        alt.Tooltip("active_customers:Q", title="Active customers", format=","),
        alt.Tooltip("retention_rate:Q", title="Retention rate", format=PCT),
        alt.Tooltip("cell:N", title="Cell"),
    ]
    cells = base.mark_rect(cornerRadius=2).encode(
        color=alt.Color(
            "retention_rate:Q",
            title="Retention rate",
            scale=alt.Scale(scheme="blues", domain=[0, top], clamp=True),
            legend=alt.Legend(format="%", orient="right", gradientLength=180),
        ),
        opacity=alt.Opacity(
            "cell:N",
            title="Cell",
            scale=alt.Scale(domain=[COMPLETE, OPEN], range=[1.0, 0.4]),
            legend=alt.Legend(orient="right", symbolType="square", symbolFillColor=BLUE, symbolStrokeColor=INK),
        ),
        tooltip=tooltip,
    )
    outline = (
        base.mark_rect(filled=False, stroke=INK, strokeDash=[3, 2], strokeWidth=1)
        .encode(tooltip=tooltip)
        .transform_filter(alt.datum.cell == OPEN)
    )
    labels = base.mark_text(fontSize=9).encode(
        text=alt.Text("retention_rate:Q", format=".0%"),
        # white on the dark cells only: an open cell is drawn lighter, so its label stays dark
        color=alt.condition(
            f"datum.cell === '{COMPLETE}' && datum.retention_rate > {top * 0.55}", alt.value("white"), alt.value(INK)
        ),
        tooltip=tooltip,
    )
    chart = alt.layer(cells, outline, labels).properties(
        width="container",
        height=max(18 * len({r["cohort"] for r in rows}), 120),
        title=_title(
            "Cohort retention",
            "Share of each monthly cohort (customers by month of first order) active k months later; "
            "dashed, lighter cells are still filling",
        ),
    )
    return Section("cohort-heatmap", "Cohorts", _spec(chart, rows), wide=True)


def retention_curves(data: ReportData) -> Section:
    """The recent cohorts' retention curves with their 95 % Wilson bands."""
    rows = data.curves
    base = alt.Chart(ROWS).encode(
        x=alt.X("period_number:Q", title="Months since first order", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color(
            "cohort:N",
            title="Cohort",
            scale=alt.Scale(range=CATEGORICAL),
            legend=alt.Legend(orient="top", symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3),
        ),
    )
    tooltip = [
        alt.Tooltip("cohort:N", title="Cohort"),
        alt.Tooltip("period_number:Q", title="Months since first order"),
        alt.Tooltip("active_customers:Q", title="Active", format=","),
        alt.Tooltip("cohort_size:Q", title="Cohort size", format=","),
        alt.Tooltip("retention_rate:Q", title="Retention rate", format=PCT),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=PCT),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=PCT),
    ]
    band = base.mark_area(opacity=0.14).encode(
        y=alt.Y("ci_low:Q", title="Retention rate", axis=alt.Axis(format="%")), y2="ci_high:Q", tooltip=tooltip
    )
    line = base.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=28)).encode(y="retention_rate:Q", tooltip=tooltip)
    chart = alt.layer(band, line).properties(
        width="container",
        height=280,
        title=_title(
            "Retention curves of recent cohorts",
            f"Active ÷ cohort size with its 95 % Wilson band; cohorts whose month {CURVE_MIN_PERIODS} is complete",
        ),
    )
    return Section("retention-curves", "Cohort curves", _spec(chart, rows))


def period_trend(data: ReportData) -> Section:
    """Seed rate (E − N)/S, strict rate retained/S and churn rate per month."""
    measures = (
        ("retention_rate", "Seed rate (E−N)/S", BLUE),
        ("strict_retention_rate", "Strict rate retained/S", TEAL),
        ("churn_rate", "Churn rate churned/S", RED),
    )
    rows = [
        {
            "month": p["month"],
            "measure": label,
            "rate": p[key],
            "period": COMPLETE if p["is_complete"] else OPEN,
            "customers_start": p["customers_start"],
            "customers_end": p["customers_end"],
            "new_customers": p["new_customers"],
            "retained_customers": p["retained_customers"],
            "reactivated_customers": p["reactivated_customers"],
            "churned_customers": p["churned_customers"],
        }
        for p in data.periods
        for key, label, _ in measures
        if p[key] is not None
    ]
    color = alt.Color(
        "measure:N",
        title=None,
        scale=alt.Scale(domain=[m[1] for m in measures], range=[m[2] for m in measures]),
        legend=alt.Legend(orient="top"),
    )
    tooltip = [
        _month_tooltip(),
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("rate:Q", title="Rate", format=PCT),
        alt.Tooltip("customers_start:Q", title="S (active the month before)", format=","),
        alt.Tooltip("customers_end:Q", title="E (active this month)", format=","),
        alt.Tooltip("new_customers:Q", title="N (new)", format=","),
        alt.Tooltip("retained_customers:Q", title="Retained", format=","),
        alt.Tooltip("reactivated_customers:Q", title="Reactivated", format=","),
        alt.Tooltip("period:N", title="Period"),
    ]
    base = alt.Chart().encode(x=_month_x(), y=alt.Y("rate:Q", title="Share of S", axis=alt.Axis(format="%")), color=color)
    lines = base.mark_line(strokeWidth=2)
    points = base.mark_point(filled=True, size=36).encode(
        opacity=alt.Opacity("period:N", title="Period", scale=alt.Scale(domain=[COMPLETE, OPEN], range=[1.0, 0.3])),
        shape=alt.Shape("period:N", title="Period", scale=alt.Scale(domain=[COMPLETE, OPEN], range=["circle", "diamond"])),
        tooltip=tooltip,
    )
    hundred = alt.Chart().mark_rule(color=MUTED, strokeDash=[4, 4]).encode(y=alt.datum(1))
    chart = alt.layer(hundred, lines, points, data=ROWS).properties(
        width="container",
        height=280,
        title=_title(
            "Monthly retention and churn",
            "S = active the month before, E = active this month, N = first order this month",
        ),
    )
    note = (
        "The seed rate (E−N)/S can exceed 100 %: its numerator also counts reactivated customers, who come "
        "back this month without having been active in the month before (so they are not in S); the strict "
        "rate counts only customers active in both months."
    )
    return Section("period-trend", "Period retention", _spec(chart, rows), note=note)


def bridge(data: ReportData) -> Section:
    """S − churned + new + reactivated = E per month, as diverging stacked bars."""
    parts = (
        ("retained_customers", "Retained", SLATE, 1),
        ("new_customers", "New", BLUE, 1),
        ("reactivated_customers", "Reactivated", VIOLET, 1),
        ("churned_customers", "Churned", RED, -1),
    )
    rows = [
        {
            "month": p["month"],
            "part": label,
            "customers": sign * p[key],
            "count": p[key],
            "order": i,
            "customers_start": p["customers_start"],
            "customers_end": p["customers_end"],
        }
        for p in data.periods[-BRIDGE_MONTHS:]
        for i, (key, label, _, sign) in enumerate(parts)
    ]
    chart = (
        alt.Chart(ROWS)
        .mark_bar()
        .encode(
            x=_month_x(),
            y=alt.Y("customers:Q", title="Customers", stack="zero", axis=alt.Axis(format="~s")),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=[p[1] for p in parts], range=[p[2] for p in parts]),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                _month_tooltip(),
                alt.Tooltip("part:N", title="Part"),
                alt.Tooltip("count:Q", title="Customers", format=","),
                alt.Tooltip("customers_start:Q", title="S (start)", format=","),
                alt.Tooltip("customers_end:Q", title="E (end)", format=","),
            ],
        )
        .properties(
            width="container",
            height=280,
            title=_title(
                "Customer bridge",
                "S − churned + new + reactivated = E; bars above zero add up to E",
            ),
        )
    )
    return Section("bridge", "Bridge", _spec(chart, rows))


def revenue_retention(data: ReportData) -> Section:
    """Net and gross revenue retention per month."""
    measures = (("net_revenue_retention", "NRR", BLUE), ("gross_revenue_retention", "GRR", TEAL))
    rows = [
        {
            "month": p["month"],
            "measure": label,
            "rate": p[key],
            "revenue_start": p["revenue_start"],
            "revenue_end": p["revenue_end"],
            "period": COMPLETE if p["is_complete"] else OPEN,
        }
        for p in data.periods
        for key, label, _ in measures
        if p[key] is not None
    ]
    base = alt.Chart().encode(
        x=_month_x(),
        y=alt.Y("rate:Q", title="Share of last month's revenue", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(domain=[m[1] for m in measures], range=[m[2] for m in measures]),
            legend=alt.Legend(orient="top"),
        ),
    )
    tooltip = [
        _month_tooltip(),
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("rate:Q", title="Rate", format=PCT),
        alt.Tooltip("revenue_start:Q", title="Revenue the month before", format=",.0f"),
        alt.Tooltip("revenue_end:Q", title="Revenue this month", format=",.0f"),
        alt.Tooltip("period:N", title="Period"),
    ]
    hundred = alt.Chart().mark_rule(color=MUTED, strokeDash=[4, 4]).encode(y=alt.datum(1))
    chart = alt.layer(
        hundred,
        base.mark_line(strokeWidth=2),
        base.mark_point(filled=True, size=36).encode(tooltip=tooltip),
        data=ROWS,
    ).properties(
        width="container",
        height=280,
        title=_title(
            "Net and gross revenue retention",
            "Last month's customers: their revenue now ÷ then (GRR caps each at then)",
        ),
    )
    return Section("revenue-retention", "NRR and GRR", _spec(chart, rows))


def segments(data: ReportData) -> Section:
    """Pooled seed and strict rates per channel and region."""
    measures = (("retention_rate", "Seed rate (E−N)/S", BLUE), ("strict_retention_rate", "Strict rate retained/S", TEAL))
    rows = [
        {
            "segment": f"{s['segment_type']}: {s['segment_value']}",
            "measure": label,
            "rate": s[key],
            "customers_start": s["customers_start"],
            "numerator": s["seed_numerator"] if key == "retention_rate" else s["retained_customers"],
            "months": f"{s['first_month']} … {s['last_month']}",
        }
        for s in data.segments
        for key, label, _ in measures
        if s[key] is not None
    ]
    base = alt.Chart(ROWS).encode(
        y=alt.Y("segment:N", title=None, sort="ascending"),
        yOffset=alt.YOffset("measure:N", scale=alt.Scale(domain=[m[1] for m in measures])),
        x=alt.X("rate:Q", title="Pooled rate", axis=alt.Axis(format="%")),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(domain=[m[1] for m in measures], range=[m[2] for m in measures]),
            legend=alt.Legend(orient="top"),
        ),
        tooltip=[
            alt.Tooltip("segment:N", title="Segment"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("rate:Q", title="Rate", format=PCT),
            alt.Tooltip("numerator:Q", title="Numerator (summed)", format=","),
            alt.Tooltip("customers_start:Q", title="S (summed)", format=","),
            alt.Tooltip("months:N", title="Months"),
        ],
    )
    chart = alt.layer(
        base.mark_bar(cornerRadiusEnd=3),
        base.mark_text(align="left", dx=3, fontSize=10, color=INK).encode(text=alt.Text("rate:Q", format=".0%")),
    ).properties(
        width="container",
        height=alt.Step(11),
        title=_title(
            "Retention by channel and region",
            f"Last {SEGMENT_MONTHS} complete months pooled: summed numerators ÷ summed S",
        ),
    )
    return Section("segments", "Segments", _spec(chart, rows))


def rolling(data: ReportData) -> Section:
    """N-day retention of the recent monthly cohorts, one line per window."""
    rows = [{**r, "window": _window(r["day_window"])} for r in data.rolling]
    windows = sorted({r["day_window"] for r in rows})
    base = alt.Chart(ROWS).encode(
        x=_month_x("cohort", "Cohort (month of first order)"),
        y=alt.Y("retention_rate:Q", title="Returned ÷ eligible", axis=alt.Axis(format="%")),
        color=alt.Color(
            "window:N",
            title="Window",
            scale=alt.Scale(domain=[_window(w) for w in windows], scheme="viridis"),
            legend=alt.Legend(orient="top"),
        ),
    )
    tooltip = [
        _month_tooltip("cohort", "Cohort"),
        alt.Tooltip("window:N", title="Window"),
        alt.Tooltip("retention_rate:Q", title="Retention", format=PCT),
        alt.Tooltip("returned_customers:Q", title="Returned", format=","),
        alt.Tooltip("eligible_customers:Q", title="Eligible", format=","),
        alt.Tooltip("cohort_size:Q", title="Cohort size", format=","),
    ]
    chart = alt.layer(base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=28).encode(tooltip=tooltip)).properties(
        width="container",
        height=280,
        title=_title(
            "N-day retention",
            "Another order within N days of the first, among members whose window has passed",
        ),
    )
    return Section("rolling", "N-day retention", _spec(chart, rows))


def _window(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def backtest(data: ReportData) -> Section:
    """The lifetime-value model's holdout forecast against the occasions that happened, per group."""
    groups = [b for b in data.backtest if b["repeat_occasions_group"] != "all"]
    overall = next((b for b in data.backtest if b["repeat_occasions_group"] == "all"), None)
    rows = [
        {
            "group": b["repeat_occasions_group"],
            "group_order": b["group_order"],
            "measure": label,
            "occasions": b[key],
            "customers": b["customers"],
            "forecast_error": b["forecast_error"],
            "mean_absolute_error": b["mean_absolute_error"],
        }
        for b in groups
        for key, label in (("predicted_occasions", "Predicted"), ("actual_occasions", "Actual"))
    ]
    if overall and overall["predicted_occasions"] is not None and overall["actual_occasions"] is not None:
        split = (
            f"BG/NBD refit up to {overall['calibration_end_date']}, {overall['holdout_days']}-day holdout: "
            f"{overall['predicted_occasions']:,.0f} predicted vs {overall['actual_occasions']:,.0f} actual purchase occasions"
        )
    elif overall:  # the refit ran but is not usable (too little history): no forecast to compare
        split = f"No forecast: the refit up to {overall['calibration_end_date']} is not usable (too little history)"
    else:
        split = "No backtest: under three days of history"
    chart = (
        alt.Chart(ROWS)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            x=alt.X(
                "group:N",
                title="Repeat occasions in calibration",
                sort=[b["repeat_occasions_group"] for b in groups],
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset=alt.XOffset("measure:N", scale=alt.Scale(domain=["Predicted", "Actual"])),
            y=alt.Y("occasions:Q", title="Purchase occasions in the holdout"),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(domain=["Predicted", "Actual"], range=[VIOLET, SLATE]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("group:N", title="Repeat occasions"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("occasions:Q", title="Occasions", format=",.0f"),
                alt.Tooltip("customers:Q", title="Customers", format=","),
                alt.Tooltip("forecast_error:Q", title="Predicted − actual", format="+,.0f"),
                alt.Tooltip("mean_absolute_error:Q", title="Mean abs. error per customer", format=".2f"),
            ],
        )
        .properties(width="container", height=280, title=_title("Lifetime-value backtest", split))
    )
    return Section("clv-backtest", "CLV backtest", _spec(chart, rows), wide=True)


BUILDERS: tuple[Callable[[ReportData], Section], ...] = (
    cohort_heatmap,
    retention_curves,
    period_trend,
    bridge,
    revenue_retention,
    segments,
    rolling,
    backtest,
)


def build_sections(data: ReportData) -> list[Section]:
    """Every chart of the report, in page order."""
    return [build(data) for build in BUILDERS]
