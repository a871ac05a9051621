"""Landing CSVs as the CRM exports them (docs/reference.md §1), and the one builder of an order or a
customer row.

The builders' defaults are one ordinary row; a test names only the fields its case is about. The fields
that identify a row (id, customer, timestamp) may be given by position, in the file's column order; the
others only by keyword, so that no call can mistake an amount for a status.
"""

from __future__ import annotations

import csv
from pathlib import Path

CUSTOMER_COLUMNS = ["customer_id", "created_at", "channel", "region"]
ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"]


def order(
    order_id: str = "O1",
    customer_id: str = "C1",
    ordered_at: str = "2024-01-05",
    *,
    amount: str = "10.00",
    currency: str = "USD",
    status: str = "completed",
) -> dict[str, str]:
    """One row of orders.csv (every field a string, written as given)."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": ordered_at,
        "amount": amount,
        "currency": currency,
        "status": status,
    }


def customer(
    customer_id: str = "C1", created_at: str = "2024-01-01", *, channel: str = "web", region: str = "eu"
) -> dict[str, str]:
    """One row of customers.csv (every field a string, written as given)."""
    return {"customer_id": customer_id, "created_at": created_at, "channel": channel, "region": region}


def customers(*customer_ids: str, created_at: str = "2024-01-01", channel: str = "web", region: str = "eu") -> list[dict]:
    """customer(...) for each id, the other fields alike."""
    return [customer(c, created_at, channel=channel, region=region) for c in customer_ids]


def write_csv(path: Path, columns: list[str], rows: list[dict | list], encoding: str = "utf-8", newline: str = "\n") -> Path:
    """`columns` as the header, then each row: a dict by column name (a missing one left empty) or a list as is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, lineterminator=newline)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns] if isinstance(r, dict) else r)
    return path


def write_batch(landing: Path, date: str, customers: list | None = None, orders: list | None = None) -> Path:
    """A batch folder; pass None to leave a file out, [] for a header-only file."""
    folder = landing / date
    folder.mkdir(parents=True, exist_ok=True)
    if customers is not None:
        write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, customers)
    if orders is not None:
        write_csv(folder / "orders.csv", ORDER_COLUMNS, orders)
    return folder
