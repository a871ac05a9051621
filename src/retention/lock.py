"""One writer at a time per state folder: an advisory file lock the kernel drops when the holder dies."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
from pathlib import Path

from .errors import WriterBusy

log = logging.getLogger(__name__)
_held: set[int] = set()


def held_descriptors() -> tuple[int, ...]:
    """The lock's file descriptors this process holds: a child that must not outlive the lock (dbt)
    inherits them, so a writer killed mid-run keeps the warehouse locked until its child is gone too."""
    return tuple(_held)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
        return f"pid {info.get('pid')}, {info.get('what')}, since {info.get('since')}"
    except (OSError, json.JSONDecodeError):
        return "unknown holder"


@contextlib.contextmanager
def writer_lock(path: Path, what: str, wait_seconds: int = 0):
    """Hold the lock for the block; wait up to `wait_seconds` for it, then raise WriterBusy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    deadline = started + max(0, wait_seconds)
    waiting = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting and wait_seconds > 0:  # a writer that waits says for whom, not nothing
                    log.info("the writer lock %s is held (%s); waiting up to %ds for it", path, _holder(path), wait_seconds)
                    waiting = True
                if time.monotonic() >= deadline:
                    raise WriterBusy(
                        f"another run is writing this warehouse ({_holder(path)}; lock {path}); "
                        + (
                            f"waited {wait_seconds}s for it"
                            if waiting
                            else "try again when it has finished, or set RETENTION_LOCK_WAIT_SECONDS to wait"
                        )
                    ) from None
                time.sleep(0.2)
        if waiting:
            log.info("got the writer lock after waiting %.0fs", time.monotonic() - started)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {"pid": os.getpid(), "what": what, "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            ).encode(),
            0,
        )
        _held.add(fd)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # closing drops the lock (once no child holds it either)
