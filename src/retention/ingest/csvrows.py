"""Splitting a decoded export into records, validating them, and writing them to the lake.

DuckDB's CSV reader does the work, streaming from the file through the validating query straight
into Parquet (no table in between, no join: that is what keeps loading close to `read_csv` speed).
A streaming read cannot number its rows without giving up its parallelism, so the records go out
in file order without their lines; where a record's line is not its position + 2 (a file with
multi-line records or blank lines) it goes to a side file instead (see lake.py). Lines come from
the quote parity at every line end. Parity is exact when every quote in the file sits where RFC 4180
allows one (opening a field, closing it, or doubled inside a quoted field); `quoting_is_regular`
checks that on the quote positions alone, so it costs next to nothing on ordinary files. Irregular
quoting that both readers read alike (`_quotes_read_alike`), and records with the wrong number of
fields, stay with DuckDB while every record is one line. Any other file goes through Python's csv
module: slower, but it keeps every record and says exactly which lines were wrong.

Columns are named by position (`c0`, `c1`, …) whatever the export's header says, so no header —
`_line`, `v_amount`, two spellings DuckDB thinks are one name — can collide with the loader's own.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..sql import sql_text
from .decode import FileProblem
from .lake import FIRST_RECORD_LINE, PARQUET

NEWLINE, QUOTE, COMMA, SPACE, TAB = 10, 34, 44, 32, 9
FIELD_SIZE_LIMIT = 1 << 24  # same as DuckDB's max_line_size below
# DuckDB's default buffer: with a max_line_size this large it would otherwise pick a bigger buffer, which
# reads ~15% slower (fewer buffers to share between threads); lines up to the limit still read whole
BUFFER_SIZE = 32_000_000


@dataclass(frozen=True)
class Reject:
    line: int
    raw: str
    reason: str


@dataclass
class Records:
    rows_read: int  # records, blank lines excluded
    rejects: list[Reject]  # records that could not be split into the header's fields
    parser: str  # "duckdb" or "python"
    _data: bytes
    _scan: _Scan
    _one_line: bool = False  # every record one line
    _spans: dict[int, tuple[int, int]] | None = None  # start line -> (start byte, end byte)

    def raw_text(self, lines: list[int]) -> dict[int, str]:
        """The text of the records starting on these lines, as delivered (after decoding)."""
        if not lines:
            return {}
        if self._spans is None:
            scan = self._scan
            wanted = np.asarray(sorted(set(lines)), dtype=np.int64)
            newlines = scan.newlines
            starts = newlines[wanted - 2] + 1  # line L starts after the (L-1)-th line end
            if self._one_line:
                ends = newlines[wanted - 1]
            else:  # a record ends at the first line end outside quotes from its own first line on
                ends = newlines[scan.closing[np.searchsorted(scan.closing, wanted - 1)]]
            self._spans = dict(zip(wanted.tolist(), zip(starts.tolist(), ends.tolist())))
        return {line: self._data[slice(*self._spans[line])].decode("utf-8", "replace") for line in lines}


def column(i: int) -> str:
    """The name of the export's i-th column in the records table."""
    return f"c{i}"


class _Scan:
    """Where the line ends and quotes of the data are, found in one pass over cache-sized chunks
    (cheaper than one whole-buffer pass per byte value, or than counting the line ends apart)."""

    CHUNK = 1 << 20

    def __init__(self, data: bytes):
        self.buf = buf = np.frombuffer(data, dtype=np.uint8)
        quoted = b'"' in data
        quotes, newlines = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        mask = np.empty(min(self.CHUNK, len(buf)), dtype=bool)
        for at in range(0, len(buf), self.CHUNK):
            chunk = buf[at : at + self.CHUNK]
            hit = mask[: len(chunk)]
            if quoted:
                np.equal(chunk, QUOTE, out=hit)
                quotes.append(np.flatnonzero(hit) + at)
            np.equal(chunk, NEWLINE, out=hit)
            newlines.append(np.flatnonzero(hit) + at)
        self.quotes = np.concatenate(quotes)
        self.newlines = np.concatenate(newlines)

    @cached_property
    def closing(self) -> np.ndarray:
        """Which line ends (indexes into `newlines`) are outside quotes, so close a record (the first,
        the header; any may close a blank line) — by quote parity, exact when `quoting_is_regular`."""
        return np.flatnonzero(np.searchsorted(self.quotes, self.newlines) % 2 == 0)

    @cached_property
    def blank_lines(self) -> bool:
        return len(self.newlines) > 0 and (self.newlines[0] == 0 or bool(np.any(np.diff(self.newlines) == 1)))


