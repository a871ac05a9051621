"""Ingest: every new or changed batch of the landing folder into the raw lake."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import progress
from ..config import Settings
from ..database import connect
from ..sql import ident, sql_text
from . import batch_log, lake
from .csvrows import Records, write_lines, write_records
from .decode import DecodedExport, FileProblem, decode_export
from .landing import EXPORT_FILES, BatchRejected, LandedBatch, LandedFile, discover
from .mapping import ColumnMapping, Header, mapping_for
from .quarantine import mask_pii
from .rows import validated_sql

# Bump when a change to decoding or validation should reload batches already in the lake.
INGEST_RULES_VERSION = "4"  # 4: personal data hashed in the quarantine's raw text too (quarantine.py)

# customers and orders: as rows.validated_sql writes them (their lines: see lake.py)
SCHEMAS = {
    "customers": {
        "batch_date": "date",
        "source_file": "varchar",
        "customer_id": "varchar",
        "created_at": "timestamp",
        "channel": "varchar",
        "region": "varchar",
        "extra_columns": "varchar",
        "problem": "varchar",
    },
    "orders": {
        "batch_date": "date",
        "source_file": "varchar",
        "order_id": "varchar",
        "customer_id": "varchar",
        "ordered_at": "timestamp",
        "amount": "decimal(18, 4)",
        "currency": "varchar",
        "status": "varchar",
        "extra_columns": "varchar",
        "problem": "varchar",
    },
    "quarantine": {
        "batch_date": "date",
        "source_file": "varchar",
        "table_name": "varchar",
        "source_line": "bigint",
        "reason": "varchar",
        "raw_text": "varchar",
    },
    "manifest": {
        "batch_date": "date",
        "file_name": "varchar",
        "table_name": "varchar",
        "present": "boolean",
        "sha256": "varchar",
        "size_bytes": "bigint",
        "encoding": "varchar",
        "parser": "varchar",
        "rows_read": "bigint",
        "rows_loaded": "bigint",
        "rows_quarantined": "bigint",
        "rules": "varchar",
        "load_id": "varchar",
        "loaded_at": "timestamp",
    },
}


@dataclass
class IngestReport:
    loaded: list[dict] = field(default_factory=list)  # manifest rows of the batches loaded now
    unchanged: list[str] = field(default_factory=list)
    rejected: list[BatchRejected] = field(default_factory=list)
    removed_loads: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # said on the terminal by every run (see pipeline)


def mapping_text(mapping: ColumnMapping) -> str:
    """The mapping in a canonical text: what of it decides the loaded rows (fingerprinted here and in run_info)."""
    return json.dumps(
        {
            "name": mapping.name,
            "timezone": mapping.timezone,
            "encoding": mapping.encoding,
            "tables": {
                t: {"aliases": sorted(m.aliases.items()), "pii": sorted(m.pii), "status_values": sorted(m.status_values.items())}
                for t, m in sorted(mapping.tables.items())
            },
        },
        ensure_ascii=False,
    )


def rules_fingerprint(settings: Settings, mapping: ColumnMapping) -> str:
    """What, besides the files' bytes, decides the loaded rows; a change reloads every batch."""
    # canonical text, not repr(): a frozenset's repr changes order from one process to the next
    parts = [
        INGEST_RULES_VERSION,
        mapping_text(mapping),
        str(settings.future_tolerance_days),
        hashlib.sha256(settings.pii_salt.get_secret_value().encode()).hexdigest(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _select(table: str, source: str) -> str:
    cols = ", ".join(f"cast({ident(c)} as {t}) as {ident(c)}" for c, t in SCHEMAS[table].items())
    return f"select {cols} from {source}"


def _write_frame(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], path: Path) -> None:
    frame = pd.DataFrame(rows, columns=list(SCHEMAS[table]))
    con.register("_frame", frame)
    con.execute(f"copy ({_select(table, '_frame')}) to {sql_text(str(path))} ({lake.PARQUET})")
    con.unregister("_frame")


class _Digest(threading.Thread):
    """sha256 of bytes in a thread: hashlib releases the GIL for large buffers."""

    def __init__(self, data: bytes):
        super().__init__(daemon=True)
        self.data, self.hexdigest = data, ""
        self.start()

    def run(self) -> None:
        self.hexdigest = hashlib.sha256(self.data).hexdigest()

    def result(self) -> str:
        self.join()
        self.data = b""
        return self.hexdigest


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def ambiguous_header(ambiguous: dict[str, list[tuple[int, str]]]) -> str:
    """Which contract columns more than one column of the header means (positions from 1, as a spreadsheet counts)."""
    groups = []
    for column, cols in ambiguous.items():
        where = ", ".join(f'"{h}" at column {i + 1}' for i, h in cols)
        groups.append(f"{len(cols)} columns mean {column} ({where})")
    return f"ambiguous header: {'; '.join(groups)}; keep one"


def _quarantined(
    con, records: Records, target: Path, lines_target: Path, pii: frozenset[int], width: int, salt: str
) -> list[dict]:
    """The file's quarantined records (those it could not split, then the rows with a problem), by line,
    their raw text without personal data in clear."""
    written = lake.record_lines_sql(sql_text(str(target)), sql_text(str(lines_target)))
    bad = con.execute(f"select source_line, problem from ({written}) where problem is not null order by source_line").fetchall()
    raw_text = records.raw_text([line for line, _ in bad])
    kept = [(r.line, r.reason, r.raw) for r in records.rejects] + [(line, reason, raw_text[line]) for line, reason in bad]
    masked = mask_pii(con, [raw for _, _, raw in kept], pii, width, salt)
    return [{"source_line": line, "reason": reason, "raw_text": raw} for (line, reason, _), raw in zip(kept, masked)]


def _read_checked(landed: LandedFile, batch: LandedBatch, mapping: ColumnMapping) -> tuple[DecodedExport, str]:
    """The file's bytes decoded, with their sha256; rejects the batch when they are not the bytes this
    run saw before (the file changed while it was being loaded) or cannot be decoded."""
    filename = landed.path.name
    raw = landed.path.read_bytes()
    digest = _Digest(raw)  # hashed on the other core while this one decodes
    problem: FileProblem | None = None
    try:
        decoded = decode_export(raw, mapping.encoding)
    except FileProblem as e:
        problem = e
    sha256 = digest.result()
    expected = landed.known_sha256  # None: not hashed yet in this run (a new batch), these bytes are the file
    if expected is not None and sha256 != expected:
        raise BatchRejected(batch.name, filename, "the file changed while it was being loaded; run again")
    landed.found_sha256(sha256)
    if problem is not None:
        raise BatchRejected(batch.name, filename, str(problem)) from None
    return decoded, sha256


def _header_checked(batch: LandedBatch, filename: str, mapping: ColumnMapping, table: str, header_row: list[str]) -> Header:
    """The export's columns named; a required column missing or meant twice rejects the batch."""
    header = mapping.resolve_header(table, header_row)
    if header.missing:
        raise BatchRejected(
            batch.name,
            filename,
            f"required column(s) missing: {', '.join(header.missing)} (header: {', '.join(header_row)}; "
            f"column mapping: {mapping.name})",
        )
    if header.ambiguous:
        raise BatchRejected(batch.name, filename, ambiguous_header(header.ambiguous))
    return header


def _load_file(
    con, settings: Settings, mapping: ColumnMapping, batch: LandedBatch, table: str, load_dir: Path, quarantine: list[dict]
) -> dict:
    landed = batch.files[table]
    filename = EXPORT_FILES[table]
    delivered = _stamp(landed.path)
    decoded, sha256 = _read_checked(landed, batch, mapping)
    header = _header_checked(batch, filename, mapping, table, decoded.header)
    names = header.names
    path = landed.path
    if decoded.rewritten:
        path = settings.temp_dir / f"{batch.name}-{filename}.{uuid.uuid4().hex[:8]}.utf8.csv"
        path.write_bytes(decoded.data)
    source_file = f"{batch.name}/{filename}"

    def validated(source: str) -> str:
        return validated_sql(
            source,
            table,
            names,
            mapping,
            pii=header.pii,
            batch_date=batch.batch_date,
            source_file=source_file,
            salt=settings.pii_salt.get_secret_value(),
            future_tolerance_days=settings.future_tolerance_days,
            ascii=decoded.ascii,
        )

    target, lines_target = load_dir / f"{table}.parquet", load_dir / lake.lines_file(table)
    try:
        records = write_records(con, path, decoded.data, len(names), decoded.terminated, validated, target, lines_target)
    except FileProblem as e:
        raise BatchRejected(batch.name, filename, str(e)) from None
    finally:
        if decoded.rewritten:
            path.unlink(missing_ok=True)
    if _stamp(landed.path) != delivered:  # DuckDB read the file again: it must be the bytes checked above
        raise BatchRejected(batch.name, filename, "the file changed while it was being loaded; run again")
    loaded = con.execute(f"select count(*) from read_parquet({sql_text(str(target))}) where problem is null").fetchall()[0][0]
    base = {"batch_date": batch.batch_date, "source_file": source_file, "table_name": table}
    kept = _quarantined(con, records, target, lines_target, header.pii, len(names), settings.pii_salt.get_secret_value())
    quarantine.extend(base | row for row in kept)
    quarantined = len(kept)
    if records.rows_read != loaded + quarantined:  # never drop a row silently
        raise BatchRejected(
            batch.name,
            filename,
            f"row accounting does not add up: read {records.rows_read}, loaded {loaded}, quarantined {quarantined}",
        )
    return {
        "present": True,
        "sha256": sha256,
        "size_bytes": landed.size,
        "encoding": decoded.encoding,
        "parser": records.parser,
        "rows_read": records.rows_read,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
    }


def load_batch(con, settings: Settings, mapping: ColumnMapping, batch: LandedBatch, rules: str) -> list[dict]:
    load_id = uuid.uuid4().hex[:12]
    load_dir = lake.new_load_dir(settings.lake_dir, batch.name, load_id)
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        quarantine: list[dict] = []
        manifest = []
        for table, filename in EXPORT_FILES.items():
            row = {
                "batch_date": batch.batch_date,
                "file_name": filename,
                "table_name": table,
                "present": False,
                "rows_read": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "rules": rules,
                "load_id": load_id,
                "loaded_at": loaded_at,
            }
            if table in batch.files:
                row |= _load_file(con, settings, mapping, batch, table, load_dir, quarantine)
            else:
                _write_frame(con, table, [], load_dir / f"{table}.parquet")
                write_lines(con, np.zeros(0, dtype=np.int64), load_dir / lake.lines_file(table))
            manifest.append(row)
        _write_frame(con, "quarantine", quarantine, load_dir / "quarantine.parquet")
        _write_frame(con, "manifest", manifest, load_dir / "manifest.parquet")
        replaced = (lake.batches_dir(settings.lake_dir) / batch.name).is_symlink()
        lake.publish_load(settings.lake_dir, batch.name, load_dir)
        batch_log.append(
            settings.lake_dir,
            batch.name,
            "replaced" if replaced else "loaded",
            load_id=load_id,
            files={r["table_name"]: r.get("sha256") for r in manifest if r["present"]},
        )
        return manifest
    except BaseException:
        shutil.rmtree(load_dir, ignore_errors=True)
        raise


def _unchanged(batch: LandedBatch, current: dict[str, list[dict]], rules: str) -> bool:
    rows = current.get(batch.name)
    if not rows:
        return False
    present = [r for r in rows if r["present"]]
    if {r["table_name"] for r in present} != set(batch.files) or not all(r["rules"] == rules for r in rows):
        return False
    if any(r["size_bytes"] != batch.files[r["table_name"]].size for r in present):
        return False  # another size is another file: no need to hash it to know
    have = {r["table_name"]: r["sha256"] for r in present}
    return have == batch.fingerprint()


def ingest(settings: Settings, through: dt.date | None = None) -> IngestReport:
    report = IngestReport()
    settings.lake_dir.mkdir(parents=True, exist_ok=True)
    report.removed_loads = lake.collect_garbage(settings.lake_dir)
    mapping = mapping_for(settings.landing_dir, settings.column_mapping)
    rules = rules_fingerprint(settings, mapping)
    batches, report.rejected = discover(settings.landing_dir, through)
    con = connect(settings)
    try:
        current: dict[str, list[dict]] = {}
        for row in lake.manifest(con, settings.lake_dir):
            current.setdefault(row["batch_date"].isoformat(), []).append(row)
        removed = batch_log.removed(settings.lake_dir)
        for number, batch in enumerate(batches, start=1):
            if batch.name in removed and batch.fingerprint() == removed[batch.name].get("files"):
                report.warnings.append(_still_removed(settings, batch.name, removed[batch.name]))
                progress.step(f"batch {batch.name} kept out (removed)", number, len(batches))
                continue
            if _unchanged(batch, current, rules):
                report.unchanged.append(batch.name)
                progress.step(f"batch {batch.name} unchanged", number, len(batches))
                continue
            try:
                manifest = load_batch(con, settings, mapping, batch, rules)
            except BatchRejected as e:
                report.rejected.append(e)
                progress.step(f"batch {batch.name} rejected", number, len(batches))
                continue
            report.loaded.extend(manifest)
            rows = sum(int(m["rows_read"]) for m in manifest)
            progress.step(f"batch {batch.name} loaded ({rows} rows read)", number, len(batches))
            if batch.name in removed:
                batch_log.append(settings.lake_dir, batch.name, "redelivered", reason="its files changed since it was removed")
            if note := batch.absent_note():
                report.warnings.append(note)
    finally:
        con.close()
    lake.collect_garbage(settings.lake_dir)
    report.warnings += _gone_from_landing(settings)
    return report


def _still_removed(settings: Settings, batch: str, entry: dict) -> str:
    return (
        f"batch {batch} was removed by {entry.get('by')} at {entry.get('at')} ({entry.get('reason')}); its folder "
        f"{settings.landing_dir / batch} is still there with the same files and stays out of the lake: deliver corrected "
        f"files to load it, or `retention batches restore {batch}`"
    )


def _gone_from_landing(settings: Settings) -> list[str]:
    """Batches the lake holds (and the marts are built from) whose landing folder is no longer there."""
    return [
        f"batch {name} is in the lake (and in the marts) but its landing folder {settings.landing_dir / name} is gone: "
        f"`retention batches remove {name} --reason …` takes it out, or put the folder back"
        for name in lake.batch_names(settings.lake_dir)
        if not (settings.landing_dir / name).exists()
    ]
