"""What a run says when a setting that shapes the marts changed since the last publish (the publish
marker's run_info against this run's): one sentence per change, old value first."""

from __future__ import annotations

from retention.run_info import changes

BEFORE = {
    "run_id": "r1",
    "through_date": "2024-05-31",
    "timezone": "UTC",
    "clv_horizon_days": 365,
    "mapping_name": "canonical",
    "mapping_fingerprint": "aaaa000011112222",
    "code_version": "0.1.0+abc",
}


def test_nothing_to_compare_with_or_nothing_changed_says_nothing():
    assert changes(None, BEFORE) == []
    assert changes({}, BEFORE) == []
    # the run id and the through date move every night: not settings that shape the marts
    assert changes(BEFORE, BEFORE | {"run_id": "r2", "through_date": "2024-06-30"}) == []


def test_a_renamed_mapping_is_said_once_old_name_first():
    now = BEFORE | {"mapping_name": "crm_eu", "mapping_fingerprint": "bbbb333344445555"}
    # the content changed with the name: the name's sentence says it, the digest's would repeat it
    assert changes(BEFORE, now) == [
        "column mapping changed from canonical to crm_eu since the last publish: every batch was reloaded"
    ]
    assert changes(now, BEFORE) == [
        "column mapping changed from crm_eu to canonical since the last publish: every batch was reloaded"
    ]


def test_an_edited_mapping_under_the_same_name_is_said_by_its_digest():
    now = BEFORE | {"mapping_fingerprint": "bbbb333344445555"}
    assert changes(BEFORE, now) == [
        "column mapping's content changed from aaaa000011112222 to bbbb333344445555 since the last publish: "
        "every batch was reloaded"
    ]


def test_every_change_is_said_in_the_order_of_the_settings():
    now = BEFORE | {"timezone": "Asia/Tokyo", "clv_horizon_days": 30, "code_version": "0.1.0+def"}
    assert changes(BEFORE, now) == [
        "time zone changed from UTC to Asia/Tokyo since the last publish: every period is recomputed",
        "lifetime-value horizon (days) changed from 365 to 30 since the last publish: "
        "expected_purchases and expected_value are over the new horizon",
        "code version changed from 0.1.0+abc to 0.1.0+def since the last publish: every model is rebuilt",
    ]


def test_a_setting_the_last_publish_did_not_record_is_not_said():
    """A marker written before the horizon was recorded: no `from None` sentence."""
    older = {k: v for k, v in BEFORE.items() if k != "clv_horizon_days"}
    assert changes(older, BEFORE | {"clv_horizon_days": 30}) == []
