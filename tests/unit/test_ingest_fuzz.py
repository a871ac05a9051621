"""Property: corrupting a valid export at random never crashes the loader.

Whatever is done to the bytes (cut, bytes inserted, columns swapped, lines duplicated), `ingest`
either rejects the batch with a BatchRejected naming it (a file-level problem), or loads it with
rows read = loaded + quarantined for every file of the manifest, and every quarantined row of the
lake has a line within the file.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.ingest.landing import BatchRejected
from tests.support.lake import Lake
from tests.support.tier import examples

ORDERS = [
    ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"],
    ["o1", "c1", "2024-03-01 10:00:00", "10.50", "USD", "completed"],
    ["o2", "c2", "2024-03-02", "3", "usd", " Pending "],
    ["o3", "c1", "2024-03-02T10:00:00+08:00", "7.25", "EUR", "refunded"],
    ["o4", "c3", "2024-03-03", "0", "USD", "cancelled"],
    ["o5", 'c2, "the second"', "2024-03-04 23:59:59", "1", "USD", "completed"],
    ["o6", "c4", "2024-03-05", "2", "USD", "completed"],
]
CUSTOMERS = [
    ["customer_id", "created_at", "channel", "region", "email"],
    ["c1", "2024-01-01", "web", "north", "a@example.com"],
    ["c2", "2024-01-02", "two\nlines", "华东", "b@example.com"],
    ["c3", "2024-01-03", "ads", "south", ""],
]


def _encode(rows: list[list[str]], encoding: str, newline: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    prefix = "\ufeff" if encoding == "utf-8-sig" else ""
    return (prefix + out.getvalue()).encode("gb18030" if encoding == "gb18030" else "utf-8")


@st.composite
def corrupted(draw, rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    if draw(st.booleans()):  # swap two columns (header included)
        i, j = draw(st.integers(0, len(rows[0]) - 1)), draw(st.integers(0, len(rows[0]) - 1))
        for r in rows:
            r[i], r[j] = r[j], r[i]
    if draw(st.booleans()):  # duplicate a line
        k = draw(st.integers(0, len(rows) - 1))
        rows.insert(draw(st.integers(1, len(rows))), list(rows[k]))
    data = bytearray(
        _encode(rows, draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])), draw(st.sampled_from(["\n", "\r\n"])))
    )
    for _ in range(draw(st.integers(0, 3))):  # insert bytes, favouring the CSV's own specials
        at = draw(st.integers(0, len(data)))
        junk = draw(
            st.one_of(
                st.sampled_from([b'"', b",", b"\n", b"\r", b"\r\n", b'""', b"\xff", b"\x00", b"\xe4\xb8", b" ", b";"]),
                st.binary(min_size=1, max_size=4),
            )
        )
        data[at:at] = junk
    if draw(st.booleans()):  # cut
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 4)) == 0:  # remove a span
        a = draw(st.integers(0, len(data)))
        data[a : a + draw(st.integers(1, 20))] = b""
    return bytes(data)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=corrupted(ORDERS), customers=corrupted(CUSTOMERS))
def test_corrupted_exports_never_crash_the_loader(orders: bytes, customers: bytes):
    base = Path(tempfile.mkdtemp(prefix="ingest-fuzz-"))
    try:
        lake = Lake(base)
        lake.write("2024-03-10/orders.csv", orders)
        lake.write("2024-03-10/customers.csv", customers)
        report = lake.ingest()  # anything but a BatchRejected raised here is a bug
        for e in report.rejected:
            assert isinstance(e, BatchRejected)
            assert str(e).startswith("batch 2024-03-10")
            assert "row accounting" not in str(e), str(e)  # the loader's own consistency check
        if report.rejected:
            assert lake.batches() == []
            return
        lines = {"orders.csv": orders.count(b"\n") + 1, "customers.csv": customers.count(b"\n") + 1}
        for m in report.loaded:
            assert m["rows_read"] == m["rows_loaded"] + m["rows_quarantined"], m
        for name in ("orders", "customers"):
            counts = lake.query(f"select count(*) from {{{name}}}")[0][0]
            assert counts == next(m["rows_loaded"] for m in report.loaded if m["table_name"] == name)
        for source_file, line, reason, _ in lake.quarantine():
            assert 2 <= line <= lines[source_file.split("/")[1]], (source_file, line, reason)
        quarantined = lake.query("select count(*) from {quarantine}")[0][0]
        assert quarantined == sum(m["rows_quarantined"] for m in report.loaded)
    finally:
        shutil.rmtree(base, ignore_errors=True)


NOTES = ["", "plain", "a, b", 'say "hi"', "two\nlines", "three\n\nlines", '"quoted"\nand more']


@st.composite
def valid_export(draw) -> tuple[bytes, dict[str, tuple[int, bool, str]]]:
    """A well-formed export with multi-line notes and blank lines in random places, and for every
    order id the line its record starts on (counted here, line by line), whether it loads, and its
    text (with "\\n" line ends, as the quarantine keeps it)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text, line, expected = "order_id,customer_id,ordered_at,amount,currency,status,note" + newline, 2, {}
    for i in range(draw(st.integers(0, 25))):
        for _ in range(draw(st.integers(0, 1)) * draw(st.integers(1, 2))):  # blank lines before it
            text, line = text + newline, line + 1
        amount = draw(st.sampled_from(["1", "2.50", "x"]))
        out = io.StringIO()
        csv.writer(out, lineterminator=newline).writerow(
            [f"o{i}", "c1", "2024-03-01", amount, "USD", "completed", draw(st.sampled_from(NOTES))]
        )
        record = out.getvalue()
        expected[f"o{i}"] = (line, amount != "x", record.replace("\r\n", "\n").removesuffix("\n"))
        text, line = text + record, line + record.count("\n")
    return text.encode(), expected


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export=valid_export())
def test_every_record_keeps_the_line_it_starts_on(export: tuple[bytes, dict[str, tuple[int, bool, str]]]):
    data, expected = export
    base = Path(tempfile.mkdtemp(prefix="ingest-lines-"))
    try:
        lake = Lake(base)
        lake.write("2024-03-10/orders.csv", data)
        report = lake.ingest()
        assert not report.rejected, [str(e) for e in report.rejected]
        loaded = dict(lake.query("select order_id, source_line from {orders}"))
        quarantined = {raw.split(",", 1)[0]: (line, raw) for _, line, _, raw in lake.quarantine()}
        assert loaded == {k: line for k, (line, ok, _) in expected.items() if ok}
        assert quarantined == {k: (line, text) for k, (line, ok, text) in expected.items() if not ok}
        assert lake.manifest("orders.csv")["parser"] == "duckdb"  # regular quoting: the fast reader
    finally:
        shutil.rmtree(base, ignore_errors=True)


