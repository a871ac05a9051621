"""Progress of a run, told to whoever listens: the CLI draws it on a terminal (rich), plain lines
elsewhere; Airflow tasks and library callers hear nothing unless they install a reporter.

The pipeline calls `stage(...)` around each stage and `step(...)` for units of work inside one (a batch
loaded, a dbt step finished); the reporter decides how to show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def stage_started(self, name: str, detail: str) -> None: ...
    def step(self, text: str, done: int | None, total: int | None) -> None: ...
    def stage_ended(self, name: str, ok: bool, seconds: float) -> None: ...


_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> Reporter | None:
    """Install `reporter` (None: silence); returns the one it replaces."""
    global _reporter
    previous, _reporter = _reporter, reporter
    return previous


@contextmanager
def stage(name: str, detail: str = "") -> Iterator[None]:
    import time

    reporter = _reporter
    if reporter is None:
        yield
        return
    started = time.monotonic()
    reporter.stage_started(name, detail)
    ok = False
    try:
        yield
        ok = True
    finally:
        reporter.stage_ended(name, ok, time.monotonic() - started)


def step(text: str, done: int | None = None, total: int | None = None) -> None:
    if _reporter is not None:
        _reporter.step(text, done, total)
