"""The run's progress (progress.py) shown to a person: a live display on a terminal, one plain line per
event elsewhere (a pipe, a log file, an Airflow task).

Progress goes to stderr, like the warnings: stdout keeps the run's result (the audit and the summary),
which stays the same whether or not anybody watched the run go by.
"""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.text import Text

from .console import interactive, make_console


class _Mark(ProgressColumn):
    """A spinner while a stage runs; ✓ or ✗ once it ended."""

    def __init__(self) -> None:
        super().__init__()
        self._spinner = SpinnerColumn(finished_text="✓")

    def render(self, task: Task) -> Text:
        ok = task.fields.get("ok")
        if ok is None:
            return self._spinner.render(task)  # type: ignore[return-value]  # a Text for the spinner's own frames
        return Text("✓", style="green") if ok else Text("✗", style="bold red")


class _Seconds(ProgressColumn):
    """Seconds the stage has run (frozen when it ends)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.elapsed or 0.0:5.1f}s", style="dim")


class LiveReporter:
    """A line per stage (sub-stages indented under theirs) with a spinner, a bar once the stage reports
    steps (a batch loaded, a dbt step done), the last step, and the seconds; ✓/✗ when it ends."""

    def __init__(self, console: Console):
        self.progress = Progress(
            _Mark(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            _Seconds(),
            TextColumn("[dim]{task.fields[step]}"),
            console=console,
            # a terminal too narrow for the bar still shows the stage and its mark
            expand=False,
        )
        self._open: list[TaskID] = []

    def __enter__(self) -> LiveReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()  # leaves the final state of every stage on the screen

    def stage_started(self, name: str, detail: str) -> None:
        indent = "  " * len(self._open)
        self._open.append(self.progress.add_task(f"{indent}{name}", total=None, step=detail, ok=None))

    def step(self, text: str, done: int | None, total: int | None) -> None:
        if self._open:
            self.progress.update(self._open[-1], step=text, completed=done or 0, total=total)

    def stage_ended(self, name: str, ok: bool, seconds: float) -> None:
        if not self._open:
            return
        task_id = self._open.pop()
        task = self.progress.tasks[task_id] if task_id < len(self.progress.tasks) else None
        if ok and task is not None and task.total is None:
            self.progress.update(task_id, total=1, completed=1)  # a full bar rather than a pulsing one
        self.progress.update(task_id, ok=ok, step="" if ok else "failed")
        self.progress.stop_task(task_id)


class PlainReporter:
    """One line per event, `[stage] …`, flushed at once so a log shows where a run is (or where it died)."""

    def __init__(self, stream: IO[str] | None = None):
        self._stream = stream
        self._open: list[str] = []

    def _say(self, text: str) -> None:
        stream = self._stream or sys.stderr
        print(f"[{'/'.join(self._open)}] {text}", file=stream, flush=True)

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def stage_started(self, name: str, detail: str) -> None:
        self._open.append(name)
        self._say("started" + (f": {detail}" if detail else ""))

    def step(self, text: str, done: int | None, total: int | None) -> None:
        self._say(text + (f" ({done}/{total})" if done is not None and total else ""))

    def stage_ended(self, name: str, ok: bool, seconds: float) -> None:
        self._say(f"{'done' if ok else 'failed'} in {seconds:.1f}s")
        if self._open:
            self._open.pop()


def reporter_for_terminal() -> LiveReporter | PlainReporter:
    """Live on a person's terminal, plain lines otherwise (console.interactive)."""
    if interactive() and interactive(sys.stderr):
        return LiveReporter(make_console(stderr=True))
    return PlainReporter()
