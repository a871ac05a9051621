"""Seeded, deterministic demo CRM exports for the retention landing folder.

Layout written by :func:`write_demo_landing`::

    <out_dir>/
      YYYY-MM-DD/          one monthly delta batch per export date
        customers.csv      customer_id, created_at, channel, region, email, phone, name
        orders.csv         order_id, customer_id, ordered_at, amount, currency, status

The batch dated on the first day of month m+1 holds the customers created and
the orders placed (or changed) during month m.  Everything is derived from one
``random.Random(seed)``, so the same arguments always produce the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from .errors import UsageError

DEMO_MARKER = ".retention_demo.json"  # what the demo wrote: only those files may be replaced by a new demo
CUSTOMERS_FILE = "customers.csv"
ORDERS_FILE = "orders.csv"
CUSTOMER_COLUMNS = ("customer_id", "created_at", "channel", "region", "email", "phone", "name")
ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "amount", "currency", "status")
STATUSES = ("completed", "pending", "cancelled", "refunded")
CURRENCY = "USD"

CHANNELS = ("web", "app", "store", "partner")
CHANNEL_WEIGHTS = (0.46, 0.29, 0.17, 0.08)
REGIONS = ("north", "south", "east", "west")
REGION_WEIGHTS = (0.35, 0.27, 0.22, 0.16)
INITIAL_STATUS_WEIGHTS = (0.88, 0.05, 0.04, 0.03)  # same order as STATUSES

# Relative sign-up / order volume by calendar month: holiday peak, summer dip.
SEASONALITY = {
    1: 1.00,
    2: 0.92,
    3: 1.00,
    4: 0.98,
    5: 0.92,
    6: 0.78,
    7: 0.72,
    8: 0.76,
    9: 0.98,
    10: 1.08,
    11: 1.45,
    12: 1.65,
}
MONTHLY_GROWTH = 1.035
FIRST_ORDER_RATE = 0.85
MAX_FIRST_ORDER_DELAY = timedelta(days=21)
WINBACK_RATE = 0.03  # monthly chance that a campaign resets a customer's decay
PENDING_COMPLETES_RATE = 0.85  # otherwise the pending order is cancelled
LATE_REFUND_RATE = 0.03
REGION_UPDATE_RATE = 0.05

FIRST_NAMES = (
    "Anna",
    "James",
    "Maria",
    "John",
    "Sofia",
    "Michael",
    "Emma",
    "David",
    "Olivia",
    "Daniel",
    "Ava",
    "Liam",
    "Mia",
    "Noah",
    "Isabella",
    "Lucas",
    "Chloe",
    "Ethan",
    "Grace",
    "Mateo",
    "Zoë",
    "José",
    "Amélie",
    "Björn",
    "Priya",
    "Wei",
    "Fatima",
    "Kenji",
    "Aisha",
    "Lars",
    "Hannah",
    "Omar",
    "Elena",
    "Ivan",
    "Nora",
    "Samuel",
    "Leah",
    "Diego",
    "Ruth",
    "Felix",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Müller",
    "García",
    "O'Brien",
    "Nguyen",
    "Kim",
    "Patel",
    "Schmidt",
    "Rossi",
    "Novak",
    "Dubois",
    "Kowalski",
    "Svensson",
    "Tanaka",
    "Haddad",
    "Okafor",
    "Silva",
    "Cohen",
    "Walker",
)
NICKNAMES = ("Bob", "Liz", "Sunny", "Max", "Kiki", "Doc", "Red", "Sam")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
AREA_CODES = ("212", "312", "415", "617", "713", "206", "305", "404", "503", "720")


@dataclass(frozen=True)
class Customer:
    customer_id: str
    created_at: datetime
    channel: str
    region: str
    email: str
    phone: str
    name: str

    def row(self) -> list[str]:
        return [self.customer_id, _fmt_ts(self.created_at), self.channel, self.region, self.email, self.phone, self.name]


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    ordered_at: datetime
    amount_cents: int
    status: str

    def row(self) -> list[str]:
        amount = f"{self.amount_cents // 100}.{self.amount_cents % 100:02d}"
        return [self.order_id, self.customer_id, _fmt_ts(self.ordered_at), amount, CURRENCY, self.status]


@dataclass(frozen=True)
class _Profile:
    """Hidden buying behaviour of one customer; never written out."""

    monthly_rate: float  # expected orders per month right after sign-up
    decay_months: float  # e-folding time of that rate
    basket: float  # typical order value in dollars


class _Calendar:
    """Maps timestamps to month indexes; month m's events land in batch m."""

    def __init__(self, start: date, months: int) -> None:
        first = datetime(start.year, start.month, 1)
        self.month_starts = [_add_months(first, m) for m in range(months + 1)]
        self.months = months
        self.begin = datetime(start.year, start.month, start.day)
        self.end = self.month_starts[-1]

    def window(self, m: int) -> tuple[datetime, datetime]:
        return max(self.month_starts[m], self.begin), self.month_starts[m + 1]

    def month_of(self, ts: datetime) -> int:
        first = self.month_starts[0]
        return (ts.year - first.year) * 12 + ts.month - first.month

    def calendar_month(self, m: int) -> int:
        return self.month_starts[m].month

    def batch_date(self, m: int) -> date:
        return self.month_starts[m + 1].date()


