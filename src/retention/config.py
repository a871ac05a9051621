"""Every setting, its environment variable and its default, in one typed model validated when loaded.

Relative paths are taken from the repository root (docs/reference.md §2), so the CLI, the DAG and the tests
resolve the same files whatever their working directory. A setting that cannot work stops the
command before any work, with one line naming the variable and its value (`ConfigError`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from .errors import ConfigError

DEVELOPMENT_SALT = "retention-default-salt"  # only fit for the demo: `pipeline` warns when it is used on real data
ENV_PREFIX = "RETENTION_"


def project_root() -> Path:
    """The repository root: $RETENTION_HOME, else the checkout this package is installed from."""
    if home := os.environ.get("RETENTION_HOME"):
        return Path(home).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "dbt_project").is_dir():
            return parent
    return Path.cwd().resolve()


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Shanghai)") from None
    return value


# What DuckDB's memory_limit accepts: a number and a unit (decimal or binary), or a share of the machine
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([kmgt]i?b|[kmgt]|b|bytes)|\d+(\.\d+)?\s*%", re.IGNORECASE)


def _memory_size(value: str) -> str:
    if not MEMORY_SIZE.fullmatch(value):
        raise ValueError("is not a memory size (e.g. 4GB, 512MB, 80%)")
    return value


def _ratio(value: float) -> float:
    if value != 0 and value < 1:
        raise ValueError("is a factor either way, so 0 (off) or at least 1 (e.g. 3)")
    return value


def _web_address(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http(s) URL (e.g. https://hooks.example.com/retention)")
    return value


EMAIL_ADDRESS = re.compile(r"[^@\s,;]+@[^@\s,;]+")


def _email_addresses(value: str) -> str:
    """One address or several separated by commas or semicolons, as Airflow's e-mail sending splits them."""
    if not all(EMAIL_ADDRESS.fullmatch(a.strip()) for a in re.split(r"[,;]", value)):
        raise ValueError("is not an e-mail address or a comma-separated list of them (e.g. data-team@example.com)")
    return value


TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
MemorySize = Annotated[str, AfterValidator(_memory_size)]
Ratio = Annotated[float, Field(ge=0), AfterValidator(_ratio)]
WebAddress = Annotated[str, AfterValidator(_web_address)]
EmailAddresses = Annotated[str, AfterValidator(_email_addresses)]


