"""What `retention status` shows, as data: the text view (report.py) and `status --json` read the same
model, so the two never disagree. The shape is pydantic's, documented by `retention status --help`;
`SCHEMA_VERSION` changes when a field is renamed or removed (adding one does not).

Counts come from the lake's manifest (rows read / loaded / quarantined per file, docs/reference.md
"Input"); quarantine reasons from the lake's quarantine, grouped like `audit.quarantine_summary`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, Field

from .config import Settings
from .database import connect
from .ingest import lake
from .ingest.quarantine import EXAMPLES_SQL, REASON_SQL
from .outputs.sets import locations
from .run_record import last_run_file, rejections_file
from .warehouse.publish import read_marker

SCHEMA_VERSION = 1


class LastRun(BaseModel):
    what: str = Field(description="the command or DAG task, e.g. `retention run`")
    run_id: str | None = None
    status: str = Field(description="`failed`, `published warehouse`, `published snapshot`, `up to date`, …")
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = Field(None, description="the one-line error of a failed run")
    warnings: list[str] = []


class RejectedBatch(BaseModel):
    batch: str
    file: str | None
    problem: str


class FileCounts(BaseModel):
    table: str = Field(description="`customers` or `orders`")
    file: str = Field(description="the export's file name in the batch folder")
    present: bool = Field(description="false: the batch lacks this file")
    encoding: str | None = None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


class Batch(BaseModel):
    batch_date: dt.date
    loaded_at: str | None = Field(None, description="UTC, `YYYY-MM-DD HH:MM:SS`")
    files: list[FileCounts]

    def counts(self, table: str) -> tuple[int, int, int] | None:
        """Rows read, loaded, quarantined of the batch's `table` file (0 when the batch lacks it, as the
        manifest records it); None when the manifest has no row for it."""
        found = [f for f in self.files if f.table == table]
        if not found:
            return None
        return (
            sum(f.rows_read for f in found),
            sum(f.rows_loaded for f in found),
            sum(f.rows_quarantined for f in found),
        )

    @property
    def files_absent(self) -> list[str]:
        return [f.file for f in self.files if not f.present]


class QuarantineGroup(BaseModel):
    batch_date: dt.date
    file: str = Field(description="`BATCH/FILE` as in the lake")
    reason: str = Field(description="the reason without its value, e.g. `unknown status`")
    example_values: str = Field(description="up to 3 distinct offending values, comma-separated")
    rows: int
    first_line: int


class QuarantineReason(BaseModel):
    reason: str
    example_values: str
    rows: int
    files: int


class Published(BaseModel):
    warehouse: str
    exists: bool
    as_of: str | None = Field(None, description="the published marts' as-of date (from the published marker)")
    run_id: str | None = None
    published_at: str | None = None


class OutputLocation(BaseModel):
    path: str
    exists: bool


class Outputs(BaseModel):
    folder: OutputLocation
    report: OutputLocation
    parquet: OutputLocation
    docs: OutputLocation
    data_docs: OutputLocation


class Status(BaseModel):
    schema_version: int = SCHEMA_VERSION
    landing_dir: str
    last_run: LastRun | None = Field(None, description="null: no run recorded in this state folder")
    rejected_batches: list[RejectedBatch] = Field(description="batches the last ingest rejected (none of them loaded)")
    batches: list[Batch] = Field(description="batches in the lake, by date")
    quarantine: list[QuarantineGroup] = Field(description="quarantined rows by batch, file and reason")
    quarantine_reasons: list[QuarantineReason] = Field(description="quarantined rows and files per reason, overall")
    published: Published
    outputs: Outputs


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _last_run(settings: Settings) -> LastRun | None:
    last = _json(last_run_file(settings))
    if not last:
        return None
    return LastRun(**{k: last.get(k) for k in LastRun.model_fields if k in last} | {"warnings": last.get("warnings") or []})


def _lake(settings: Settings) -> tuple[list[Batch], list[QuarantineGroup], list[QuarantineReason]]:
    if not lake.has_batches(settings.lake_dir):
        return [], [], []
    manifest = f"({lake.table_sql(settings.lake_dir, 'manifest')})"
    quarantine = f"({lake.table_sql(settings.lake_dir, 'quarantine')})"
    con = connect(settings)
    try:
        files = con.execute(f"""
            select batch_date, strftime(loaded_at, '%Y-%m-%d %H:%M:%S'), table_name, file_name, present, encoding,
                   coalesce(rows_read, 0), coalesce(rows_loaded, 0), coalesce(rows_quarantined, 0)
            from {manifest} order by batch_date, table_name""").fetchall()
        groups = con.execute(f"""
            select batch_date, source_file, {REASON_SQL} as reason, {EXAMPLES_SQL}, count(*), min(source_line)
            from {quarantine} group by all order by 1, 2, 5 desc, 3""").fetchall()
        totals = con.execute(f"""
            select {REASON_SQL} as reason, {EXAMPLES_SQL}, count(*), count(distinct source_file)
            from {quarantine} group by 1 order by 3 desc, 1""").fetchall()
    finally:
        con.close()
    batches: dict[dt.date, Batch] = {}
    for day, loaded_at, table, name, present, encoding, read, loaded, quarantined in files:
        batch = batches.setdefault(day, Batch(batch_date=day, loaded_at=loaded_at, files=[]))
        batch.loaded_at = min(filter(None, [batch.loaded_at, loaded_at]), default=None)
        batch.files.append(FileCounts(table=table, file=name, present=present, encoding=encoding,
                                      rows_read=read, rows_loaded=loaded, rows_quarantined=quarantined))  # fmt: skip
    return (
        list(batches.values()),
        [
            QuarantineGroup(batch_date=g[0], file=g[1], reason=g[2], example_values=g[3] or "", rows=g[4], first_line=g[5])
            for g in groups
        ],
        [QuarantineReason(reason=t[0], example_values=t[1] or "", rows=t[2], files=t[3]) for t in totals],
    )


def _published(settings: Settings) -> Published:
    marker = read_marker(settings) or {}
    exists = settings.warehouse.exists()
    return Published(
        warehouse=str(settings.warehouse),
        exists=exists,
        as_of=marker.get("as_of") if exists else None,
        run_id=marker.get("run_id") if exists else None,
        published_at=marker.get("published_at") if exists else None,
    )


def _outputs(settings: Settings) -> Outputs:
    where = locations(settings)
    return Outputs(**{name: OutputLocation(path=str(getattr(where, name)), exists=getattr(where, name).exists())
                      for name in Outputs.model_fields})  # fmt: skip


def collect_status(settings: Settings) -> Status:
    batches, groups, reasons = _lake(settings)
    rejected = _json(rejections_file(settings)).get("rejected") or []
    return Status(
        landing_dir=str(settings.landing_dir),
        last_run=_last_run(settings),
        rejected_batches=[RejectedBatch(batch=r["batch"], file=r.get("file"), problem=r["problem"]) for r in rejected],
        batches=batches,
        quarantine=groups,
        quarantine_reasons=reasons,
        published=_published(settings),
        outputs=_outputs(settings),
    )


def json_help() -> str:
    """The shape of `status --json`, for the command's help: every field with its type and meaning."""
    lines = [f"JSON (schema_version {SCHEMA_VERSION}):"]

    def describe(model: type[BaseModel], indent: str) -> None:
        for name, field in model.model_fields.items():
            kind = _type_name(field.annotation)
            note = f" — {field.description}" if field.description else ""
            lines.append(f"{indent}{name}: {kind}{note}")
            inner = _model_in(field.annotation)
            if inner is not None:
                describe(inner, indent + "  ")

    describe(Status, "  ")
    return "\n".join(lines)


def _type_name(annotation: object) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is list and args:
        return f"list of {_type_name(args[0])}"
    if args:  # X | None
        return " | ".join("null" if a is type(None) else _type_name(a) for a in args)
    return str(annotation)


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model a field holds (directly, in a list, or optional), for the help's nesting."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
