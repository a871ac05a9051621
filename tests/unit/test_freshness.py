"""The freshness verdict of a run with nothing new to audit (docs/reference.md §5): at most
RETENTION_FRESHNESS_MAX_DAYS days between the newest batch and the reference date is fresh."""

from __future__ import annotations

import datetime as dt

from retention.config import load_settings
from retention.freshness import stale_feed

D = dt.date


def _settings(tmp_path, **env: str):
    return load_settings(
        {
            "RETENTION_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "RETENTION_STATE_DIR": str(tmp_path / "state"),
            "RETENTION_LANDING_DIR": str(tmp_path / "landing"),
        }
        | env
    )


def test_a_feed_exactly_at_the_limit_is_fresh_and_one_day_past_it_is_stale(tmp_path):
    settings = _settings(tmp_path, RETENTION_FRESHNESS_MAX_DAYS="35")
    # 2024-01-01 + 35 days = 2024-02-05 (January's 31 days, then 4): exactly at the limit
    assert stale_feed(settings, D(2024, 1, 1), D(2024, 2, 5), "through date") is None
    assert stale_feed(settings, D(2024, 1, 1), D(2024, 1, 2), "through date") is None
    said = stale_feed(settings, D(2024, 1, 1), D(2024, 2, 6), "through date")
    assert said is not None
    assert said.startswith(
        "freshness: newest batch 2024-01-01 vs through date 2024-02-06: observed 36 days, expected at most 35 days — "
    )
    assert "RETENTION_LANDING_DIR" in said


def test_a_limit_of_one_day_and_a_limit_of_zero(tmp_path):
    one = _settings(tmp_path, RETENTION_FRESHNESS_MAX_DAYS="1")
    # across the leap day: 2024-02-28 → 2024-02-29 is 1 day, → 2024-03-01 is 2
    assert stale_feed(one, D(2024, 2, 28), D(2024, 2, 29), "today (UTC)") is None
    assert (stale_feed(one, D(2024, 2, 28), D(2024, 3, 1), "today (UTC)") or "").startswith(
        "freshness: newest batch 2024-02-28 vs today (UTC) 2024-03-01: observed 2 days, expected at most 1 days"
    )
    off = _settings(tmp_path, RETENTION_FRESHNESS_MAX_DAYS="0")  # 0 turns the check off (docs/reference.md §2)
    assert stale_feed(off, D(2020, 1, 1), D(2024, 3, 1), "today (UTC)") is None


def test_no_batch_yet_is_not_a_stale_feed(tmp_path):
    assert stale_feed(_settings(tmp_path), None, D(2024, 3, 1), "today (UTC)") is None