def quoting_is_regular(scan: _Scan) -> bool:
    """True when every quote opens a field, closes one, or is half of a doubled quote inside one.

    The k-th quote (from 0) has k quotes before it: with even k it is outside a quoted field by
    parity, so it must open a field (after a comma, a line end or at the start) or be the second
    half of a doubled quote (right after the previous quote). With odd k it must end the field (a
    comma or line end follows) or be the first half of a doubled quote. When all of them pass,
    parity agrees with an RFC 4180 parser at every byte."""
    q, buf = scan.quotes, scan.buf
    if len(q) == 0:
        return True
    size = len(buf)
    prev = np.where(q > 0, buf[np.maximum(q - 1, 0)], NEWLINE)
    nxt = np.where(q + 1 < size, buf[np.minimum(q + 1, size - 1)], NEWLINE)
    even = (np.arange(len(q)) % 2) == 0
    opens_ok = (prev == COMMA) | (prev == NEWLINE) | (prev == QUOTE)
    closes_ok = (nxt == COMMA) | (nxt == NEWLINE) | (nxt == QUOTE)
    return bool(np.all(np.where(even, opens_ok, closes_ok)))


def record_lines(scan: _Scan) -> np.ndarray:
    """The line every non-blank data record after the one-line header starts on (see `_Scan.closing`)."""
    closing = scan.closing
    lines = closing[:-1] + 2  # the line after the previous record's last
    if scan.blank_lines:
        newlines = scan.newlines
        blank = newlines[closing[1:]] == newlines[closing[:-1]] + 1
        lines = lines[~blank]
    return lines


def _line_of(scan: _Scan, offset: int) -> int:
    return int(np.searchsorted(scan.newlines, offset, side="right")) + 1


def _one_line_records(scan: _Scan) -> bool:
    """Every record is exactly one line and no line is blank (quoting being regular, so that quotes
    pair up as the opening and closing quote of a field, or the halves of a doubled one)."""
    if scan.blank_lines:
        return False
    opens, closes = scan.quotes[0::2], scan.quotes[1::2]
    return bool(np.array_equal(np.searchsorted(scan.newlines, opens), np.searchsorted(scan.newlines, closes)))


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    con.execute(f"copy ({query}) to {sql_text(str(target))} ({PARQUET})")


def write_lines(con: duckdb.DuckDBPyConnection, lines: np.ndarray, target: Path) -> None:
    """The side file of lines: (record, source_line) for every record not on line record + 2."""
    lines = np.asarray(lines, dtype=np.int64)
    records = np.arange(len(lines), dtype=np.int64)
    off = lines != records + FIRST_RECORD_LINE
    con.register("_csv_lines", pd.DataFrame({"record": records[off], "source_line": lines[off]}))
    try:
        _copy(con, "select record, source_line from _csv_lines", target)
    finally:
        con.unregister("_csv_lines")


def _count(con: duckdb.DuckDBPyConnection, target: Path) -> int:
    return con.execute(f"select count(*) from read_parquet({sql_text(str(target))})").fetchall()[0][0]


def _quotes_read_alike(scan: _Scan) -> bool:
    """DuckDB's reader and Python's csv module read a quote inside an unquoted field (`6" screen`)
    the same way, as text. They part where only white space stands between a quote and the field's
    edge: DuckDB reads ` "a"` and `"a" ` as `a`, Python as ` "a"` and as an error. So a file with
    irregular quoting but none of that may go to DuckDB, on the condition `_fast` checks: every
    record one line."""
    q, buf, size = scan.quotes, scan.buf, len(scan.buf)
    prev, nxt = buf[np.maximum(q - 1, 0)], buf[np.minimum(q + 1, size - 1)]
    for at in q[(prev == SPACE) | (prev == TAB)].tolist():  # white space back to the field's start?
        while at > 0 and buf[at - 1] in (SPACE, TAB):
            at -= 1
        if at == 0 or buf[at - 1] in (COMMA, NEWLINE):
            return False
    for at in q[(nxt == SPACE) | (nxt == TAB)].tolist():  # white space on to the field's end?
        while at + 1 < size and buf[at + 1] in (SPACE, TAB):
            at += 1
        if at + 1 == size or buf[at + 1] in (COMMA, NEWLINE):
            return False
    return True