class Settings(BaseModel):
    """The settings of one warehouse. Field aliases are the environment variables (README, Configuration)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    root: Path = Field(default_factory=project_root, exclude=True)
    landing_dir: Path = Field(alias="RETENTION_LANDING_DIR")
    warehouse: Path = Field(alias="RETENTION_WAREHOUSE")
    timezone: TimeZoneName = Field("UTC", alias="RETENTION_TIMEZONE")
    state_dir: Path = Field(alias="RETENTION_STATE_DIR")
    # what each publish leaves for readers (docs/reference.md §6) and the snapshots of past as-of dates (§3):
    # `outputs/` beside the warehouse
    output_dir: Path = Field(alias="RETENTION_OUTPUT_DIR")
    column_mapping: str | None = Field(None, alias="RETENTION_COLUMN_MAPPING")
    memory_limit: MemorySize = Field("4GB", alias="RETENTION_MEMORY_LIMIT")
    threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, alias="RETENTION_THREADS")
    lock_wait_seconds: int = Field(0, ge=0, alias="RETENTION_LOCK_WAIT_SECONDS")
    # newest batch at most this many days before the run's through date; 0 turns the check off
    freshness_max_days: int = Field(35, ge=0, alias="RETENTION_FRESHNESS_MAX_DAYS")
    freshness_severity: Literal["warn", "fail"] = Field("warn", alias="RETENTION_FRESHNESS_SEVERITY")
    # a batch's rows vs the median of the batches before it, as a factor either way; 0 turns it off
    volume_warn_ratio: Ratio = Field(3.0, alias="RETENTION_VOLUME_WARN_RATIO")
    volume_fail_ratio: Ratio = Field(0.0, alias="RETENTION_VOLUME_FAIL_RATIO")
    # a secret: shown as '**********' in reprs, logs and dumps; read it with get_secret_value()
    pii_salt: SecretStr = Field(SecretStr(DEVELOPMENT_SALT), alias="RETENTION_PII_SALT")
    # the lifetime-value forecast's horizon H (docs/reference.md §4.6): E[Y(H)] and the backtest's holdout
    clv_horizon_days: int = Field(365, ge=1, alias="RETENTION_CLV_HORIZON_DAYS")
    # where the DAG's callbacks send each run's summary (orchestration.record_run); unset: nowhere
    notify_webhook: WebAddress | None = Field(None, alias="RETENTION_NOTIFY_WEBHOOK")
    notify_email: EmailAddresses | None = Field(None, alias="RETENTION_NOTIFY_EMAIL")
    future_tolerance_days: int = 1  # an order dated this far after its batch is a clock skew, not a problem

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, given: dict) -> dict:
        """Relative paths from the repository root; the state folder beside the warehouse unless set."""
        root = Path(given.get("root") or project_root())

        def absolute(value: str | Path) -> Path:
            path = Path(value).expanduser()
            return path if path.is_absolute() else root / path

        warehouse = absolute(given.get("RETENTION_WAREHOUSE") or "warehouse/retention.duckdb")
        state = given.get("RETENTION_STATE_DIR")
        output = given.get("RETENTION_OUTPUT_DIR")
        if warehouse.is_dir():
            raise ValueError(f"RETENTION_WAREHOUSE={str(warehouse)!r} is a folder; it must name the DuckDB file")
        paths = {
            "root": root,
            "RETENTION_WAREHOUSE": warehouse,
            "RETENTION_LANDING_DIR": absolute(given.get("RETENTION_LANDING_DIR") or "demo/landing"),
            "RETENTION_STATE_DIR": absolute(state) if state else warehouse.parent / "state",
            "RETENTION_OUTPUT_DIR": absolute(output) if output else warehouse.parent / "outputs",
        }
        for variable in ("RETENTION_STATE_DIR", "RETENTION_OUTPUT_DIR"):
            if paths[variable].is_file():
                raise ValueError(f"{variable}={str(paths[variable])!r} is a file; it must name a folder")
        return given | paths

    @property
    def uses_development_salt(self) -> bool:
        return self.pii_salt.get_secret_value() == DEVELOPMENT_SALT

    # Everything below lives in the state folder, so two warehouses never share a file.
    @property
    def lake_dir(self) -> Path:
        return self.state_dir / "lake"

    @property
    def build_dir(self) -> Path:
        """Where dbt builds, at one fixed path (a new path would cost dbt a full re-parse); used only
        by the build stage, under the writer lock."""
        return self.state_dir / "build"

    def run_build_dir(self, run_id: str) -> Path:
        """A run's finished build, from its build stage until its publish: one folder per run, so DAG
        runs interleaved task by task (a backfill beside the nightly run) never audit each other's build."""
        return self.state_dir / "builds" / run_id

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

    def snapshot(self, as_of: str) -> Path:
        """The marts as of a past date (docs/reference.md §3), published beside today's, never over them."""
        return self.output_dir / "snapshots" / f"{as_of}.duckdb"

    def snapshot_marker(self, as_of: str) -> Path:
        """What a snapshot was built from; the published marker describes the main warehouse file only."""
        return self.state_dir / "snapshots" / f"{as_of}.json"

    @property
    def dbt_project_dir(self) -> Path:
        return self.root / "dbt_project"


def _explain(error: ErrorDetails, given: dict[str, str]) -> str:
    """One pydantic error as `VARIABLE='value': what is wrong`."""
    variable = str(error["loc"][0]) if error["loc"] else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if not variable.startswith(ENV_PREFIX):  # a whole-model check: its message names the variable
        return message
    message = {"int_parsing": "is not a whole number", "float_parsing": "is not a number"}.get(error["type"], message)
    message = message[:1].lower() + message[1:]  # pydantic's "Input should be …" reads on after the value
    return f"{variable}={given.get(variable, '')!r}: {message}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """The settings from `env` (default: the process environment); unset or blank means the default."""
    env = dict(os.environ if env is None else env)
    given = {k: v.strip() for k, v in env.items() if k.startswith(ENV_PREFIX) and v.strip()}
    if "RETENTION_FRESHNESS_SEVERITY" in given:
        given["RETENTION_FRESHNESS_SEVERITY"] = given["RETENTION_FRESHNESS_SEVERITY"].lower()
    try:
        return Settings.model_validate(given)
    except ValidationError as e:
        raise ConfigError("; ".join(_explain(err, given) for err in e.errors())) from None
