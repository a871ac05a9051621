"""Every setting, its environment variable and its default, in one place.

Relative paths are taken from the repository root (contract §2), so the CLI, the DAG and the tests
resolve the same files whatever their working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError


def project_root() -> Path:
    """The repository root: $RETENTION_HOME, else the checkout this package is installed from."""
    if home := os.environ.get("RETENTION_HOME"):
        return Path(home).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "dbt_project").is_dir():
            return parent
    return Path.cwd().resolve()


def _path(value: str, root: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p)


def _number(env: dict, name: str, default: int | float):
    """$name as a number of the default's type; unset or blank gives the default."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return type(default)(raw)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name}={raw!r} is not {kind}") from None


def _severity(env: dict, name: str, default: str) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in ("warn", "fail"):
        raise ConfigError(f"{name}={raw!r} must be warn or fail")
    return raw


@dataclass(frozen=True)
class Settings:
    root: Path
    landing_dir: Path
    warehouse: Path
    timezone: str
    state_dir: Path
    column_mapping: str | None
    memory_limit: str
    threads: int
    lock_wait_seconds: int
    freshness_max_days: int
    volume_warn_ratio: float
    volume_fail_ratio: float
    pii_salt: str
    future_tolerance_days: int = 1
    freshness_severity: str = "warn"  # RETENTION_FRESHNESS_SEVERITY: warn | fail

    # Everything below lives in the state folder, so two warehouses never share a file.
    @property
    def lake_dir(self) -> Path:
        return self.state_dir / "lake"

    @property
    def build_dir(self) -> Path:
        return self.state_dir / "build"

    @property
    def temp_dir(self) -> Path:
        return self.state_dir / "tmp"

    @property
    def audit_dir(self) -> Path:
        return self.state_dir / "audit"

    @property
    def data_docs_dir(self) -> Path:
        return self.state_dir / "data_docs"

    @property
    def dbt_dir(self) -> Path:
        return self.state_dir / "dbt"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "writer.lock"

    @property
    def published_marker(self) -> Path:
        return self.state_dir / "published.json"

    @property
    def dbt_project_dir(self) -> Path:
        return self.root / "dbt_project"


def load_settings(env: dict | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    root = project_root()
    warehouse = _path(env.get("RETENTION_WAREHOUSE") or "warehouse/retention.duckdb", root)
    state = env.get("RETENTION_STATE_DIR")
    state_dir = _path(state, root) if state else warehouse.parent / "state"
    tz = env.get("RETENTION_TIMEZONE") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"RETENTION_TIMEZONE={tz!r} is not an IANA time zone (e.g. UTC, Asia/Shanghai)") from None
    threads = _number(env, "RETENTION_THREADS", os.cpu_count() or 1)
    return Settings(
        root=root,
        landing_dir=_path(env.get("RETENTION_LANDING_DIR") or "demo/landing", root),
        warehouse=warehouse,
        timezone=tz,
        state_dir=state_dir,
        column_mapping=env.get("RETENTION_COLUMN_MAPPING") or None,
        memory_limit=env.get("RETENTION_MEMORY_LIMIT") or "4GB",
        threads=max(1, threads),
        lock_wait_seconds=_number(env, "RETENTION_LOCK_WAIT_SECONDS", 0),
        # newest batch at most this many days before the run's through date; 0 turns the check off
        freshness_max_days=_number(env, "RETENTION_FRESHNESS_MAX_DAYS", 35),
        freshness_severity=_severity(env, "RETENTION_FRESHNESS_SEVERITY", "warn"),
        # a batch's rows vs the median of the batches before it, as a factor either way; 0 turns it off
        volume_warn_ratio=_number(env, "RETENTION_VOLUME_WARN_RATIO", 3.0),
        volume_fail_ratio=_number(env, "RETENTION_VOLUME_FAIL_RATIO", 0.0),
        pii_salt=env.get("RETENTION_PII_SALT") or "retention-default-salt",
    )
