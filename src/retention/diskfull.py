"""Saying "out of disk space" plainly: DuckDB, dbt and the OS report a full disk in many words."""

from __future__ import annotations

import errno
import shutil

from .config import Settings
from .errors import DiskFull

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
FULL_WORDS = ("no space left on device", "disk quota exceeded", "file too large")


def disk_full(error: BaseException | None) -> bool:
    """Did `error` (or what caused it) come from a full disk or an exceeded file-size limit?"""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL:
            return True
        if any(words in str(error).lower() for words in FULL_WORDS):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_error(settings: Settings, error: BaseException) -> DiskFull:
    """One line: what ran out, where, how much is free, and what to do."""
    free = []
    for label, folder in (("warehouse folder", settings.warehouse.parent), ("state folder", settings.state_dir)):
        try:
            free.append(f"{label} {folder}: {shutil.disk_usage(folder).free / 2**20:.1f} MiB free")
        except OSError:
            pass
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()] or [type(error).__name__]
    cause = next((line for line in lines if "space" in line.lower() or "too large" in line.lower()), lines[0])
    first = lines[0][:200] + (f" — {cause[:400]}" if cause != lines[0] else "")
    return DiskFull(
        f"out of disk space: {first} ({'; '.join(free)}). Free some space and run again; the published marts are unchanged"
    )
