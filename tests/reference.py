"""An independent, plain-Python reading of contract §1 and §4, for tests to compare against.

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
