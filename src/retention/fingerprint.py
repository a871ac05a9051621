"""What the published marts are a function of, as short digests: the lake state (which loads of
which batches), the settings that shape the marts, and the code. A run whose fingerprint equals the
published one has nothing new to do; a publish whose lake state moved since its build is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from . import __version__
from .config import Settings
from .database import connect
from .ingest import lake

SOURCE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md"}
NOT_SOURCE = {"target", "logs", "__pycache__", "node_modules"}
EMPTY_LAKE_STATE = hashlib.sha256(b"[]").hexdigest()[:20]


def tree_digest(folder: Path) -> str:
    """The source files of a folder (not build output, nor the npm packages the Data Docs ship), names and bytes."""
    digest = hashlib.sha256()
    sources = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in NOT_SOURCE]  # pruned, not walked: node_modules holds thousands of files
        sources += [Path(root) / f for f in files if Path(f).suffix in SOURCE_SUFFIXES]
    for path in sorted(sources):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lake_state(settings: Settings, through: dt.date | None) -> str:
    """Which loads of which batches the lake holds for this through date (a reload changes it)."""
    con = connect(settings)
    try:
        rows = [
            (str(r["batch_date"]), r["table_name"], r["sha256"], r["load_id"])
            for r in lake.manifest(con, settings.lake_dir)
            if through is None or r["batch_date"] <= through
        ]
    finally:
        con.close()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:20]


def lake_as_of(settings: Settings, through: dt.date | None) -> dt.date | None:
    """The run's as-of date (docs/reference.md §3): the newest batch date on or before `through` the lake holds."""
    con = connect(settings)
    try:
        dates = [r["batch_date"] for r in lake.manifest(con, settings.lake_dir) if through is None or r["batch_date"] <= through]
    finally:
        con.close()
    return max(dates, default=None)


def fingerprint(settings: Settings, through: dt.date | None, state: str) -> str:
    """The loaded batches (`state`, see lake_state), the settings the marts depend on, and the code.
    (The mapping and the PII salt shape the lake itself: ingest's rules fingerprint reloads on them.)"""
    parts = [
        state,
        str(through),
        settings.timezone,
        str(settings.clv_horizon_days),
        __version__,
        tree_digest(settings.dbt_project_dir),
        tree_digest(Path(__file__).parent),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]
