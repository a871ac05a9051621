"""Failpoints: a test seam that kills the run at a named point, deterministically.

    RETENTION_FAILPOINT=<name>          kill this process with SIGKILL when the run reaches <name>
    RETENTION_FAILPOINT_HIT=<n>         ... on the n-th time it reaches it (default 1)

SIGKILL cannot be caught, so nothing (no `finally`, no `atexit`, no DuckDB checkpoint) runs: it is
the same as a power cut or the OOM killer for this process. Tests use it to prove that a crash at
any of these points leaves the published warehouse as it was and that the next run recovers. With
the variable unset (always, in production) a failpoint is one dictionary look-up.

Points (in the order a run reaches them):

    ingest.before_swap    a batch's Parquet files are written, its symlink not yet swapped in (per batch)
    ingest.after_swap     a batch was swapped into the lake, later batches not yet (per batch)
    ingest.done           every batch is in the lake, the plan is not yet made
    build.done            dbt built the build database, the audit has not started
    audit.queried         the reconciliation queries ran, great-expectations has not judged them
    audit.kept            the audit results are written to the history, the verdict not yet acted on
    publish.writing       the first table is copied into the new warehouse's temp file, the rest not yet
    publish.copied        the new warehouse is complete in its temp file, not yet renamed
    publish.renamed       the new warehouse is renamed into place, the published marker not yet written
    publish.done          the marker is written, the build database not yet removed
    outputs.writing       the new outputs set is written (Parquet, report, docs), not yet swapped in

"""

from __future__ import annotations

import logging
import os
import signal
import sys

ENV = "RETENTION_FAILPOINT"
HIT_ENV = "RETENTION_FAILPOINT_HIT"
POINTS = (
    "ingest.before_swap",
    "ingest.after_swap",
    "ingest.done",
    "build.done",
    "audit.queried",
    "audit.kept",
    "publish.writing",
    "publish.copied",
    "publish.renamed",
    "publish.done",
    "outputs.writing",
)

_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL when $RETENTION_FAILPOINT names this point (test seam only)."""
    armed = os.environ.get(ENV)
    if not armed or armed != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    try:
        wanted = int(os.environ.get(HIT_ENV) or 1)
    except ValueError:
        wanted = 1
    if _hits[name] != wanted:
        return
    logging.shutdown()
    sys.stderr.write(f"retention: failpoint {name} (hit {wanted}): SIGKILL\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
