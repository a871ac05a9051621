"""How the audit turns query rows and great-expectations results into verdicts (no pipeline run)."""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from retention.config import ConfigError, load_settings
from retention.errors import AuditFailed
from retention.quality import audit as audit_mod
from retention.quality.audit import reconciliation_frame
from retention.quality.check import CheckStatus, Severity
from retention.quality.checks import CHECKS, Check, checks_for, freshness_check, volume_check
from retention.quality.gx import verdict_of
from retention.quality.judge import CheckResult, judge


def _frame(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["check", "key", "observed", "expected"])


def _ok(n: int) -> dict:
    return {"success": True, "evaluated": n, "error": None}


def _gx_result(result: dict, success: bool = True, raised: bool = False):
    import great_expectations.expectations as gxe
    from great_expectations.core import ExpectationValidationResult

    config = gxe.ExpectColumnPairValuesToBeEqual(column_A="observed", column_B="expected", meta={"check": "c"}).configuration
    return ExpectationValidationResult(
        success=success, result=result, expectation_config=config, exception_info={"raised_exception": raised}
    )


def test_gx_result_without_element_count_is_not_a_success():
    assert verdict_of(_gx_result({}))["success"] is False
    assert verdict_of(_gx_result({"observed_value": None}))["error"] == "no element count"
    assert verdict_of(_gx_result({"element_count": 3}))["success"] is True
    assert verdict_of(_gx_result({"element_count": 3}, raised=True))["success"] is False


def test_a_check_gx_did_not_evaluate_is_an_error_even_when_the_rows_agree():
    check = Check("c", "d", "select 1")
    frame = _frame([("c", "k", 1.0, 1.0)])
    no_count = verdict_of(_gx_result({}))
    [result] = judge(frame, [check], {"c": no_count})
    assert result.status == "error" and "did not evaluate" in result.details
    [result] = judge(frame, [check], {})  # no verdict at all
    assert result.status == "error"
    [result] = judge(frame, [check], {"c": {"success": True, "evaluated": 5, "error": None}})  # saw other rows
    assert result.status == "error"
    [result] = judge(frame, [check], {"c": _ok(1)})
    assert result.status == "passed"


def test_no_rows_and_query_errors_are_errors():
    check = Check("c", "d", "select 1")
    [result] = judge(_frame([]), [check], {"c": _ok(0)})
    assert result.status == "error" and "could not be evaluated" in result.details
    frame = _frame([])
    frame.attrs["query_errors"] = {"c": "CatalogException: no such table"}
    [result] = judge(frame, [check], {"c": _ok(0)})
    assert result.status == "error" and "no such table" in result.details


def test_equal_check_names_the_failing_rows_and_nulls_fail():
    check = Check("c", "d", "select 1")
    frame = _frame(
        [("c", "month 2023-01-01", 5.0, 5.0), ("c", "month 2023-02-01", 7.0, 6.0), ("c", "month 2023-03-01", math.nan, 1.0)]
    )
    [result] = judge(frame, [check], {"c": {"success": False, "evaluated": 3, "error": None}})
    assert result.status == "failed" and result.rows_failed == 2
    assert "month 2023-02-01: observed 7, expected 6" in result.details
    assert "month 2023-03-01: observed NULL" in result.details


def test_gx_failure_is_trusted_even_when_our_comparison_passes():
    check = Check("c", "d", "select 1")
    [result] = judge(_frame([("c", "k", 1.0, 1.0)]), [check], {"c": {"success": False, "evaluated": 1, "error": None}})
    assert result.status == "failed"


def test_at_most_with_warn_and_fail_thresholds():
    check = Check("v", "d", "select 1", severity="warn", compare="at_most", fail_above=10.0)
    warn_only = _frame([("v", "2023-05-01 orders", 4.0, 3.0), ("v", "2023-06-01 orders", 1.2, 3.0)])
    [result] = judge(warn_only, [check], {"v": {"success": False, "evaluated": 2, "error": None}})
    assert result.status == "warned" and "2023-05-01 orders" in result.details
    both = _frame([("v", "2023-05-01 orders", 4.0, 3.0), ("v", "2023-06-01 orders", 12.0, 3.0)])
    [result] = judge(both, [check], {"v": {"success": False, "evaluated": 2, "error": None}})
    assert result.status == "failed" and "2023-06-01 orders" in result.details
    assert "2023-05-01" not in result.details and "fails above 10" in result.details
    fine = _frame([("v", "k", 3.0, 3.0)])
    [result] = judge(fine, [check], {"v": _ok(1)})
    assert result.status == "passed"


def test_skipped_checks_are_recorded_as_skipped():
    check = Check("f", "d", "select 1", needs_through=True)
    assert audit_mod.skipped(check, None).startswith("skipped: the run has no through date")
    assert audit_mod.skipped(check, dt.date(2024, 1, 1)) is None
    [result] = judge(_frame([]), [check], {}, {"f": "why"})
    assert result.status == "skipped" and result.details == "why"


def test_a_broken_connection_fails_every_check_loudly():
    con = duckdb.connect()
    con.close()
    frame = reconciliation_frame(con, CHECKS, dt.date(2024, 1, 1))
    assert set(frame.attrs["query_errors"]) == {c.name for c in CHECKS}
    results = judge(frame, CHECKS, {})
    assert {r.status for r in results} == {"error"}


