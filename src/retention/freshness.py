"""Freshness outside the audit: what a run compares its newest batch with, and the verdict for a run
that has nothing new to audit (worded as the `freshness` check's, so a stopped feed is flagged by
every run, from cron as from Airflow)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .config import Settings
from .quality.checks import FRESHNESS_ADVICE


def label(settings: Settings, through: str | None) -> str:
    return "through date" if through else f"today ({settings.timezone})"


def reference_date(settings: Settings, through: dt.date | None) -> dt.date:
    """The through date, else the day the run started in RETENTION_TIMEZONE (so a plain `retention run`
    from cron flags a stopped feed too)."""
    return through or dt.datetime.now(ZoneInfo(settings.timezone)).date()


def stale_feed(settings: Settings, as_of: dt.date | None, reference: dt.date, what: str) -> str | None:
    """The freshness verdict for a run that does not audit, or None when the feed is fresh (or the check is off)."""
    days = settings.freshness_max_days
    if not days or as_of is None or (reference - as_of).days <= days:
        return None
    return (
        f"freshness: newest batch {as_of} vs {what} {reference}: observed {(reference - as_of).days} days, "
        f"expected at most {days} days — {FRESHNESS_ADVICE}"
    )
