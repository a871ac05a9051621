"""The report's HTML page: header with the run's audit status, KPI tiles, one card per chart, and one
inline script that embeds every chart with the inlined vega-embed bundle (no network at all)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ...quality.check import CheckStatus
from .charts import BLUE, INK, MUTED, Section
from .queries import ReportData
from .template import TEMPLATE

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'

# Vega-Lite config shared by every chart, passed once to vegaEmbed rather than repeated in each spec
VEGA_CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": None,
    "view": {"stroke": None},
    "title": {
        "fontSize": 15,
        "fontWeight": 600,
        "color": INK,
        "subtitleFontSize": 12,
        "subtitleColor": MUTED,
        "subtitlePadding": 4,
        "offset": 14,
    },
    "axis": {
        "labelColor": MUTED,
        "titleColor": MUTED,
        "titleFontWeight": 500,
        "labelFontSize": 11,
        "titleFontSize": 11,
        "gridColor": "#eef0f3",
        "domainColor": "#d1d5db",
        "tickColor": "#d1d5db",
    },
    "legend": {"labelColor": INK, "titleColor": MUTED, "labelFontSize": 11, "titleFontSize": 11},
    "range": {"category": [BLUE]},
}

EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    # the editor link and the source views would leave the page (or the machine); exporting stays local
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
    "config": VEGA_CONFIG,
}


@dataclass(frozen=True)
class Tile:
    """One KPI tile of the header: a label, the value and a small line under it."""

    label: str
    value: str
    detail: str
    tone: str = "neutral"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can close it or open a comment."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# keyed by the statuses' text, as the published file holds them
FRESHNESS_TONES: dict[str, str] = {
    CheckStatus.PASSED: "good",
    CheckStatus.WARNED: "warn",
    CheckStatus.FAILED: "bad",
    CheckStatus.ERROR: "bad",
}


def audit_summary(data: ReportData) -> dict[str, Any]:
    """Counts of the run's checks per status, the overall tone, and the freshness check."""
    counts = Counter(c["status"] for c in data.checks)  # plain strings from the file; the enum looks them up
    failed = counts[CheckStatus.FAILED] + counts[CheckStatus.ERROR]
    tone = "bad" if failed else "warn" if counts[CheckStatus.WARNED] else "good"
    fresh = next((c for c in data.checks if c["check_name"] == "freshness"), None)
    return {
        "counts": counts,
        "failed": failed,
        "tone": tone,
        "label": {"bad": "Checks failed", "warn": "Passed with warnings", "good": "All checks passed"}[tone],
        "freshness": fresh,
        "freshness_tone": FRESHNESS_TONES.get(fresh["status"] if fresh else "", "neutral"),
        "problems": [c for c in data.checks if c["status"] != CheckStatus.PASSED],
    }


def kpi_tiles(data: ReportData) -> list[Tile]:
    """The latest complete month at a glance (the open month is still filling)."""
    complete = [p for p in data.periods if p["is_complete"]]
    if not complete:
        return []
    last = complete[-1]
    before = complete[-2] if len(complete) > 1 else None
    month = last["month"][:7]

    def delta(key: str) -> str:
        if before is None or before[key] is None or last[key] is None:
            return f"month {month}"
        points = 100 * (last[key] - before[key])
        return f"{month} · {points:+.1f} pts vs month before"

    return [
        Tile("Active customers (E)", f"{last['customers_end']:,}", f"{month} · {last['new_customers']:,} new"),
        Tile("Strict retention", _pct(last["strict_retention_rate"]), delta("strict_retention_rate")),
        Tile("Seed retention", _pct(last["retention_rate"]), delta("retention_rate")),
        Tile("Churn rate", _pct(last["churn_rate"]), delta("churn_rate")),
        Tile("Net revenue retention", _pct(last["net_revenue_retention"]), delta("net_revenue_retention")),
    ]


def render_page(data: ReportData, sections: list[Section], bundle: str) -> str:
    """The whole page as one string."""
    return TEMPLATE.render(
        run=data.run,
        checks=data.checks,
        audit=audit_summary(data),
        tiles=kpi_tiles(data),
        sections=sections,
        font=FONT,
        bundle=bundle,
        specs=_script_json({s.key: s.spec for s in sections}),
        options=_script_json(EMBED_OPTIONS),
    )
