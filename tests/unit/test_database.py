"""DuckDB connections with the warehouse's settings (database.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from retention.database import INSTANCE_SETTINGS, configured, instance_config

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_connection_to_an_instance_that_has_spilled_gets_the_same_settings(tmp_path):
    """The lifetime-value fit connects to the build file while dbt holds it open in the same process (opened
    with the instance settings, as dbt's profile does); with a small RETENTION_MEMORY_LIMIT dbt's queries
    have spilled into the temp folder by then, and DuckDB refuses to set that folder again."""
    spill = tmp_path / "spill"
    session = {"memory_limit": "64MB", "temp_directory": str(spill), "threads": "2", "TimeZone": "UTC"}
    dbt = duckdb.connect(str(tmp_path / "build.duckdb"), config=instance_config(session))
    dbt.execute("select i, md5(i::varchar) as s from range(3000000) t(i) order by s").fetchall()  # more than 64 MB
    assert any(spill.iterdir()), "the query did not spill: the test would prove nothing"

    fit = configured(duckdb.connect(str(tmp_path / "build.duckdb"), config=instance_config(session)), session)

    assert fit.execute("select current_setting('temp_directory'), current_setting('threads')").fetchone() == (str(spill), 2)
    fit.close()
    dbt.close()


def test_dbt_opens_the_build_with_the_instance_settings_the_fit_gives():
    profile = yaml.safe_load((ROOT / "dbt_project" / "profiles.yml").read_text())["retention"]["outputs"]["duckdb"]
    assert tuple(profile["config_options"]) == INSTANCE_SETTINGS
    assert not set(profile["settings"]) & set(INSTANCE_SETTINGS)
