"""How the last run (or DAG task) ended, kept in the state folder for `retention status`."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import durable
from .config import Settings
from .diskfull import disk_full, disk_full_error

log = logging.getLogger(__name__)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def last_run_file(settings: Settings) -> Path:
    return settings.state_dir / "last_run.json"


def rejections_file(settings: Settings) -> Path:
    return settings.state_dir / "rejections.json"


def write_json(path: Path, data: dict) -> None:
    durable.write_text(path, json.dumps(data, indent=2, default=str))


@contextlib.contextmanager
def outcome_recorded(settings: Settings, what: str) -> Iterator[dict[str, Any]]:
    """Record how the block ended in last_run.json; the block sets "status" (and "run_id") when it
    succeeds. A full disk is re-raised as DiskFull, which says so plainly."""
    outcome: dict[str, Any] = {"what": what, "started_at": now(), "status": "failed"}
    try:
        yield outcome
    except Exception as e:
        outcome["error"] = str(e)[:2000]
        if disk_full(e):
            full = disk_full_error(settings, e)
            outcome["error"] = str(full)
            raise full from e
        raise
    finally:
        outcome["finished_at"] = now()
        try:
            write_json(last_run_file(settings), outcome)
        except OSError:
            log.warning("could not record the run's outcome in %s", settings.state_dir)
