"""The contract's columns and statuses (CONTRACT.md §1), which every mapping maps onto."""

from __future__ import annotations

REQUIRED = {
    "customers": ("customer_id", "created_at", "channel", "region"),
    "orders": ("order_id", "customer_id", "ordered_at", "amount", "currency", "status"),
}
KEYS = {"customers": "customer_id", "orders": "order_id"}
TIMESTAMPS = {"customers": "created_at", "orders": "ordered_at"}
STATUSES = ("completed", "pending", "cancelled", "refunded")
