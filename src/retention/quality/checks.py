"""The data-quality checks (docs/reference.md §5 and more): small tables of observed vs expected values.

Each check is a query over the build database returning rows `(key, observed, expected)`. An
`equal` check passes when every row has observed = expected; an `at_most` check when every row has
observed <= expected (a threshold). A check that returns no rows, whose query fails, or that
great-expectations did not evaluate counts as failed ("error"). The queries stay small (one row per
file, batch, period or cohort), so great-expectations validates them as dataframes — its SQL route
does not evaluate on DuckDB 2.

The `key` column says which rows are at fault, in words (batch and file, period, cohort, the
currencies found, example order ids).

Freshness needs a reference date: the run's through date (`retention run --through`, the DAG's
logical date), else the day the run started in RETENTION_TIMEZONE, so that a plain `retention run`
from cron flags a feed that stopped too. RETENTION_FRESHNESS_MAX_DAYS=0 (or volume ratios of 0) turn a check
off the same way.
"""

from __future__ import annotations

import datetime as dt

from ..config import Settings
from .analytics_checks import ANALYTICS_CHECKS
from .check import JUDGED, THROUGH, Check
from .core_checks import CORE_CHECKS, FRESHNESS_ADVICE, freshness_check, volume_check
from .customer_checks import CUSTOMER_CHECKS
from .lifecycle_check import customer_lifecycle_sql, lifecycle_check

__all__ = [
    "CHECKS",
    "FRESHNESS_ADVICE",
    "JUDGED",
    "THROUGH",
    "Check",
    "checks_for",
    "customer_lifecycle_sql",
    "freshness_check",
    "volume_check",
]


# The checks whose thresholds are not settings, in the order they are reported
CHECKS = [*CORE_CHECKS, *ANALYTICS_CHECKS, *CUSTOMER_CHECKS]


def checks_for(settings: Settings, reference: dt.date | None = None, label: str = "through date") -> list[Check]:
    """Every check of a run: the fixed ones and those whose thresholds come from the settings
    (`reference`: the date freshness is judged against)."""
    return [*CHECKS, lifecycle_check(settings), freshness_check(settings, reference, label), volume_check(settings)]