def _settings(tmp_path, **env):
    base = {
        "RETENTION_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "RETENTION_STATE_DIR": str(tmp_path / "state"),
        "RETENTION_LANDING_DIR": str(tmp_path / "landing"),
    }
    return load_settings(base | env)


@pytest.mark.parametrize("content", [None, b"this is not a duckdb file" * 100])
def test_unreadable_build_database_fails_the_audit_and_is_recorded(tmp_path, content):
    settings = _settings(tmp_path)
    database = tmp_path / "build.duckdb"
    if content is not None:
        database.write_bytes(content)
    with pytest.raises(AuditFailed, match="could not open the build database"):
        audit_mod.audit(settings, database, "run-1", dt.date(2024, 1, 1))
    kept = duckdb.sql(f"select status, count(*) from '{audit_mod.history_file(settings, 'run-1')}' group by 1").fetchall()
    assert kept == [("error", len(checks_for(settings)))]


def test_a_misspelt_severity_or_status_is_refused_when_made():
    with pytest.raises(ValueError, match="'warning' is not a valid Severity"):
        Check("c", "d", "select 1", severity="warning")
    with pytest.raises(ValueError, match="'pased' is not a valid CheckStatus"):
        CheckResult("c", "d", Severity.FAIL, "pased", 1, 0, "", "", "")
    assert Check("c", "d", "select 1", severity="warn").severity is Severity.WARN


def test_the_history_keeps_severity_and_status_as_the_same_plain_text(tmp_path):
    """What audit.check_results publishes: VARCHAR columns holding fail/warn and passed/warned/…, as before
    the enums (readers filter on `status = 'failed'`)."""
    settings = _settings(tmp_path)
    checks = [Check("w", "d", "select 1", severity=Severity.WARN), Check("f", "d", "select 1"), Check("s", "d", "s")]
    frame = _frame([("w", "k", 2.0, 1.0), ("f", "k", 1.0, 1.0)])
    results = judge(frame, checks, {"w": _ok(1), "f": _ok(1)}, {"s": "turned off"})
    audit_mod.keep(settings, "run-1", results, dt.datetime(2024, 1, 1))
    kept = duckdb.sql(
        f"select check_name, typeof(severity), severity, typeof(status), status "
        f"from '{audit_mod.history_file(settings, 'run-1')}' order by check_name"
    ).fetchall()
    assert kept == [
        ("f", "VARCHAR", "fail", "VARCHAR", "passed"),
        ("s", "VARCHAR", "fail", "VARCHAR", "skipped"),
        ("w", "VARCHAR", "warn", "VARCHAR", "warned"),
    ]
    assert [type(r.status) for r in results] == [CheckStatus] * 3


def test_settings_for_freshness_and_volume(tmp_path):
    s = _settings(tmp_path)
    assert (s.freshness_max_days, s.freshness_severity, s.volume_warn_ratio, s.volume_fail_ratio) == (35, "warn", 3.0, 0.0)
    s = _settings(
        tmp_path,
        RETENTION_FRESHNESS_MAX_DAYS="2",
        RETENTION_FRESHNESS_SEVERITY="FAIL",
        RETENTION_VOLUME_WARN_RATIO="2",
        RETENTION_VOLUME_FAIL_RATIO="5",
    )
    assert freshness_check(s).severity == "fail" and freshness_check(s).compare == "at_most"
    v = volume_check(s)
    assert (v.severity, v.fail_above) == ("warn", 5.0)
    v = volume_check(s.model_copy(update=dict(volume_warn_ratio=0.0)))
    assert (v.severity, v.fail_above) == ("fail", None)
    assert volume_check(s.model_copy(update=dict(volume_warn_ratio=0.0, volume_fail_ratio=0.0))).skip_reason
    assert freshness_check(s.model_copy(update=dict(freshness_max_days=0))).skip_reason
    with pytest.raises(ConfigError):
        _settings(tmp_path, RETENTION_FRESHNESS_SEVERITY="loud")
    with pytest.raises(ConfigError):
        _settings(tmp_path, RETENTION_VOLUME_FAIL_RATIO="lots")


def test_failpoint_is_inert_unless_named_and_kills_when_named():
    code = "from retention.faults import failpoint\nfailpoint('publish.copied'); failpoint('publish.renamed'); print('survived')"
    env = dict(os.environ, RETENTION_FAILPOINT="publish.renamed")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL and "survived" not in done.stdout
    env["RETENTION_FAILPOINT"] = "elsewhere"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "survived" in done.stdout
    env |= {"RETENTION_FAILPOINT": "publish.copied", "RETENTION_FAILPOINT_HIT": "2"}
    code2 = (
        "from retention.faults import failpoint\n"
        "failpoint('publish.copied'); print('first'); failpoint('publish.copied'); print('second')"
    )
    done = subprocess.run([sys.executable, "-c", code2], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL and "first" in done.stdout and "second" not in done.stdout


def test_data_docs_keep_only_the_newest_runs(tmp_path):
    from retention.quality.gx import SUITE, prune_validation_pages

    settings = _settings(tmp_path)
    pages = settings.data_docs_dir / "validations" / SUITE
    names = [f"2026112{d}T010000-abc" for d in range(5)]
    for name in names:
        (pages / name / "x").mkdir(parents=True)
    removed = prune_validation_pages(settings, keep=2)
    assert sorted(p.name for p in pages.iterdir()) == names[-2:]
    assert sorted(p.name for p in removed) == names[:3]