FRAGMENTS = [
    "plain",
    "",
    '6" screen',
    'a"b',
    'x"',
    '"q"',
    '"a,b"',
    'a""b',
    ' "a"',
    '"a" ',
    '"a"b',
    '""',
    '"',
    'say ""hi""',
    '"x""y"',
    '"two\nlines"',
]


@st.composite
def loosely_quoted_export(draw) -> bytes:
    """Fields written as text, not by a CSV writer: quotes where RFC 4180 does and does not allow them,
    and now and then a field too many or too few."""
    lines = ["order_id,customer_id,ordered_at,amount,currency,status,note,region"]
    pool = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4, unique=True))  # a few shapes a file
    for i in range(draw(st.integers(1, 12))):
        note, region = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        fields = f"o{i},c1,2024-03-01,{draw(st.sampled_from(['1', 'x']))},USD,completed,{note},{region}"
        width = draw(st.sampled_from(["", "", "", "extra", "drop"]))  # a field too many or too few
        lines.append(fields + ",x" if width == "extra" else fields.rsplit(",", 1)[0] if width == "drop" else fields)
    return ("\n".join(lines) + "\n").encode()


def _lake_contents(data: bytes, python_only: bool) -> tuple:
    from retention.ingest import csvrows

    base = Path(tempfile.mkdtemp(prefix="ingest-diff-"))
    try:
        with pytest.MonkeyPatch.context() as mp:
            if python_only:
                mp.setattr(csvrows, "_fast", lambda *args, **kwargs: None)
            lake = Lake(base)
            lake.write("2024-03-10/orders.csv", data)
            report = lake.ingest()
        if report.rejected:
            return ("rejected", [str(e) for e in report.rejected])
        m = lake.manifest("orders.csv")
        return (
            lake.query("select order_id, source_line, extra_columns from {orders} order by all"),
            lake.quarantine(),
            (m["rows_read"], m["rows_loaded"], m["rows_quarantined"]),
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=loosely_quoted_export())
def test_duckdb_reads_loose_quotes_as_the_python_reader_does(data: bytes):
    """Whichever reader takes a file, the lake gets the same rows, lines, quarantine and counts."""
    assert _lake_contents(data, python_only=False) == _lake_contents(data, python_only=True)