def write_demo_landing(
    out_dir: Path,
    *,
    seed: int = 42,
    customers: int = 3000,
    start: date = date(2023, 1, 1),
    months: int = 30,
) -> dict:
    """Write monthly delta batches of demo CRM exports under ``out_dir``.

    Returns ``{"batches": ..., "customers": ..., "orders": ...}`` where the
    customer and order counts are distinct ids (status changes and region
    updates re-emit an existing id in a later batch and are not counted twice).
    """
    if customers < 0 or months < 0:
        raise ValueError("customers and months must be non-negative")
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    cal = _Calendar(start, months)

    people, profiles = _make_customers(rng, cal, customers)
    orders = _make_orders(rng, cal, people, profiles)
    customer_batches = _customer_events(rng, cal, people)
    order_batches = _order_events(rng, cal, orders)

    _replace_earlier_demo(out_dir, _earlier_demo_files(out_dir))
    written = {}
    for m in range(months):
        folder = out_dir / cal.batch_date(m).isoformat()
        _write_batch(folder, customer_batches[m], order_batches[m])
        for name in (CUSTOMERS_FILE, ORDERS_FILE):
            written[f"{folder.name}/{name}"] = _sha256(folder / name)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / DEMO_MARKER).write_text(json.dumps({"files": written}, indent=1), encoding="utf-8")
    return {"batches": months, "customers": len(people), "orders": len(orders)}


# --- customers ---------------------------------------------------------------


def _make_customers(rng: random.Random, cal: _Calendar, count: int) -> tuple[list[Customer], list[_Profile]]:
    if cal.months == 0:
        return [], []
    weights = [SEASONALITY[cal.calendar_month(m)] * MONTHLY_GROWTH**m for m in range(cal.months)]
    signup_months = rng.choices(range(cal.months), weights=weights, k=count)
    created = sorted(_random_time(rng, *cal.window(m)) for m in signup_months)

    taken_emails: set[str] = set()
    people: list[Customer] = []
    profiles: list[_Profile] = []
    for i, created_at in enumerate(created, start=1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append(
            Customer(
                customer_id=f"C{i:06d}",
                created_at=created_at,
                channel=rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0],
                region=rng.choices(REGIONS, weights=REGION_WEIGHTS)[0],
                email=_unique_email(rng, first, last, taken_emails),
                phone=f"+1-{rng.choice(AREA_CODES)}-555-{rng.randrange(10000):04d}",
                name=_display_name(rng, first, last),
            )
        )
        profiles.append(
            _Profile(
                monthly_rate=rng.lognormvariate(math.log(0.55), 0.7),
                decay_months=rng.uniform(2.0, 24.0),
                basket=rng.lognormvariate(math.log(45.0), 0.5),
            )
        )
    return people, profiles


def _display_name(rng: random.Random, first: str, last: str) -> str:
    # A few CRM-style oddities so that CSV quoting is exercised downstream.
    r = rng.random()
    if r < 0.03:
        return f"{last}, {first}"
    if r < 0.05:
        return f'{first} "{rng.choice(NICKNAMES)}" {last}'
    return f"{first} {last}"


def _unique_email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    local = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
    while True:
        email = f"{local}{rng.randrange(1, 1000)}@{rng.choice(EMAIL_DOMAINS)}"
        if email not in taken:
            taken.add(email)
            return email


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _customer_events(rng: random.Random, cal: _Calendar, people: list[Customer]) -> list[list[Customer]]:
    batches: list[list[Customer]] = [[] for _ in range(cal.months)]
    for person in people:
        signup = cal.month_of(person.created_at)
        batches[signup].append(person)
        if signup + 1 < cal.months and rng.random() < REGION_UPDATE_RATE:
            moved = rng.choice([r for r in REGIONS if r != person.region])
            batches[rng.randrange(signup + 1, cal.months)].append(replace(person, region=moved))
    for batch in batches:
        batch.sort(key=lambda c: (c.created_at, c.customer_id))
    return batches


# --- orders ------------------------------------------------------------------


def _make_orders(rng: random.Random, cal: _Calendar, people: list[Customer], profiles: list[_Profile]) -> list[Order]:
    placed: list[tuple[datetime, str, int]] = []
    for person, profile in zip(people, profiles):
        for ordered_at in _order_times(rng, cal, person.created_at, profile):
            cents = max(100, round(profile.basket * rng.lognormvariate(0.0, 0.35) * 100))
            placed.append((ordered_at, person.customer_id, cents))
    # Ids follow placement time, like a real order sequence.
    placed.sort()
    statuses = rng.choices(STATUSES, weights=INITIAL_STATUS_WEIGHTS, k=len(placed))
    return [
        Order(f"O{i:07d}", customer_id, ordered_at, cents, status)
        for i, ((ordered_at, customer_id, cents), status) in enumerate(zip(placed, statuses), start=1)
    ]


