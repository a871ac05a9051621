"""Taking a batch out of the lake on purpose, and letting it back in (`retention batches remove|restore`).

Both happen under the writer lock and are kept in the batch log (batch_log.py says what a removed batch
is and how it stays out). The command line says what happened; this module decides it, and refuses a
batch that is not in the state the action needs (`BatchStateError`, naming the batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..database import connect
from ..errors import BatchStateError
from ..lock import writer_lock
from . import batch_log, lake


@dataclass(frozen=True)
class BatchChange:
    batch: str
    landing_folder: Path  # the batch's folder in the landing folder
    still_landed: bool  # the folder was there when the change was made


def _locked(settings: Settings, what: str):
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return writer_lock(settings.lock_file, what, settings.lock_wait_seconds)


def _change(settings: Settings, batch: str) -> BatchChange:
    folder = settings.landing_dir / batch
    return BatchChange(batch, folder, folder.exists())


def remove_batch(settings: Settings, batch: str, reason: str) -> BatchChange:
    """Take `batch` out of the lake, logging `reason` and the sha256 of its files (a re-delivery with
    other bytes is loaded again; the same files stay out)."""
    if not reason.strip():
        raise BatchStateError("--reason must say why the batch is removed (it is kept in the batch log)")
    with _locked(settings, f"retention batches remove {batch}"):
        con = connect(settings)
        try:
            files = {
                r["table_name"]: r["sha256"]
                for r in lake.manifest(con, settings.lake_dir)
                if str(r["batch_date"]) == batch and r["present"]
            }
        finally:
            con.close()
        if batch not in lake.batch_names(settings.lake_dir):
            held = ", ".join(lake.batch_names(settings.lake_dir)) or "none"
            raise BatchStateError(f"batch {batch} is not in the lake (batches there: {held}); `retention batches` lists them")
        batch_log.append(settings.lake_dir, batch, "removed", reason=reason.strip(), files=files)
        lake.remove_batch(settings.lake_dir, batch)
    return _change(settings, batch)


def restore_batch(settings: Settings, batch: str) -> BatchChange:
    """Let a removed batch be loaded again by the next run (from its landing folder, if it is still there)."""
    with _locked(settings, f"retention batches restore {batch}"):
        if batch not in batch_log.removed(settings.lake_dir):
            raise BatchStateError(f"batch {batch} is not a removed batch; `retention batches` lists the batches and their state")
        batch_log.append(settings.lake_dir, batch, "restored", reason="retention batches restore")
    return _change(settings, batch)
