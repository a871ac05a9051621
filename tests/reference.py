"""An independent, plain-Python reading of docs/reference.md §1 and §4, for tests to compare against.

It shares no code with the package: it reads the landing folder's CSVs with the csv module, keeps
the latest version of every order (latest batch date, then last line), and counts by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def latest_orders(landing: Path, through: dt.date | None = None) -> dict[str, dict]:
    final: dict[str, dict] = {}
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        if through and dt.date.fromisoformat(folder.name) > through:
            continue
        path = folder / "orders.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                final[row["order_id"]] = row
    return final


def parse_utc(text: str, source_zone: str | None = None) -> dt.datetime:
    """A naive UTC instant; text without an offset is wall-clock time in `source_zone` (None: UTC)."""
    text = text.strip()
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None and source_zone:
        parsed = parsed.replace(tzinfo=ZoneInfo(source_zone))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def period_of(day: dt.date, grain: str) -> dt.date:
    step = GRAIN_MONTHS[grain]
    return dt.date(day.year, (day.month - 1) // step * step + 1, 1)


def next_period(start: dt.date, grain: str) -> dt.date:
    m = start.month - 1 + GRAIN_MONTHS[grain]
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def activity(orders: dict[str, dict], timezone: str = "UTC", source_zone: str | None = None) -> list[tuple[str, dt.date, float]]:
    """Completed orders as (customer, local date in `timezone`, amount); `source_zone`: see parse_utc."""
    zone = ZoneInfo(timezone)
    out = []
    for o in orders.values():
        if o["status"].strip().lower() != "completed":
            continue
        local = parse_utc(o["ordered_at"], source_zone).replace(tzinfo=dt.UTC).astimezone(zone)
        out.append((o["customer_id"].strip(), local.date(), float(o["amount"])))
    return out


def period_retention(events: list[tuple[str, dt.date, float]]) -> list[dict]:
    rows = []
    for grain in GRAIN_MONTHS:
        active = defaultdict(set)
        for customer, day, _ in events:
            active[period_of(day, grain)].add(customer)
        first: dict[str, dt.date] = {}
        for p in sorted(active):
            for c in active[p]:
                first.setdefault(c, p)
        p, last, previous = min(active), max(active), set()
        while p <= last:
            now = active.get(p, set())
            new = sum(1 for c in now if first[c] == p)
            kept = len(previous & now)
            s = len(previous)
            rows.append(
                {
                    "period_grain": grain,
                    "period_start": p,
                    "customers_start": s,
                    "customers_end": len(now),
                    "new_customers": new,
                    "retained_customers": kept,
                    "reactivated_customers": len(now) - new - kept,
                    "churned_customers": s - kept,
                    "retention_rate": (len(now) - new) / s if s else None,
                    "strict_retention_rate": kept / s if s else None,
                }
            )
            previous, p = now, next_period(p, grain)
    return rows


def cohort_retention(events: list[tuple[str, dt.date, float]]) -> list[dict]:
    months = defaultdict(set)
    for customer, day, _ in events:
        months[customer].add(period_of(day, "month"))
    cohort = {c: min(ms) for c, ms in months.items()}
    revenue = defaultdict(float)
    for customer, day, amount in events:
        revenue[(cohort[customer], months_between(cohort[customer], period_of(day, "month")))] += amount
    latest = max(max(ms) for ms in months.values())
    rows = []
    for start in sorted(set(cohort.values())):
        members = [c for c in cohort if cohort[c] == start]
        offsets = [{months_between(start, m) for m in months[c]} for c in members]
        for k in range(months_between(start, latest) + 1):
            active = sum(1 for o in offsets if k in o)
            rows.append(
                {
                    "cohort_grain": "month",
                    "cohort_start": start,
                    "period_number": k,
                    "cohort_size": len(members),
                    "active_customers": active,
                    "retention_rate": active / len(members),
                    "unbounded_active_customers": sum(1 for o in offsets if max(o) >= k),
                    "revenue": round(revenue[(start, k)], 2),
                }
            )
    return rows


# --- The analytics marts (docs/reference.md §4.1–§4.4, marts.customer_lifecycle included). ---------------------

ALL_GRAINS = ("week", "month", "quarter", "year")
COHORT_GRAINS = ("week", "month", "quarter")
DAY_WINDOWS = (1, 7, 14, 30, 60, 90)
Z = 1.959963984540054


def period_start_of(day: dt.date, grain: str) -> dt.date:
    """Like period_of, with the ISO week (Monday) too."""
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else period_of(day, grain)


def period_after(start: dt.date, grain: str, steps: int = 1) -> dt.date:
    if grain == "week":
        return start + dt.timedelta(weeks=steps)
    for _ in range(steps):
        start = next_period(start, grain)
    return start


def periods_apart(a: dt.date, b: dt.date, grain: str) -> int:
    return (b - a).days // 7 if grain == "week" else months_between(a, b) // GRAIN_MONTHS[grain]


def as_of_date(landing: Path, through: dt.date | None = None) -> dt.date:
    """docs/reference.md §3: the newest batch date on or before the through date."""
    dates = [dt.date.fromisoformat(p.name) for p in landing.iterdir() if p.is_dir()]
    return max(d for d in dates if through is None or d <= through)


def wilson(a: int, n: int) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    p = a / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * (p * (1 - p) / n + Z * Z / (4 * n * n)) ** 0.5 / (1 + Z * Z / n)
    return centre - half, centre + half


def latest_customer_segments(landing: Path, through: dt.date | None = None) -> dict[str, dict[str, str]]:
    """channel and region of each customer's latest customers row (latest batch, then last line)."""
    final: dict[str, dict[str, str]] = {}
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        if through and dt.date.fromisoformat(folder.name) > through:
            continue
        path = folder / "customers.csv"
        if path.exists():
            with open(path, newline="", encoding="utf-8-sig") as f:
                for row in csv.DictReader(f):
                    final[row["customer_id"].strip()] = {"channel": row["channel"], "region": row["region"]}
    return final


