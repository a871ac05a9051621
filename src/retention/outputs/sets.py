"""The readers' files of one publish, as one set swapped in by one rename.

    $RETENTION_OUTPUT_DIR/
      .sets/RUN_ID/                 one complete set per publish: parquet/, report.html, docs/, data_docs/, run_info.json
      current -> .sets/RUN_ID       the set of the published warehouse (a relative symbolic link)
      parquet -> current/parquet    made once: the names readers use (docs/reference.md §6)
      report.html -> current/report.html
      docs -> current/docs
      data_docs -> current/data_docs
      snapshots/AS_OF.duckdb        a snapshot (a run older than the published marts) …
      snapshots/AS_OF -> ../.sets/RUN_ID   … and its own set beside it

A set is written completely under `.sets/` (a name no reader opens), then a new link is renamed over
`current` (or `snapshots/AS_OF`): rename(2) replaces a link atomically, so a path such as
`outputs/parquet/period_retention.parquet` resolves wholly in the old set or wholly in the new one —
readers never see a mix (the lake swaps its batches the same way). The set replaced stays until the
next publish, so a reader that listed its files can still open them; older sets are removed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..durable import fsync, write_text
from ..errors import RunFailed

SETS = ".sets"
CURRENT = "current"
ENTRIES = ("parquet", "report.html", "docs", "data_docs")  # what a set holds for readers, by these names
RUN_INFO = "run_info.json"  # the run a set belongs to: run_id, as_of, published_at, the warehouse file


@dataclass(frozen=True)
class Locations:
    """Where a reader finds a publish's outputs (stable names, through the links)."""

    folder: Path  # the set as readers name it: $RETENTION_OUTPUT_DIR/current, or snapshots/AS_OF
    report: Path
    parquet: Path
    docs: Path
    data_docs: Path


def locations(settings: Settings, snapshot_as_of: str | None = None) -> Locations:
    """The readers' paths of the warehouse's outputs, or of the snapshot of `snapshot_as_of`."""
    out = settings.output_dir
    base = out / "snapshots" / snapshot_as_of if snapshot_as_of else out
    folder = base if snapshot_as_of else out / CURRENT
    return Locations(
        folder=folder,
        report=base / "report.html",
        parquet=base / "parquet",
        docs=base / "docs" / "index.html",
        data_docs=base / "data_docs" / "index.html",
    )


def link_path(settings: Settings, snapshot_as_of: str | None) -> Path:
    """The link a publish swaps: `current`, or `snapshots/AS_OF` for a snapshot."""
    return settings.output_dir / "snapshots" / snapshot_as_of if snapshot_as_of else settings.output_dir / CURRENT


def new_set(settings: Settings, run_id: str) -> Path:
    """An empty folder for this run's set (a leftover of the same run id, from a failed try, is cleared)."""
    folder = settings.output_dir / SETS / run_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def set_of(link: Path) -> Path | None:
    """The set folder a link points to, None when there is no such link (yet)."""
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()


def outputs_run_id(settings: Settings, snapshot_as_of: str | None = None) -> str | None:
    """The run whose outputs readers see now (None: no outputs yet)."""
    folder = set_of(link_path(settings, snapshot_as_of))
    return read_run_info(folder).get("run_id") if folder else None


def read_run_info(folder: Path) -> dict:
    try:
        return json.loads((folder / RUN_INFO).read_text())
    except (OSError, ValueError):
        return {}


def swap_in(settings: Settings, folder: Path, run_info: dict, snapshot_as_of: str | None = None) -> Path:
    """Make the finished set `folder` the one readers see: record its run, then rename a new link over
    the old one. Returns the link. The first publish also makes the stable names (parquet, report.html …)."""
    write_text(folder / RUN_INFO, json.dumps(run_info, indent=2, default=str))
    for entry in folder.rglob("*"):
        if entry.is_file():
            fsync(entry)
    link = link_path(settings, snapshot_as_of)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        raise RunFailed(f"{link} is in the way of the published outputs (a link to the newest set goes there): move it away")
    tmp = link.with_name(f".{link.name}.{folder.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(folder, link.parent), target_is_directory=True)
    previous = set_of(link)
    os.replace(tmp, link)
    fsync(link.parent)
    if snapshot_as_of is None:
        _stable_names(settings)
    _prune(settings, keep={folder} | ({previous} if previous else set()))
    return link


def check_names(settings: Settings) -> None:
    """Before writing a set: nothing but our links where readers' names go (a folder someone made there
    would hide the outputs). One sentence naming the path, and nothing written."""
    out = settings.output_dir
    for name in (CURRENT, *ENTRIES):
        path = out / name
        if path.exists() and not path.is_symlink():
            raise RunFailed(f"{path} is in the way of the published outputs (a link to the newest set goes there): move it away")


def _stable_names(settings: Settings) -> None:
    """parquet -> current/parquet and the like, once; they never change afterwards."""
    out = settings.output_dir
    for name in ENTRIES:
        path = out / name
        if not path.is_symlink():
            path.symlink_to(f"{CURRENT}/{name}", target_is_directory=name != "report.html")


def _prune(settings: Settings, keep: set[Path]) -> list[Path]:
    """Remove the sets no link points to, but those in `keep` (the new set and the one it replaced)."""
    root = settings.output_dir / SETS
    in_use = set(keep)
    links = [settings.output_dir / CURRENT, *(settings.output_dir / "snapshots").glob("*")]
    in_use |= {s for s in (set_of(link) for link in links) if s is not None}
    removed = []
    for folder in root.iterdir() if root.is_dir() else []:
        if folder.resolve() not in in_use:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
