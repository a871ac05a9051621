"""File-level checks and decoding of one CRM export, before any row is read.

A problem found here concerns the whole file (contract §1, last point): the batch is rejected and
nothing of it is loaded. What passes is handed on as UTF-8 bytes with `\\n` line ends and a final
line end, so that the row reader sees one dialect only.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


class FileProblem(ValueError):
    """The whole file is unusable; the message says why in words a CRM admin understands."""


@dataclass(frozen=True)
class DecodedExport:
    data: bytes          # UTF-8, "\n" line ends, ends with "\n"
    encoding: str        # what the file was written in: utf-8, utf-8-sig, gb18030
    header: list[str]    # the header row's fields as written
    rewritten: bool      # data differs from the file's bytes (so the reader needs a copy)


def _decode(raw: bytes) -> tuple[str, bytes]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("UTF-16 encoded; export as UTF-8 or GB18030")
    if raw.startswith(UTF8_BOM):
        body = raw[len(UTF8_BOM):]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileProblem(f"undecodable bytes at byte {e.start + 3}: has a UTF-8 BOM but is not UTF-8") from None
        return "utf-8-sig", body
    try:
        raw.decode("utf-8")
        return "utf-8", raw
    except UnicodeDecodeError as utf8_error:
        try:
            return "gb18030", raw.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            raise FileProblem(
                f"undecodable bytes at byte {utf8_error.start}: neither UTF-8 nor GB18030") from None


def _header(data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8")
    try:
        fields = next(csv.reader(io.StringIO(first)), [])
    except csv.Error as e:
        raise FileProblem(f"header row is not valid CSV: {e}") from None
    if not any(f.strip() for f in fields):
        raise FileProblem("no header row (the first line is empty)")
    if len(fields) == 1:
        for sep, name in OTHER_DELIMITERS.items():
            if sep in fields[0]:
                raise FileProblem(f"wrong delimiter: the header is {name}-separated; exports must be comma-separated")
    if any(not f.strip() for f in fields):
        raise FileProblem(f"header has an empty column name: {first.strip()!r}")
    return fields


def _check_ending(data: bytes, columns: int) -> bytes:
    if data.count(b'"') % 2:
        raise FileProblem("truncated: the file ends inside a quoted field")
    if data.endswith(b"\n"):
        return data
    last = data.rsplit(b"\n", 1)[-1].decode("utf-8")
    fields = next(csv.reader(io.StringIO(last)), [])
    if len(fields) != columns:
        line = data.count(b"\n") + 1
        raise FileProblem(f"truncated last line: line {line} has {len(fields)} of {columns} fields and no line end")
    return data + b"\n"


def decode_export(raw: bytes) -> DecodedExport:
    if not raw:
        raise FileProblem("zero-byte file (an export without rows still needs its header row)")
    if b"\x00" in raw:
        raise FileProblem("binary file: contains NUL bytes, not a CSV export")
    encoding, data = _decode(raw)
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    header = _header(data)
    data = _check_ending(data, len(header))
    return DecodedExport(data, encoding, header, rewritten=data != raw)