def _fast(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    data: bytes,
    width: int,
    scan: _Scan,
    terminated: bool,
    query: Callable[[str], str],
    target: Path,
    lines_target: Path,
    regular: bool,
) -> Records | None:
    """DuckDB's reader. With irregular quoting, parity says nothing about where records end, but as
    many records as lines after the header (and no blank line) means every record is one line."""
    columns = "{" + ", ".join(f"'{column(i)}': 'VARCHAR'" for i in range(width)) + "}"
    rej, scan_t = "_csv_rejects", "_csv_scan"
    source = (
        f"read_csv({sql_text(str(path))}, columns={columns}, header=true, auto_detect=false, delim=',', "
        f"quote='\"', escape='\"', new_line='\\n', strict_mode=true, store_rejects=true, "
        f"rejects_table='{rej}', rejects_scan='{scan_t}', max_line_size={FIELD_SIZE_LIMIT}, "
        f"buffer_size={BUFFER_SIZE})"
    )
    one_line = _one_line_records(scan) if regular else not scan.blank_lines
    if not (regular or one_line):
        return None
    lines = np.zeros(0, dtype=np.int64) if one_line else record_lines(scan)
    try:
        # one pass: DuckDB splits the records, the query validates them, Parquet takes them as they stream by
        _copy(con, query(source), target)
        rejected = con.execute(
            f"select line, list(distinct error_type), any_value(csv_line) from {rej} group by line order by line"
        ).fetchall()
    except duckdb.Error:  # e.g. a lone "\r": DuckDB's state machine gives up; Python's reader does not
        rejected = None
    finally:
        con.execute(f"drop table if exists {rej}; drop table if exists {scan_t}")
    records = len(scan.newlines) - 1 if one_line else len(lines)
    # records DuckDB set aside are quarantined as Python's reader would, when they are simple enough
    # to be sure of: one-line records in a file of one-line records, with the wrong number of fields
    rejects = (
        [] if rejected == [] else _wrong_widths(rejected, data, scan, width) if rejected and one_line and terminated else None
    )
    if rejects is None or _count(con, target) != records - len(rejects):
        target.unlink(missing_ok=True)
        return None
    if rejects:  # the records after a rejected one are no longer on their position + 2
        kept = np.ones(records, dtype=bool)
        kept[np.asarray([r.line for r in rejects]) - FIRST_RECORD_LINE] = False
        lines = np.arange(FIRST_RECORD_LINE, records + FIRST_RECORD_LINE)[kept]
    write_lines(con, lines, lines_target)
    return Records(records, rejects, "duckdb", data, scan, one_line)


WIDTH_ERRORS = {"TOO MANY COLUMNS", "MISSING COLUMNS"}


def _wrong_widths(rejected: list[tuple], data: bytes, scan: _Scan, width: int) -> list[Reject] | None:
    """DuckDB's rejected records (line, error types, text) as quarantined records, or None unless each
    is a whole line of the file with the wrong number of fields, as Python's csv module counts them."""
    out = []
    for line, kinds, text in rejected:
        if not set(kinds) <= WIDTH_ERRORS or not FIRST_RECORD_LINE <= line <= len(scan.newlines):
            return None
        raw = data[int(scan.newlines[line - 2]) + 1 : int(scan.newlines[line - 1])].decode("utf-8")
        if raw != text:
            return None
        try:
            found = len(past_the_header_trimmed(next(csv.reader([raw], strict=True)), width))
        except csv.Error:
            return None
        if found == width:
            return None
        out.append(Reject(line, raw, _wrong_width(width, found)))
    return out


def past_the_header_trimmed(fields: list[str], width: int) -> list[str]:
    """Without the empty fields past the header's last column (`…,completed,,`): a trailing
    delimiter is not data. DuckDB's reader drops them too, so both readers agree on such rows."""
    while len(fields) > width and fields[-1] == "":
        fields.pop()
    return fields


def _wrong_width(width: int, found: int) -> str:
    return f"wrong number of fields: expected {width}, found {found}"


class _Lines:
    """The text's lines, split on "\\n" only (a stray "\\r" is data, not a line end), counted."""

    def __init__(self, text: str):
        self.text, self.pos, self.count = text, 0, 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.text):
            raise StopIteration
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end + 1
        line, self.pos = self.text[self.pos : end], end
        self.count += 1
        return line

    @property
    def exhausted(self) -> bool:
        return self.pos >= len(self.text)


