"""Settings are validated when loaded: a bad one stops the command before any work, in one line naming it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from retention.config import DEVELOPMENT_SALT, load_settings
from retention.errors import ConfigError
from tests.support.warehouse import RETENTION, ROOT, Warehouse

BAD = [
    ("RETENTION_MEMORY_LIMIT", "lots", "memory size"),
    ("RETENTION_TIMEZONE", "Europe/Berlinn", "IANA time zone"),
    ("RETENTION_THREADS", "two", "whole number"),
    ("RETENTION_THREADS", "0", "greater than or equal to 1"),
    ("RETENTION_LOCK_WAIT_SECONDS", "-1", "greater than or equal to 0"),
    ("RETENTION_FRESHNESS_MAX_DAYS", "35 days", "whole number"),
    ("RETENTION_FRESHNESS_SEVERITY", "loud", "'warn' or 'fail'"),
    ("RETENTION_VOLUME_WARN_RATIO", "many", "not a number"),
    ("RETENTION_VOLUME_FAIL_RATIO", "0.5", "at least 1"),
    ("RETENTION_CLV_HORIZON_DAYS", "0", "greater than or equal to 1"),
    ("RETENTION_CLV_HORIZON_DAYS", "a year", "whole number"),
    ("RETENTION_NOTIFY_WEBHOOK", "hooks.example.com/retention", "http(s) URL"),
    ("RETENTION_NOTIFY_WEBHOOK", "ftp://files.example.com/in", "http(s) URL"),
    ("RETENTION_NOTIFY_WEBHOOK", "https://", "http(s) URL"),
    ("RETENTION_NOTIFY_EMAIL", "the data team", "e-mail address"),
    ("RETENTION_NOTIFY_EMAIL", "ops@example.com, sales", "e-mail address"),
]


@pytest.mark.parametrize(("variable", "value", "says"), BAD)
def test_a_bad_setting_is_named_with_its_value(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value})
    assert f"{variable}={value!r}" in str(raised.value) and says in str(raised.value)


@pytest.mark.parametrize(("variable", "value", "says"), BAD[:3])
def test_retention_run_prints_one_line_and_does_no_work(tmp_path: Path, variable: str, value: str, says: str) -> None:
    wh = Warehouse(tmp_path)
    wh.env[variable] = value
    done = subprocess.run([str(RETENTION), "run"], env=wh.env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(f"retention: {variable}={value!r}: ") and done.stderr.count("\n") == 1, done.stderr
    assert not wh.state.exists()  # stopped before any work


def test_paths_are_taken_from_the_repository_root_and_state_sits_beside_the_warehouse() -> None:
    s = load_settings({"RETENTION_WAREHOUSE": "somewhere/w.duckdb", "RETENTION_LANDING_DIR": "in"})
    assert s.warehouse == ROOT / "somewhere" / "w.duckdb"
    assert s.landing_dir == ROOT / "in"
    assert s.state_dir == ROOT / "somewhere" / "state"
    assert s.lake_dir == ROOT / "somewhere" / "state" / "lake"
    assert s.output_dir == ROOT / "somewhere" / "outputs"
    assert s.snapshot("2024-03-01") == ROOT / "somewhere" / "outputs" / "snapshots" / "2024-03-01.duckdb"
    assert load_settings({"RETENTION_OUTPUT_DIR": "out"}).output_dir == ROOT / "out"


def test_the_output_folder_cannot_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="RETENTION_OUTPUT_DIR=.* is a file"):
        load_settings({"RETENTION_OUTPUT_DIR": str(tmp_path / "f")})


def test_blank_means_the_default_and_the_warehouse_cannot_be_a_folder(tmp_path: Path) -> None:
    s = load_settings({"RETENTION_THREADS": " ", "RETENTION_PII_SALT": "", "RETENTION_FRESHNESS_SEVERITY": "FAIL"})
    assert s.threads >= 1 and s.pii_salt.get_secret_value() == DEVELOPMENT_SALT and s.uses_development_salt
    assert s.freshness_severity == "fail"
    with pytest.raises(ConfigError, match="RETENTION_WAREHOUSE=.* is a folder"):
        load_settings({"RETENTION_WAREHOUSE": str(tmp_path)})


def test_the_salt_stays_out_of_reprs_dumps_and_error_messages() -> None:
    """Pydantic's SecretStr: shown as '**********' by repr(), str() and the JSON dump; only
    get_secret_value() gives it (and the ingest hashes with it, so the value itself must survive)."""
    salt = "pepper-7f3a-only-the-ingest-knows"
    s = load_settings({"RETENTION_PII_SALT": salt})
    assert s.pii_salt.get_secret_value() == salt and not s.uses_development_salt
    for shown in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert salt not in shown
        assert "**********" in shown
    with pytest.raises(ConfigError) as raised:  # a bad setting beside it names that setting, never the salt
        load_settings({"RETENTION_PII_SALT": salt, "RETENTION_THREADS": "two"})
    assert salt not in str(raised.value)


def test_notification_settings_default_to_none_and_keep_what_was_given() -> None:
    s = load_settings({})
    assert (s.notify_webhook, s.notify_email) == (None, None)
    s = load_settings(
        {"RETENTION_NOTIFY_WEBHOOK": " http://127.0.0.1:8080/hook ", "RETENTION_NOTIFY_EMAIL": "ops@example.com; bi@example.org"}
    )
    assert (s.notify_webhook, s.notify_email) == ("http://127.0.0.1:8080/hook", "ops@example.com; bi@example.org")


def test_the_readme_configuration_table_lists_every_setting() -> None:
    """Every environment variable Settings reads has a row in README's Configuration table, and every
    row names one Settings reads."""
    from retention.config import Settings

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :].split("\n\n")[1]
    rows = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    variables = {f.alias for f in Settings.model_fields.values() if f.alias}
    assert rows == variables


def _preflight_warnings(landing: Path, caplog, **env: str) -> list[str]:
    from retention.pipeline import preflight

    caplog.clear()
    preflight(load_settings({"RETENTION_LANDING_DIR": str(landing), **env}))
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_the_development_salt_on_real_data_warns_on_every_run(tmp_path: Path, caplog) -> None:
    from retention.demo import write_demo_landing

    real, demo = tmp_path / "real", tmp_path / "demo"
    real.mkdir()
    write_demo_landing(demo, customers=10, months=1)
    for _ in range(2):
        [warning] = _preflight_warnings(real, caplog)
        assert "RETENTION_PII_SALT is not set" in warning
    assert _preflight_warnings(real, caplog, RETENTION_PII_SALT="a secret") == []
    assert _preflight_warnings(demo, caplog) == []


def test_the_chinese_mapping_hashes_personal_data_of_orders_too() -> None:
    from retention.ingest.mapping import mapping_for, normalise_header

    pii = mapping_for(Path("."), "zh_cn").tables["orders"].pii
    assert {normalise_header(h) for h in ("手机", "收货地址", "email")} <= pii
