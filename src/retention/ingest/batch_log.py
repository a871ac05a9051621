"""The lake's batch log: every load, replacement, removal and restore of a batch, who did it and why.

    lake/batch_log.jsonl    one JSON object a line, appended and flushed, never rewritten:
        {"batch": "2024-03-01", "action": "loaded" | "replaced" | "removed" | "restored" | "redelivered",
         "at": "...Z", "by": "user", "reason": "...", "files": {"orders": "<sha256>", ...}, "load_id": "..."}

A batch is *removed* while the last of its removed/restored/redelivered entries is `removed`. A
removed batch stays out of the lake while its landing folder holds the files it was removed with
(`files`): ingest skips it and warns on every run. A corrected re-delivery (other bytes) is loaded and
logged as `redelivered`; `retention batches restore DATE` logs `restored` and the next run loads the
folder again. `audit.removed_batches` in the published file is the removed/restored/redelivered part.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path

from ..durable import fsync

LIFECYCLE = ("removed", "restored", "redelivered")


def log_file(lake: Path) -> Path:
    return lake / "batch_log.jsonl"


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


def append(lake: Path, batch: str, action: str, **fields) -> dict:
    entry = {"batch": batch, "action": action, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "by": who()}
    entry |= fields
    lake.mkdir(parents=True, exist_ok=True)
    path = log_file(lake)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    fsync(lake)
    return entry


def entries(lake: Path) -> list[dict]:
    try:
        lines = log_file(lake).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a crash mid-append: the entries before and after it stand
    return out


def removed(lake: Path) -> dict[str, dict]:
    """The batches removed on purpose and not restored or re-delivered since: batch -> its removal entry."""
    state: dict[str, dict] = {}
    for e in entries(lake):
        if e.get("action") == "removed":
            state[e["batch"]] = e
        elif e.get("action") in LIFECYCLE:
            state.pop(e["batch"], None)
    return state


def load_counts(lake: Path) -> dict[str, int]:
    """How many times each batch was loaded (the first load and every replacement)."""
    counts: dict[str, int] = {}
    for e in entries(lake):
        if e.get("action") in ("loaded", "replaced"):
            counts[e["batch"]] = counts.get(e["batch"], 0) + 1
    return counts


REMOVED_COLUMNS = {
    "batch_date": ("date", "The batch (its landing folder's date)."),
    "action": (
        "varchar",
        "removed (taken out of the lake on purpose), restored (let back in by `retention batches restore`) or "
        "redelivered (loaded again because its files changed after the removal).",
    ),
    "happened_at": ("timestamptz", "When (UTC)."),
    "done_by": ("varchar", "Who: the operating-system user who ran the command."),
    "reason": ("varchar", "Why, as given with --reason."),
    "files": ("varchar", "The files of the batch at that moment, with their sha256 (JSON)."),
}


def removed_batches_sql(lake: Path) -> str:
    """audit.removed_batches: the removed/restored/redelivered entries of the batch log, as a select."""
    rows = [e for e in entries(lake) if e.get("action") in LIFECYCLE]
    if not rows:
        cols = ", ".join(f"cast(NULL as {t}) as {c}" for c, (t, _) in REMOVED_COLUMNS.items())
        return f"select {cols} where false"

    def literal(value) -> str:
        if value is None:
            return "NULL"
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return "'" + text.replace("'", "''") + "'"

    def row(e: dict) -> str:
        key = {"batch_date": "batch", "happened_at": "at", "done_by": "by"}
        return "(" + ", ".join(f"cast({literal(e.get(key.get(c, c)))} as {t})" for c, (t, _) in REMOVED_COLUMNS.items()) + ")"

    values = ", ".join(row(e) for e in rows)
    names = ", ".join(f'"{c}"' for c in REMOVED_COLUMNS)
    return f"select * from (values {values}) as t({names}) order by happened_at, batch_date"
