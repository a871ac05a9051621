"""Personal data out of the raw text of quarantined records.

The quarantine keeps each record as delivered, so that someone can see what was wrong with it;
personal data must not stay there in clear any more than in the loaded rows. Each field at a
personal-data column is replaced by the salted hash the loaded rows carry (rows.pii_hash_sql, run
by DuckDB itself so the two are the same bytes), which keeps the raw text joinable. A record
whose number of fields is not the header's cannot be trusted to have its fields where the header
says (a stray comma shifts them), so every field from the first personal-data column on is hashed.
"""

from __future__ import annotations

import csv
import io

import duckdb

from .csvrows import past_the_header_trimmed
from .rows import pii_hash_sql


def _fields(raw: str) -> list[str] | None:
    try:
        return next(csv.reader(io.StringIO(raw, newline="")), [])
    except csv.Error:
        return None


def _to_hash(fields: list[str], pii: frozenset[int], width: int) -> set[int]:
    if len(past_the_header_trimmed(list(fields), width)) == width:
        return {i for i in pii if i < len(fields)}
    return set(range(min(pii), len(fields)))


def mask_pii(con: duckdb.DuckDBPyConnection, raws: list[str], pii: frozenset[int], width: int, salt: str) -> list[str]:
    """`raws` (records of a file whose header has `width` columns, `pii` the positions of its
    personal-data columns) with every personal-data field hashed, written back as CSV."""
    if not pii or not raws:
        return raws
    records = []
    for raw in raws:
        fields = _fields(raw)
        # a record even Python's csv module cannot split: all of it is one field that may hold anything
        records.append(([raw], {0}) if fields is None else (fields, _to_hash(fields, pii, width)))
    values = sorted({fields[i] for fields, positions in records for i in positions})
    hashed = dict(con.execute(f"select v, {pii_hash_sql('v', salt)} from unnest(?::varchar[]) t(v)", [values]).fetchall())
    out = []
    for fields, positions in records:
        text = io.StringIO()
        csv.writer(text, lineterminator="").writerow([(hashed[v] or "") if i in positions else v for i, v in enumerate(fields)])
        out.append(text.getvalue())
    return out


# A quarantine reason is `<what>` or `<what>: <the offending value>` (rows.validated_sql, csvrows):
# the kind, and the value (never personal data: the checked columns are not personal-data columns).
REASON_SQL = "split_part(reason, ':', 1)"
VALUE_SQL = "case when strpos(reason, ':') > 0 then trim(substr(reason, strpos(reason, ':') + 1)) end"
# up to 3 distinct offending values of a group, e.g. `shipped, SHIPPED`
EXAMPLES_SQL = f"array_to_string(list_slice(list_sort(list_distinct(list({VALUE_SQL}))), 1, 3), ', ')"
