"""Row-level validation: which records load, and which go to quarantine with a reason.

All in SQL over the records table, so validation costs a scan, not a Python loop per row.
"""

from __future__ import annotations

import datetime as dt
import re

from ..sql import sql_text
from .csvrows import column
from .mapping import REQUIRED, STATUSES, TIMESTAMPS, ColumnMapping

PLAIN_WORD = re.compile(r"[a-z0-9_-]+")  # ASCII: DuckDB's lower() and trim() leave it as it is
NAIVE_FORMATS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f']"
FIRST_NAIVE_FORMAT = "'%Y-%m-%d %H:%M:%S'"  # must stay NAIVE_FORMATS' first (see timestamp_utc)
OFFSET_PATTERN = "'^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$'"


def trimmed(column: str, ascii: bool = False) -> str:
    """trim(column); in ASCII text the only space separator trim() removes is ' ', so a value that
    neither starts nor ends with one is left as it is, which is much cheaper than trimming it."""
    if not ascii:
        return f"trim({column})"
    return f"(case when prefix({column}, ' ') or suffix({column}, ' ') then trim({column}) else {column} end)"


def timestamp_utc(column: str, crm_timezone: str, ascii: bool = False) -> str:
    """Text → naive UTC timestamp: an explicit offset wins, else the text is local time in the CRM's zone.

    The naive formats are tried first (the common case, and cheap); only text they do not read is
    matched against ISO 8601 with an offset. A naive time in UTC needs no zone arithmetic at all.

    The first format is tried on the text as it is before anything else: strptime skips ASCII white
    space at both ends, and trim removes only Unicode space separators (of which only ' ' is ASCII),
    so when the untrimmed text reads, the trimmed text reads the same with the same (first) format;
    when it does not, the full rule decides. That spares the trim, and the list, for nearly every row."""
    s = trimmed(column, ascii)
    naive = f"coalesce(try_strptime({column}, {FIRST_NAIVE_FORMAT}), try_strptime({s}, {NAIVE_FORMATS}))"
    if crm_timezone != "UTC":
        naive = f"timezone('UTC', timezone({sql_text(crm_timezone)}, {naive}))"
    with_offset = f"case when regexp_matches({s}, {OFFSET_PATTERN}) then timezone('UTC', try_cast({s} as timestamptz)) end"
    return f"coalesce({naive}, {with_offset})"


def _decimal(column: str, ascii: bool) -> str:
    """Text → decimal(18, 4). The cast skips ASCII white space at both ends itself, so text that reads
    untrimmed reads the same trimmed; only the rest (e.g. a no-break space around it) is trimmed first."""
    return f"coalesce(try_cast({column} as decimal(18, 4)), try_cast({trimmed(column, ascii)} as decimal(18, 4)))"


def _status(column: str, mapping: ColumnMapping, ascii: bool) -> str:
    """The contract status of a CRM status word (lower-cased, trimmed), NULL when unknown.

    Text that is exactly one of the plain lower-case words is looked up as it is (lower and trim
    leave such a word unchanged, so the answer is the same); anything else goes the full way."""
    words = {s: s for s in STATUSES} | mapping.tables["orders"].status_values
    whens = " ".join(f"when {sql_text(k)} then {sql_text(v)}" for k, v in words.items())
    full = f"(case lower({trimmed(column, ascii)}) {whens} end)"
    plain = {k: v for k, v in words.items() if PLAIN_WORD.fullmatch(k)}
    if not plain:
        return full
    fast = " ".join(f"when {sql_text(k)} then {sql_text(v)}" for k, v in plain.items())
    return f"(case {column} {fast} else {full} end)"


def pii_hash_sql(value: str, salt: str) -> str:
    """The salted hash personal data is stored as (NULL for a blank value)."""
    return f"case when nullif(trim({value}), '') is not null then sha256({sql_text(salt)} || lower(trim({value}))) end"


