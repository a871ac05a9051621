"""Finding the batches in the landing folder, and what is wrong with a folder as a whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, RetentionError

EXPORT_FILES = {"customers": "customers.csv", "orders": "orders.csv"}
DATE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BatchRejected(RetentionError):
    """A whole batch cannot be loaded; nothing of it is."""

    def __init__(self, batch: str, file: str | None, problem: str):
        self.batch, self.file, self.problem = batch, file, problem
        where = f"batch {batch}" + (f", file {file}" if file else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class LandedFile:
    """A file of a batch. Its sha256 is computed when first asked for (deciding whether an already
    loaded batch changed), or from the bytes read when the file is loaded (`found_sha256`): a
    new batch's file is hashed once per run, not once to find it and once more to load it."""

    table: str
    path: Path
    size: int
    _digest: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sha256(self) -> str:
        if "sha256" not in self._digest:
            self._digest["sha256"] = sha256_of(self.path)
        return self._digest["sha256"]

    @property
    def known_sha256(self) -> str | None:
        """The digest taken earlier in this run, if any."""
        return self._digest.get("sha256")

    def found_sha256(self, digest: str) -> None:
        """The digest of the bytes loaded; the caller checked it against `known_sha256`."""
        self._digest.setdefault("sha256", digest)


@dataclass(frozen=True)
class LandedBatch:
    name: str
    batch_date: dt.date
    files: dict[str, LandedFile]  # table -> file; a table may be absent
    absent: tuple[str, ...] = ()  # the tables whose export file the folder lacks (docs/reference.md §1 allows it)

    def absent_note(self) -> str | None:
        """What a partial batch lacks, said on the run that loads it (and in `retention status`)."""
        if not self.absent:
            return None
        missing = " and ".join(EXPORT_FILES[t] for t in self.absent)
        return (
            f"batch {self.name} has no {missing}: loaded without {' or '.join(self.absent)} "
            "(a file named in any case, e.g. Orders.CSV, counts)"
        )

    def fingerprint(self) -> dict[str, str]:
        return {t: f.sha256 for t, f in sorted(self.files.items())}


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _batch(folder: Path, root: Path) -> LandedBatch:
    name = folder.name
    if not DATE_NAME.match(name):
        raise BatchRejected(name, None, "folder name is not a date (expected YYYY-MM-DD, the day the export was taken)")
    try:
        batch_date = dt.date.fromisoformat(name)
    except ValueError:
        raise BatchRejected(name, None, "folder name is not a valid calendar date") from None
    if not _inside(folder, root):
        raise BatchRejected(name, None, "the folder is a link that leads outside the landing folder")
    files = {}
    found = _export_files(folder, name)
    for table, filename in EXPORT_FILES.items():
        path = found.get(filename)
        if path is None:
            continue
        if not _inside(path, root):
            raise BatchRejected(name, path.name, "the file is a link that leads outside the landing folder (or nowhere)")
        if not path.resolve().is_file():
            raise BatchRejected(name, path.name, "not a regular file")
        with open(path, "rb"):  # an unreadable file fails the discovery, as when it was hashed here
            pass
        files[table] = LandedFile(table, path, path.stat().st_size)
    if not files:
        others = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        raise BatchRejected(
            name,
            None,
            f"holds neither {EXPORT_FILES['customers']} nor {EXPORT_FILES['orders']} "
            f"(found: {', '.join(others) if others else 'nothing'}; names are matched ignoring case)",
        )
    return LandedBatch(name, batch_date, files, tuple(sorted(set(EXPORT_FILES) - set(files))))


def _export_files(folder: Path, batch: str) -> dict[str, Path]:
    """The export files of a batch folder by their contract name, matched ignoring case
    (`Customers.csv`, `ORDERS.CSV`); two files whose names differ only in case reject the batch."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.lower() in EXPORT_FILES.values():
            found.setdefault(path.name.lower(), []).append(path)
    for filename, paths in found.items():
        if len(paths) > 1:
            raise BatchRejected(
                batch,
                filename,
                f"{' and '.join(p.name for p in paths)} differ only in case: keep one {filename} "
                "(names are matched ignoring case)",
            )
    return {filename: paths[0] for filename, paths in found.items()}


def discover(landing_dir: Path, through: dt.date | None) -> tuple[list[LandedBatch], list[BatchRejected]]:
    """Every batch folder dated on or before `through`, sorted by date, and the folders rejected whole."""
    if not landing_dir.is_dir():
        raise ConfigError(
            f"RETENTION_LANDING_DIR={str(landing_dir)!r}: the landing folder does not exist "
            "(set it to the folder holding the YYYY-MM-DD batch folders)"
        )
    root = landing_dir.resolve()
    batches, rejected = [], []
    for entry in sorted(landing_dir.iterdir()):
        if entry.name.startswith((".", "_")) or not (entry.is_dir() or entry.is_symlink()):
            continue  # top-level files (README, retention_mapping.yml) and hidden folders are not batches
        try:
            batch = _batch(entry, root)
        except BatchRejected as e:
            rejected.append(e)
            continue
        if through is None or batch.batch_date <= through:
            batches.append(batch)
    return batches, rejected
