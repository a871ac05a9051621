"""Every speed trick of the package, in one place: each is easy to break without knowing why it is
there. Call sites use these functions; none of the tricks changes what a run writes, only when the
work happens or how the process ends.

Each was measured on the demo (`retention run --full-refresh`, 3,000 customers, 14,541 orders, 3
runs with and 3 without, interleaved, on 2 cores); a trick that saved under 0.2 s was dropped rather
than kept here (copying the marts for the publish on a thread while great-expectations judged: audit
and publish took 2.02 s with it, 1.95 s without; writing the outputs' Parquet on a thread beside the
report: the export alone takes 0.08 s).

`exit_now(code)` — `retention` leaves without the interpreter's teardown (`os._exit`): freeing the
modules of great-expectations, dbt, pandas and scipy one by one took 0.78 s after every run (0.03 s
without it). Safe because everything that must reach the disk is written, fsynced and closed before
the command returns (durable.py, the writer lock's file), and this function flushes what is left:
both console streams and the logging handlers. It skips `atexit` handlers: the package registers
none, and no library a command uses needs one to leave its files whole. An unexpected exception
never gets here: it leaves the normal way, with its traceback.

`exit_dbt_child_now(code)` — the build's child process (warehouse/dbt_steps.py) leaves the same way
once its database is checkpointed: 0.62 s a build. Before that it runs multiprocessing's own exit
handler, as `atexit` would: it releases the named semaphores dbt created, which multiprocessing's
resource tracker (a process of its own, writing to our standard error, which the parent reads)
reports as leaked otherwise. The handler is private API (`multiprocessing.util._exit_function`): if
a Python upgrade renames it, this falls back to the normal exit, slower but correct.

`import_beside(module)` — imports `module` on a daemon thread while the caller goes on, where the next
step needs a module that is slow to import and the current one spends its time outside Python
(in DuckDB, in dbt's child process): great-expectations while dbt builds (the audit waited 2.64 s
for it without), the lifetime-value fit's numpy, scipy and pandas while dbt's first step runs (0.58 s).
Safe because Python's import lock makes the later `import` of the same module wait for this one
instead of importing it twice; an import that fails here fails again, with its traceback, where
the module is really imported.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing.util
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush the console streams and the log, then end the process with `code`, skipping the teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it anyway
            pass
    logging.shutdown()
    os._exit(code)


def exit_dbt_child_now(code: int) -> NoReturn:
    """`exit_now` for the build's child process, releasing dbt's semaphores first (see the module's docstring)."""
    release = getattr(multiprocessing.util, "_exit_function", None)
    if release is None:  # the private handler is gone in this Python: the normal exit runs it
        sys.exit(code)
    release()
    exit_now(code)


def import_beside(module: str) -> None:
    """Start importing `module` on a daemon thread; a later `import` waits for it to finish."""
    threading.Thread(target=importlib.import_module, args=(module,), name=f"import {module}", daemon=True).start()