def _extras(names: list[str], table: str, pii: frozenset[int], salt: str) -> str:
    extras = [(i, n) for i, n in enumerate(names) if n not in REQUIRED[table]]
    if not extras:
        return "cast(null as varchar)"
    parts = []
    for i, n in extras:
        value = column(i)
        if i in pii:  # personal data never leaves ingest in clear: a salted hash still joins
            value = pii_hash_sql(value, salt)
        parts.append(f"{sql_text(n)}, {value}")
    # a row with no extra value gets NULL, not an object of NULLs: cheaper, and what the column means
    present = " or ".join(f"{column(i)} is not null" for i, _ in extras)
    return f"case when {present} then cast(json_object({', '.join(parts)}) as varchar) end"


def _typed(table: str, col: dict[str, str], ts: str, mapping: ColumnMapping, ascii: bool) -> dict[str, str]:
    """The contract columns of `table`, typed, as SQL expressions over the record's text columns."""

    def text(name: str) -> str:
        return f"nullif({trimmed(col[name], ascii)}, '')"

    if table == "customers":
        return {"customer_id": text("customer_id"), "created_at": ts, "channel": text("channel"), "region": text("region")}
    return {
        "order_id": text("order_id"),
        "customer_id": text("customer_id"),
        "ordered_at": ts,
        "amount": _decimal(col["amount"], ascii),
        "currency": f"upper({text('currency')})",
        "status": _status(col["status"], mapping, ascii),
    }


def _problems(table: str, col: dict[str, str], batch_date: dt.date, future_tolerance_days: int, ascii: bool) -> list[str]:
    """The `when … then reason` cases of a row's problem, first match wins (NULL: the row loads)."""
    ts_col = TIMESTAMPS[table]
    latest_allowed = f"(timestamp {sql_text(batch_date.isoformat())} + interval {int(future_tolerance_days) + 1} day)"

    def missing(name: str) -> str:
        # only text that did not read can be missing (a value that reads is not blank): test that first
        return f"v_{name} is null and nullif({trimmed(col[name], ascii)}, '') is null"

    cases = [f"when v_{c} is null then 'missing {c}'" for c in ("order_id", "customer_id") if c in col]
    cases += [
        f"when {missing(ts_col)} then 'missing {ts_col}'",
        f"when v_{ts_col} is null then 'unparseable {ts_col}: ' || {col[ts_col]}",
        f"when v_{ts_col} >= {latest_allowed} then '{ts_col} in the future (after the export date {batch_date}): ' "
        f"|| {col[ts_col]}",
    ]
    if table == "orders":
        cases += [
            f"when {missing('amount')} then 'missing amount'",
            f"when v_amount is null then 'unparseable amount: ' || {col['amount']}",
            f"when v_amount < 0 then 'negative amount: ' || {col['amount']}",
            f"when v_status is null then 'unknown status: ' || coalesce({col['status']}, '(empty)')",
        ]
    return cases


def validated_sql(
    records: str,
    table: str,
    names: list[str],
    mapping: ColumnMapping,
    *,
    pii: frozenset[int],
    batch_date: dt.date,
    source_file: str,
    salt: str,
    future_tolerance_days: int,
    ascii: bool = False,
) -> str:
    """A query over `records` (the export's columns by position, see csvrows.column; `names[i]` is
    what column i is: a contract column or an extra column's normalised header; `pii`: the positions of
    the columns holding personal data, see mapping.Header) with the typed columns, the lineage (but the
    line: the record reader adds `source_line`) and `problem` (NULL = loads). It keeps the records'
    order. `ascii`: the records' text is all ASCII (cheaper trims)."""
    col = {name: column(i) for i, name in enumerate(names) if name in REQUIRED[table]}
    crm_tz = mapping.timezone or "UTC"  # docs/reference.md §1: a timestamp without an offset is UTC unless the mapping says
    typed = _typed(table, col, timestamp_utc(col[TIMESTAMPS[table]], crm_tz, ascii), mapping, ascii)
    checks = _problems(table, col, batch_date, future_tolerance_days, ascii)
    return f"""
        with typed as (
            select r.*, {", ".join(f"{expr} as v_{c}" for c, expr in typed.items())}
            from {records} r
        )
        select
            date {sql_text(batch_date.isoformat())} as batch_date,
            {sql_text(source_file)} as source_file,
            {", ".join(f"v_{c} as {c}" for c in typed)},
            {_extras(names, table, pii, salt)} as extra_columns,
            case {" ".join(checks)} end as problem
        from typed
    """