def _period_table(events, grain: str, spine: list[dt.date]) -> list[dict]:
    revenue: dict[tuple[str, dt.date], float] = defaultdict(float)
    for customer, day, amount in events:
        revenue[(customer, period_start_of(day, grain))] += amount
    active = defaultdict(set)
    for customer, p in revenue:
        active[p].add(customer)
    first: dict[str, dt.date] = {}
    for p in sorted(active):
        for c in active[p]:
            first.setdefault(c, p)
    rows, previous, before = [], set(), None
    for p in spine:
        now = active.get(p, set())
        kept = previous & now
        s, new = len(previous), sum(1 for c in now if first[c] == p)
        start_rev = sum(revenue[(c, before)] for c in previous)
        retained_rev = sum(revenue[(c, p)] for c in kept)
        gross = sum(min(revenue[(c, p)], revenue[(c, before)]) for c in kept)
        rows.append(
            {
                "period_grain": grain,
                "period_start": p,
                "customers_start": s,
                "customers_end": len(now),
                "new_customers": new,
                "retained_customers": len(kept),
                "reactivated_customers": len(now) - new - len(kept),
                "churned_customers": s - len(kept),
                "retention_rate": (len(now) - new) / s if s else None,
                "strict_retention_rate": len(kept) / s if s else None,
                "churn_rate": (s - len(kept)) / s if s else None,
                "revenue_start": round(start_rev, 2),
                "revenue_end": round(sum(revenue[(c, p)] for c in now), 2),
                "retained_revenue": round(retained_rev, 2),
                "gross_retained_revenue": round(gross, 2),
                "net_revenue_retention": retained_rev / start_rev if start_rev else None,
                "gross_revenue_retention": gross / start_rev if start_rev else None,
            }
        )
        previous, before = now, p
    return rows