class _CsvModuleRecords:
    """The records as Python's csv module splits them (strict, lines split on "\\n" only): the
    well-formed ones column by column (an empty field as None) with the line each starts on and its
    bytes, the others as rejects. A file cut off inside a quoted field or in its last record is a
    FileProblem."""

    def __init__(self, data: bytes, width: int, scan: _Scan, terminated: bool):
        if csv.field_size_limit() < FIELD_SIZE_LIMIT:
            csv.field_size_limit(FIELD_SIZE_LIMIT)
        self.data, self.width, self.terminated = data, width, terminated
        self._line_offsets = np.concatenate(([0], scan.newlines + 1))
        self._total_lines = len(scan.newlines)
        self._lines = _Lines(data.decode("utf-8"))
        self.rows_read = 0  # records, blank lines excluded
        self.columns: list[list[str | None]] = [[] for _ in range(width)]
        self.source_lines: list[int] = []
        self.spans: dict[int, tuple[int, int]] = {}
        self.rejects: list[Reject] = []

    def read(self) -> None:
        reader = csv.reader(self._lines, strict=True)
        try:
            next(reader)  # the header: one line, checked already
        except csv.Error as e:
            raise FileProblem(f"header row is not valid CSV: {e}") from None
        first_line = self._lines.count + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                self._unreadable(first_line, e)
            else:
                self._record(first_line, fields)
            first_line = self._lines.count + 1  # the line after the record's last

    def _span(self, first: int, last: int) -> tuple[int, int]:
        """The bytes of lines first..last, without the last "\\n"."""
        return int(self._line_offsets[first - 1]), int(self._line_offsets[min(last, self._total_lines)]) - 1

    def _reject(self, first_line: int, span: tuple[int, int], reason: str) -> None:
        start, end = span
        self.rejects.append(Reject(first_line, self.data[start:end].decode("utf-8", "replace"), reason))

    def _unreadable(self, first_line: int, error: csv.Error) -> None:
        """A record the csv module could not split, which ends on the line it stopped reading at."""
        if self._lines.exhausted and "unexpected end of data" in str(error):
            raise FileProblem(f"truncated: the file ends inside a quoted field that opens on line {first_line}") from None
        span = self._span(first_line, self._lines.count)
        self.rows_read += 1
        self._reject(first_line, span, f"unreadable record: {error}")

    def _record(self, first_line: int, fields: list[str]) -> None:
        """A record split into fields (none: a blank line), kept when it has the header's width."""
        span = self._span(first_line, self._lines.count)
        if not fields:
            return
        self.rows_read += 1
        fields = past_the_header_trimmed(fields, self.width)
        if len(fields) != self.width:
            if not self.terminated and self._lines.exhausted:
                raise FileProblem(
                    f"truncated last line: line {first_line} has {len(fields)} of {self.width} fields and no line end"
                )
            self._reject(first_line, span, _wrong_width(self.width, len(fields)))
            return
        for values, value in zip(self.columns, fields):
            values.append(value if value != "" else None)
        self.source_lines.append(first_line)
        self.spans[first_line] = span


def _write_columns(
    con: duckdb.DuckDBPyConnection, columns: list[list[str | None]], query: Callable[[str], str], target: Path
) -> None:
    """`query` over the records given column by column (c0, c1, … as VARCHAR), to the Parquet file `target`."""
    frame = pd.DataFrame({column(i): pd.Series(values, dtype=object) for i, values in enumerate(columns)})
    con.register("_csv_frame", frame)
    try:
        casts = ", ".join(f"cast({column(i)} as varchar) as {column(i)}" for i in range(len(columns)))
        _copy(con, query(f"(select {casts} from _csv_frame)"), target)
    finally:
        con.unregister("_csv_frame")


def _python(
    con: duckdb.DuckDBPyConnection,
    data: bytes,
    width: int,
    scan: _Scan,
    terminated: bool,
    query: Callable[[str], str],
    target: Path,
    lines_target: Path,
) -> Records:
    """Python's csv module: slower than DuckDB's reader, but it reads any file, keeps every record and
    says exactly which lines were wrong."""
    records = _CsvModuleRecords(data, width, scan, terminated)
    records.read()
    _write_columns(con, records.columns, query, target)
    write_lines(con, np.asarray(records.source_lines, dtype=np.int64), lines_target)
    return Records(records.rows_read, records.rejects, "python", data, scan, False, records.spans)


def write_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    data: bytes,
    width: int,
    terminated: bool,
    query: Callable[[str], str],
    target: Path,
    lines_target: Path,
) -> Records:
    """Split `data` (decoded: UTF-8, "\\n" line ends, a final line end, a one-line header of
    `width` fields; `path` holds exactly these bytes) into records, and write `query(source)` — a
    SELECT over `source`, whose columns are c0..c{width-1} (VARCHAR, NULL when empty), that keeps
    the rows in order — to the Parquet file `target` in record order, and the lines of the records
    not on their position + 2 to `lines_target` (see write_lines).

    `terminated`: the file as delivered ended with a line end. When it did not and its last record
    is short, the file was cut off: FileProblem. So is a file that ends inside a quoted field."""
    scan = _Scan(data)
    regular = quoting_is_regular(scan)
    if regular and len(scan.quotes) % 2:
        opened = int(scan.quotes[-1])
        raise FileProblem(f"truncated: the file ends inside a quoted field that opens on line {_line_of(scan, opened)}")
    if regular or _quotes_read_alike(scan):
        records = _fast(con, path, data, width, scan, terminated, query, target, lines_target, regular)
        if records is not None:
            return records
    return _python(con, data, width, scan, terminated, query, target, lines_target)
