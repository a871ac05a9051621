"""File-level checks and decoding of one CRM export, before any row is read.

A problem found here concerns the whole file (docs/reference.md §1, last point): the batch is rejected and
nothing of it is loaded. What passes is handed on as UTF-8 bytes with `\\n` line ends and a final
line end, so that the row reader sees one dialect only. (Whether the file ends inside a quoted field
or with a cut-off record is decided by the row reader, which knows where records end.)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from .charset import Undecided, decode_legacy

UTF8_BOM = b"\xef\xbb\xbf"
BLANK = b" \t\r\n\xef\xbb\xbf"
BLANK_BYTES = {BLANK[i : i + 1] for i in range(len(BLANK))}
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


class FileProblem(ValueError):
    """The whole file is unusable; the message says why in words a CRM admin understands."""


@dataclass(frozen=True)
class DecodedExport:
    data: bytes  # UTF-8, "\n" line ends, ends with "\n"
    encoding: str  # what the file was written in: utf-8, utf-8-sig, gb18030, cp1252 (or the mapping's codec)
    header: list[str]  # the header row's fields as written (one line)
    terminated: bool  # the file as delivered ended with a line end (else its last record may be cut off)
    rewritten: bool  # data differs from the file's bytes (so the reader needs a copy)
    ascii: bool = False  # data is all ASCII (so the only white space trim() removes is ' ')


def _decode(raw: bytes) -> tuple[str, bytes]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("UTF-16 encoded; export as UTF-8 or GB18030")
    if raw.startswith(UTF8_BOM):
        body = raw[len(UTF8_BOM) :]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileProblem(f"undecodable bytes at byte {e.start + 3}: has a UTF-8 BOM but is not UTF-8") from None
        return "utf-8-sig", body
    if raw.isascii():  # ASCII is UTF-8; this test is ~10x cheaper than decoding
        return "utf-8", raw
    try:
        raw.decode("utf-8")
        return "utf-8", raw
    except UnicodeDecodeError as utf8_error:
        try:
            return decode_legacy(raw, utf8_error.start)
        except Undecided as e:
            raise FileProblem(str(e)) from None


def _decode_as(raw: bytes, codec: str) -> tuple[str, bytes]:
    """The file in the codec the column mapping names: no guessing, and no BOM in the text."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as e:
        raise FileProblem(f"undecodable bytes at byte {e.start}: not {codec}, the encoding the column mapping sets") from None
    return codec, text.removeprefix("\ufeff").encode("utf-8")


def _header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8")
    if first.count('"') % 2:
        raise FileProblem("header row is not valid CSV: unbalanced quotes (a header name may not hold a line break)")
    try:
        fields = next(csv.reader(iter([first]), strict=True), [])
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


def decode_export(raw: bytes, encoding: str | None = None) -> DecodedExport:
    """`encoding`: the codec the column mapping sets (Python's name for it); None: detect it."""
    if not raw:
        raise FileProblem("zero-byte file (an export without rows still needs its header row)")
    if encoding is None and raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # before the NUL test: UTF-16 is full of NULs
        raise FileProblem("UTF-16 encoded; export as UTF-8 or GB18030")
    if encoding is None and b"\x00" in raw:
        raise FileProblem("binary file: contains NUL bytes, not a CSV export")
    encoding, data = _decode(raw) if encoding is None else _decode_as(raw, encoding)
    if b"\x00" in data:  # (a set codec: the text, not the bytes, must be free of NULs)
        raise FileProblem("binary file: contains NUL bytes, not a CSV export")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if data.endswith(b"\r"):  # a "\r\n" cut after its "\r" still ended the line
            data = data[:-1] + b"\n"
    if (not data or data[:1] in BLANK_BYTES) and not data.strip(BLANK):  # (the strip only when it may be blank)
        raise FileProblem("no header row (the file holds only blank lines)")
    header = _header(data)
    terminated = data.endswith(b"\n")
    if not terminated:
        data += b"\n"  # the row reader checks that the unterminated last record is whole
    return DecodedExport(data, encoding, header, terminated, rewritten=data != raw, ascii=data.isascii())
