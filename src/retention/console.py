"""Where the CLI writes for people: a rich terminal, or plain lines for logs and pipes.

A person at a terminal gets colour, tables with rules and a live progress display; a pipe, a file, a
`TERM=dumb` terminal or an Airflow task (`AIRFLOW_CTX_DAG_ID` is set in its environment) gets the same
words as plain lines with no escape codes, so logs and scripts read them as text.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from rich.console import Console, RenderableType

PLAIN_WIDTH = 240  # a log line is not wrapped at 80 columns: a table row stays one line, greppable


def interactive(stream: IO[str] | None = None) -> bool:
    """Whether `stream` (stdout) is a person's terminal that can draw: colour, a live display."""
    stream = stream or sys.stdout
    if os.environ.get("AIRFLOW_CTX_DAG_ID") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that draws when stdout is a terminal and writes plain text otherwise.
    The decision is stdout's for both streams: `retention run | tee log` is read as a log, whole."""
    if interactive():
        return Console(stderr=stderr, highlight=False)
    # force_terminal=False wins over FORCE_COLOR and the like: no escape code reaches a log
    return Console(
        stderr=stderr, force_terminal=False, no_color=True, color_system=None, highlight=False, width=PLAIN_WIDTH, emoji=False
    )


def show(console: Console, *renderables: RenderableType) -> None:
    """Print `renderables`; in plain mode without the padding rich leaves at the end of table lines."""
    if console.is_terminal:
        console.print(*renderables)
        return
    with console.capture() as captured:
        console.print(*renderables, soft_wrap=True)  # a long line of text stays one line in a log
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(text + "\n")
    console.file.flush()