def _order_times(rng: random.Random, cal: _Calendar, created_at: datetime, profile: _Profile) -> list[datetime]:
    if rng.random() >= FIRST_ORDER_RATE:
        return []  # signed up but never bought
    delay = min(timedelta(seconds=rng.expovariate(1 / 172800)), MAX_FIRST_ORDER_DELAY)
    first = (created_at + delay).replace(microsecond=0)
    times = [first] if first < cal.end else []

    signup = cal.month_of(created_at)
    anchor = signup  # decay restarts from here after a win-back
    for m in range(signup + 1, cal.months):
        if rng.random() < WINBACK_RATE:
            anchor = m
        rate = profile.monthly_rate * math.exp(-(m - anchor) / profile.decay_months) * SEASONALITY[cal.calendar_month(m)]
        lo, hi = cal.window(m)
        lo = max(lo, first + timedelta(seconds=1))  # repeat orders never precede the first
        if lo < hi:
            times.extend(_random_time(rng, lo, hi) for _ in range(_poisson(rng, rate)))
    return times


def _order_events(rng: random.Random, cal: _Calendar, orders: list[Order]) -> list[list[Order]]:
    batches: list[list[Order]] = [[] for _ in range(cal.months)]
    for order in orders:
        placed = cal.month_of(order.ordered_at)
        batches[placed].append(order)
        change = _later_status(rng, order.status)
        if change is not None:
            new_status, lag = change
            if placed + lag < cal.months:
                batches[placed + lag].append(replace(order, status=new_status))
    for batch in batches:
        batch.sort(key=lambda o: (o.ordered_at, o.order_id))
    return batches


def _later_status(rng: random.Random, status: str) -> tuple[str, int] | None:
    """A status change to re-export in a later batch, as (status, months later)."""
    if status == "pending":
        return ("completed" if rng.random() < PENDING_COMPLETES_RATE else "cancelled"), 1
    if status == "completed" and rng.random() < LATE_REFUND_RATE:
        return "refunded", 1 if rng.random() < 0.7 else 2
    return None


# --- helpers -----------------------------------------------------------------


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: rates here are small, so the loop is short.
    threshold = math.exp(-lam)
    k, p = 0, rng.random()
    while p > threshold:
        k += 1
        p *= rng.random()
    return k


def _random_time(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    return lo + timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))


def _add_months(d: datetime, n: int) -> datetime:
    years, month0 = divmod(d.month - 1 + n, 12)
    return d.replace(year=d.year + years, month=month0 + 1)


def _fmt_ts(ts: datetime) -> str:
    return ts.isoformat(sep=" ", timespec="seconds")


# --- files -------------------------------------------------------------------


def is_demo_output(folder: Path) -> bool:
    """Was `folder` written by `write_demo_landing` (its record of the files it wrote is there)?"""
    return (folder / DEMO_MARKER).is_file()


def _earlier_demo_files(out_dir: Path) -> list[Path]:
    """The files an earlier `write_demo_landing` left in `out_dir`, unchanged since; refuses (UsageError)
    a folder holding anything else, because the product never deletes or changes a user's files."""
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file, not a folder for the demo exports")
    marker = out_dir / DEMO_MARKER
    try:
        written = json.loads(marker.read_text(encoding="utf-8"))["files"] if marker.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError):
        written = {}
    found = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if not p.is_dir() or p.is_symlink())
    foreign = [name for name in found if name != DEMO_MARKER and written.get(name) != _sha256(out_dir / name)]
    if foreign:
        raise UsageError(
            f"{out_dir} holds files that are not earlier demo output ({', '.join(foreign[:3])}"
            f"{', …' if len(foreign) > 3 else ''}); the demo never writes over a landing folder: "
            "choose an empty or new folder with --out (or RETENTION_LANDING_DIR)"
        )
    return [out_dir / name for name in found]


def _sha256(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace_earlier_demo(out_dir: Path, earlier: list[Path]) -> None:
    for path in earlier:
        path.unlink()
    for folder in sorted({p.parent for p in earlier} - {out_dir}, reverse=True):
        folder.rmdir()  # held only demo files: checked by _earlier_demo_files


def _write_batch(folder: Path, people: list[Customer], orders: list[Order]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / CUSTOMERS_FILE, CUSTOMER_COLUMNS, (c.row() for c in people))
    _write_csv(folder / ORDERS_FILE, ORDER_COLUMNS, (o.row() for o in orders))


def _write_csv(path: Path, header: Sequence[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --- CLI ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retention.demo",
        description="Write seeded demo CRM exports (monthly delta batches) into a landing folder.",
    )
    parser.add_argument("out_dir", type=Path, help="landing folder to (re)write batches into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--months", type=int, default=30)
    args = parser.parse_args(argv)
    if args.customers < 0 or args.months < 0:
        parser.error("--customers and --months must be non-negative")
    summary = write_demo_landing(args.out_dir, seed=args.seed, customers=args.customers, months=args.months)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
