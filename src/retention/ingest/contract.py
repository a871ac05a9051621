"""The input's columns and statuses (docs/reference.md §1), which every mapping maps onto: the fixed
interface between a CRM's exports and the warehouse, hence the module's name."""

from __future__ import annotations

REQUIRED = {
    "customers": ("customer_id", "created_at", "channel", "region"),
    "orders": ("order_id", "customer_id", "ordered_at", "amount", "currency", "status"),
}
KEYS = {"customers": "customer_id", "orders": "order_id"}
TIMESTAMPS = {"customers": "created_at", "orders": "ordered_at"}
STATUSES = ("completed", "pending", "cancelled", "refunded")
