"""What built the published marts: one row, `audit.run_info`, in every published file (and in the
publish marker, so that the next run can say which setting that shapes the marts changed).

Kept in one place so that every file the warehouse publishes (the warehouse itself, and backfill
snapshots later) says the same things the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
from pathlib import Path

import duckdb

from . import __version__
from .config import Settings
from .fingerprint import tree_digest
from .ingest.load import mapping_text
from .ingest.mapping import mapping_for
from .sql import sql_text

# column -> (DuckDB type, description); the description is the column's comment in the published file
COLUMNS = {
    "run_id": ("varchar", "The run that built and published this file (as in audit.check_results.run_id)."),
    "as_of_date": ("date", "The newest batch date the marts are built from (batches dated on or before the through date)."),
    "through_date": ("date", "The run's through date (retention run --through, the DAG's logical date); NULL: every batch."),
    "timezone": ("varchar", "RETENTION_TIMEZONE: the IANA zone whose calendar defines the days, months, quarters and years."),
    "clv_horizon_days": ("integer", "RETENTION_CLV_HORIZON_DAYS: the horizon of the lifetime-value forecast, in days."),
    "mapping_name": ("varchar", "The column mapping the batches were loaded with (RETENTION_COLUMN_MAPPING or the folder's)."),
    "mapping_fingerprint": ("varchar", "A digest of the whole mapping (headers, personal-data columns, status words, zone)."),
    "code_version": ("varchar", "The retention package version and a digest of its code and of the dbt project."),
    "dbt_version": ("varchar", "The dbt-core version that built the models."),
    "duckdb_version": ("varchar", "The DuckDB version that built and wrote this file."),
    "fingerprint": ("varchar", "A digest of everything the marts depend on (batches loaded, settings, code)."),
    "published_at": ("timestamptz", "When this file was published (UTC)."),
}
DESCRIPTION = (
    "What built the marts of this file: one row with the run, its as-of and through dates, the time zone, "
    "the column mapping, and the versions of the code, dbt and DuckDB (docs/reference.md, What built the marts)."
)
# settings that shape the marts, how to name them, and what a change means (not the through date: the DAG
# moves it every night, and audit.run_info records it)
SHAPING = {
    "timezone": ("time zone", "every period is recomputed"),
    "clv_horizon_days": ("lifetime-value horizon (days)", "expected_purchases and expected_value are over the new horizon"),
    "mapping_name": ("column mapping", "every batch was reloaded"),
    "mapping_fingerprint": ("column mapping's content", "every batch was reloaded"),
    "code_version": ("code version", "every model is rebuilt"),
}


def code_version(settings: Settings) -> str:
    digest = hashlib.sha256((tree_digest(Path(__file__).parent) + tree_digest(settings.dbt_project_dir)).encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def run_info(settings: Settings, run_id: str, fingerprint: str, as_of: str | None, through: str | None) -> dict:
    mapping = mapping_for(settings.landing_dir, settings.column_mapping)
    return {
        "run_id": run_id,
        "as_of_date": as_of,
        "through_date": through,
        "timezone": settings.timezone,
        "clv_horizon_days": settings.clv_horizon_days,
        "mapping_name": mapping.name,
        "mapping_fingerprint": hashlib.sha256(mapping_text(mapping).encode()).hexdigest()[:16],
        "code_version": code_version(settings),
        "dbt_version": importlib.metadata.version("dbt-core"),
        "duckdb_version": duckdb.__version__,
        "fingerprint": fingerprint,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def run_info_sql(info: dict) -> str:
    """The one-row select publish writes as audit.run_info."""
    values = ", ".join(
        f"cast({'NULL' if info.get(c) is None else sql_text(str(info[c]))} as {t}) as {c}" for c, (t, _) in COLUMNS.items()
    )
    return f"select {values}"


def changes(previous: dict | None, current: dict) -> list[str]:
    """What changed since the last publish among the settings that shape the marts, in words."""
    if not previous:
        return []
    said = []
    for key, (name, meaning) in SHAPING.items():
        if key not in previous or previous.get(key) == current.get(key):
            continue
        if key == "mapping_fingerprint" and previous.get("mapping_name") != current.get("mapping_name"):
            continue  # the name change says it
        before, after = previous.get(key) or "none (every batch)", current.get(key) or "none (every batch)"
        said.append(f"{name} changed from {before} to {after} since the last publish: {meaning}")
    return said