def _spine(events, grain: str) -> list[dt.date]:
    starts = {period_start_of(day, grain) for _, day, _ in events}
    p, last, out = min(starts), max(starts), []
    while p <= last:
        out.append(p)
        p = period_after(p, grain)
    return out


def analytics_period_retention(events, as_of: dt.date) -> list[dict]:
    rows = []
    for grain in ALL_GRAINS:
        for row in _period_table(events, grain, _spine(events, grain)):
            row["is_complete"] = period_after(row["period_start"], grain) <= as_of
            rows.append(row)
    return rows


def _cohort_table(events, grain: str, latest: dt.date) -> list[dict]:
    periods = defaultdict(set)
    for customer, day, _ in events:
        periods[customer].add(period_start_of(day, grain))
    cohort = {c: min(ps) for c, ps in periods.items()}
    revenue: dict[tuple[dt.date, int], float] = defaultdict(float)
    for customer, day, amount in events:
        revenue[(cohort[customer], periods_apart(cohort[customer], period_start_of(day, grain), grain))] += amount
    rows = []
    for start in sorted(set(cohort.values())):
        offsets = [{periods_apart(start, p, grain) for p in periods[c]} for c in cohort if cohort[c] == start]
        for k in range(periods_apart(start, latest, grain) + 1):
            active = sum(1 for o in offsets if k in o)
            rows.append(
                {
                    "cohort_grain": grain,
                    "cohort_start": start,
                    "period_number": k,
                    "cohort_size": len(offsets),
                    "active_customers": active,
                    "retention_rate": active / len(offsets),
                    "unbounded_active_customers": sum(1 for o in offsets if max(o) >= k),
                    "revenue": revenue[(start, k)],
                }
            )
    return rows


def analytics_cohort_retention(events, as_of: dt.date) -> list[dict]:
    rows = []
    for grain in COHORT_GRAINS:
        latest = max(period_start_of(day, grain) for _, day, _ in events)
        cumulative: dict[dt.date, float] = defaultdict(float)
        for row in _cohort_table(events, grain, latest):
            cumulative[row["cohort_start"]] += row["revenue"]
            low, high = wilson(row["active_customers"], row["cohort_size"])
            row |= {
                "revenue": round(row["revenue"], 2),
                "is_complete": period_after(row["cohort_start"], grain, row["period_number"] + 1) <= as_of,
                "cumulative_revenue": round(cumulative[row["cohort_start"]], 2),
                "cumulative_revenue_per_customer": cumulative[row["cohort_start"]] / row["cohort_size"],
                "retention_rate_ci_low": low,
                "retention_rate_ci_high": high,
            }
            rows.append(row)
    return rows


def completed_instants(orders: dict[str, dict]) -> list[tuple[str, dt.datetime]]:
    """(customer, UTC instant) of every completed order."""
    return [
        (o["customer_id"].strip(), parse_utc(o["ordered_at"]))
        for o in orders.values()
        if o["status"].strip().lower() == "completed"
    ]


def rolling_retention(orders: dict[str, dict], as_of: dt.date, timezone: str = "UTC") -> list[dict]:
    instants = defaultdict(list)
    for customer, at in completed_instants(orders):
        instants[customer].append(at)
    zone = ZoneInfo(timezone)
    as_of_at = dt.datetime.combine(as_of, dt.time(), zone).astimezone(dt.UTC).replace(tzinfo=None)
    cohort = {c: period_of(month_day, "month") for c, month_day in _first_local_days(orders, timezone).items()}
    rows = []
    for start in sorted(set(cohort.values())):
        members = [c for c in cohort if cohort[c] == start]
        for n in DAY_WINDOWS:
            window = dt.timedelta(days=n)
            eligible = [c for c in members if min(instants[c]) + window <= as_of_at]
            returned = [c for c in eligible if any(min(instants[c]) < t <= min(instants[c]) + window for t in instants[c])]
            rows.append(
                {
                    "cohort_grain": "month",
                    "cohort_start": start,
                    "day_window": n,
                    "cohort_size": len(members),
                    "eligible_customers": len(eligible),
                    "returned_customers": len(returned),
                    "retention_rate": len(returned) / len(eligible) if eligible else None,
                }
            )
    return rows


