"""Durability helpers: what a rename-based swap needs on disk, for the lake, the publish and every
small state file (a crash leaves the old file or the new one, never a torn one)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries (so a rename in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temp path beside `path` for the block to write; then flush it, rename it over `path`
    and flush the folder. A block that raises leaves `path` as it was and no temp file behind."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)


def write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8), atomically and durably."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
