"""Row-level validation: which records load, and which go to quarantine with a reason.

All in SQL over the records table, so validation costs a scan, not a Python loop per row.
"""
from __future__ import annotations

import datetime as dt

from .mapping import REQUIRED, STATUSES, TIMESTAMPS, ColumnMapping


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


NAIVE_FORMATS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']"


def timestamp_utc(column: str, crm_timezone: str) -> str:
    """Text → naive UTC timestamp: an explicit offset wins, else the text is local time in the CRM's zone."""
    s = f"trim({column})"
    return f"""(case
        when regexp_matches({s}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]\\d{{2}}:\\d{{2}}(:\\d{{2}}(\\.\\d+)?)?(Z|[+-]\\d{{2}}(:?\\d{{2}})?)$')
            then timezone('UTC', try_cast({s} as timestamptz))
        else timezone('UTC', timezone({sql_text(crm_timezone)}, try_strptime({s}, {NAIVE_FORMATS})))
    end)"""


def _status(column: str, mapping: ColumnMapping) -> str:
    words = {s: s for s in STATUSES} | mapping.tables["orders"].status_values
    whens = " ".join(f"when {sql_text(k)} then {sql_text(v)}" for k, v in words.items())
    return f"(case lower(trim({column})) {whens} end)"


def _extras(names: list[str], table: str, mapping: ColumnMapping, salt: str) -> str:
    extras = [n for n in names if n not in REQUIRED[table]]
    if not extras:
        return "cast(null as varchar)"
    pii = mapping.tables[table].pii
    parts = []
    for n in extras:
        value = ident(n)
        if n in pii:  # personal data never leaves ingest in clear: a salted hash still joins
            value = f"case when nullif(trim({value}), '') is not null then sha256({sql_text(salt)} || lower(trim({value}))) end"
        parts.append(f"{sql_text(n)}, {value}")
    return f"cast(json_object({', '.join(parts)}) as varchar)"


def _missing(column: str) -> str:
    return f"nullif(trim({ident(column)}), '') is null"


def validated_sql(records: str, table: str, names: list[str], mapping: ColumnMapping, *,
                  batch_date: dt.date, source_file: str, timezone: str, salt: str,
                  future_tolerance_days: int) -> str:
    """A query over `records` with the typed columns, the lineage and `problem` (NULL = loads)."""
    ts_col = TIMESTAMPS[table]
    crm_tz = mapping.timezone or timezone
    latest_allowed = f"(date {sql_text(batch_date.isoformat())} + interval {int(future_tolerance_days) + 1} day)"
    ts = timestamp_utc(ident(ts_col), crm_tz)
    typed = {
        "customers": {
            "customer_id": "nullif(trim(customer_id), '')",
            "created_at": ts,
            "channel": "nullif(trim(channel), '')",
            "region": "nullif(trim(region), '')",
        },
        "orders": {
            "order_id": "nullif(trim(order_id), '')",
            "customer_id": "nullif(trim(customer_id), '')",
            "ordered_at": ts,
            "amount": "try_cast(trim(amount) as decimal(18, 4))",
            "currency": "upper(nullif(trim(currency), ''))",
            "status": _status("status", mapping),
        },
    }[table]
    checks = [f"when v_{c} is null then 'missing {c}'" for c in ("order_id", "customer_id") if c in typed]
    checks += [
        f"when {_missing(ts_col)} then 'missing {ts_col}'",
        f"when v_{ts_col} is null then 'unparseable {ts_col}: ' || {ident(ts_col)}",
        f"when v_{ts_col} >= {latest_allowed} then '{ts_col} in the future (after the export date {batch_date}): ' || {ident(ts_col)}",
    ]
    if table == "orders":
        checks += [
            f"when {_missing('amount')} then 'missing amount'",
            "when v_amount is null then 'unparseable amount: ' || amount",
            "when v_amount < 0 then 'negative amount: ' || amount",
            "when v_status is null then 'unknown status: ' || coalesce(status, '(empty)')",
        ]
    return f"""
        with typed as (
            select r.*, {', '.join(f'{expr} as v_{col}' for col, expr in typed.items())}
            from {records} r
        )
        select
            date {sql_text(batch_date.isoformat())} as batch_date,
            {sql_text(source_file)} as source_file,
            _line as source_line,
            {', '.join(f'v_{col} as {col}' for col in typed)},
            {_extras(names, table, mapping, salt)} as extra_columns,
            case {' '.join(checks)} end as problem,
            _raw_start, _raw_end
        from typed
    """