def _first_local_days(orders: dict[str, dict], timezone: str) -> dict[str, dt.date]:
    first: dict[str, dt.date] = {}
    for customer, day, _ in activity(orders, timezone):
        first[customer] = min(first.get(customer, day), day)
    return first


BASE_PERIOD_COLUMNS = (
    "customers_start",
    "customers_end",
    "new_customers",
    "retained_customers",
    "reactivated_customers",
    "churned_customers",
    "retention_rate",
    "strict_retention_rate",
)
BASE_COHORT_COLUMNS = ("cohort_size", "active_customers", "retention_rate", "unbounded_active_customers", "revenue")


def period_retention_by_segment(events, segments: dict[str, dict[str, str]]) -> list[dict]:
    rows = []
    for segment_type in ("channel", "region"):
        value_of = {c: segments.get(c, {}).get(segment_type, "unknown") for c, _, _ in events}
        for value in sorted(set(value_of.values())):
            part = [e for e in events if value_of[e[0]] == value]
            for grain in ALL_GRAINS:
                for row in _period_table(part, grain, _spine(events, grain)):
                    rows.append(
                        {"segment_type": segment_type, "segment_value": value}
                        | {k: row[k] for k in ("period_grain", "period_start", *BASE_PERIOD_COLUMNS)}
                    )
    return rows


def cohort_retention_by_segment(events, segments: dict[str, dict[str, str]]) -> list[dict]:
    latest = max(period_of(day, "month") for _, day, _ in events)
    rows = []
    for segment_type in ("channel", "region"):
        value_of = {c: segments.get(c, {}).get(segment_type, "unknown") for c, _, _ in events}
        for value in sorted(set(value_of.values())):
            part = [e for e in events if value_of[e[0]] == value]
            for row in _cohort_table(part, "month", latest):
                row["revenue"] = round(row["revenue"], 2)
                rows.append(
                    {"segment_type": segment_type, "segment_value": value}
                    | {k: row[k] for k in ("cohort_grain", "cohort_start", "period_number", *BASE_COHORT_COLUMNS)}
                )
    return rows


def customer_lifecycle(events) -> list[dict]:
    """new / retained / reactivated / churned per customer and period, from its own activity."""
    rows = []
    for grain in ALL_GRAINS:
        spine = _spine(events, grain)
        orders: dict[tuple[str, dt.date], int] = defaultdict(int)
        revenue: dict[tuple[str, dt.date], float] = defaultdict(float)
        for customer, day, amount in events:
            orders[(customer, period_start_of(day, grain))] += 1
            revenue[(customer, period_start_of(day, grain))] += amount
        seen: set[str] = set()
        customers = sorted({c for c, _ in orders})
        for i, p in enumerate(spine):
            before = spine[i - 1] if i else None
            for c in customers:
                now, then = (c, p) in orders, before is not None and (c, before) in orders
                if not now and not then:
                    continue
                state = "churned" if not now else "retained" if then else "reactivated" if c in seen else "new"
                rows.append(
                    {
                        "period_grain": grain,
                        "period_start": p,
                        "customer_id": c,
                        "lifecycle_state": state,
                        "completed_orders": orders.get((c, p), 0),
                        "revenue": round(revenue.get((c, p), 0.0), 2),
                        "previous_completed_orders": orders.get((c, before), 0) if then else 0,
                        "previous_revenue": round(revenue.get((c, before), 0.0), 2) if then else 0.0,
                    }
                )
            seen |= {c for c in customers if (c, p) in orders}
    return rows
