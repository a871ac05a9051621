"""Telling GB18030 from Windows-1252 in an export that is not UTF-8, by plausibility.

Both read most byte strings: Western text in Windows-1252 (`Müller` = `M \\xfc l l e r`) is valid
GB18030 whenever each accented letter is followed by an ASCII letter, and loads as `M黮ler`. What
gives it away is which characters come out. In real Chinese text nearly every character is in the
GB2312 range (both bytes 0xA1–0xFE), while Western text read as GB18030 yields characters whose
second byte is ASCII, all outside it. So: GB18030 when few of its non-ASCII characters are outside
GB2312; Windows-1252 when most are (or GB18030 cannot read the bytes at all) and the bytes read as
Windows-1252 text mostly made of letters; anything else is rejected rather than loaded as mojibake.
Every measure is a pass in C (a codec, `bytes.translate`, numpy), and the GB2312 test of a large
file reads a fixed sample of it, so this costs little beside the decoding itself.
"""

from __future__ import annotations

import numpy as np

GB18030_MAX_OUTSIDE = 0.25  # GBK-only name characters (镕, 喆) are rare, but a short file may have a few
CP1252_MIN_OUTSIDE = 0.50  # Western text read as GB18030: nearly all its characters are outside GB2312
CP1252_MIN_LETTERS = 0.80  # Western text: accented letters and typographic punctuation, little else
ASCII_BYTES = bytes(range(128))
SAMPLES, SAMPLE_CHARS, MIN_EVIDENCE = 8, 1 << 17, 1000  # evidence enough, at a fixed cost per file


class Undecided(ValueError):
    """No encoding reads the bytes as plausible text; the message says what was found."""


def _western_bytes() -> tuple[np.ndarray, list[int]]:
    """Which bytes 0x80–0xFF are what Western-European text is made of in Windows-1252 (letters, and
    the punctuation of 0x80–0x9F: ’ “ ” – € …), and which Windows-1252 leaves undefined. Not þ, ÿ
    (rare, and what stray binary bytes 0xFE, 0xFF look like), nor the symbols of 0xA1–0xBF
    (¤ ¦ ¨ …), which GB2312's bytes are full of."""
    plausible, undefined = np.zeros(256, dtype=bool), []
    for b in range(0x80, 0x100):
        try:
            ch = bytes([b]).decode("cp1252")
        except UnicodeDecodeError:
            undefined.append(b)
            continue
        plausible[b] = b < 0xA0 or ch == "\xa0" or (ch.isalpha() and ch not in "þÞÿ")
    return plausible, undefined


PLAUSIBLE_WESTERN, CP1252_UNDEFINED = _western_bytes()


def _outside_gb2312(text: str) -> tuple[float, int]:
    """(share of the non-ASCII characters GB2312 has no code for, how many non-ASCII characters).
    One encode: each GB2312 character takes two bytes, each other non-ASCII character one "?"."""
    out = text.encode("gb2312", "replace")
    outside = out.count(b"?") - text.count("?")
    seen = len(out) - len(text) + outside
    return outside / max(seen, 1), seen


def share_outside_gb2312(text: str) -> float:
    """`_outside_gb2312` of a large text from evenly spread slices (the test is of the whole file's
    encoding, and a slice says as much as the rest), unless they hold too few non-ASCII characters
    to tell (a mostly-ASCII file): then from all of it."""
    if len(text) > 2 * SAMPLES * SAMPLE_CHARS:
        step = len(text) // SAMPLES
        share, seen = _outside_gb2312("".join(text[i * step : i * step + SAMPLE_CHARS] for i in range(SAMPLES)))
        if seen >= MIN_EVIDENCE:
            return share
    return _outside_gb2312(text)[0]


def share_western(raw: bytes) -> float | None:
    """Of the non-ASCII bytes, the share that are Western letters or punctuation in Windows-1252;
    None when a byte is not Windows-1252 at all."""
    high = np.frombuffer(raw.translate(None, ASCII_BYTES), dtype=np.uint8)
    counts = np.bincount(high, minlength=256)
    if counts[CP1252_UNDEFINED].any():
        return None
    return float(counts[PLAUSIBLE_WESTERN].sum()) / max(len(high), 1)


def decode_legacy(raw: bytes, utf8_error_at: int) -> tuple[str, bytes]:
    """(encoding, UTF-8 bytes) of an export that is not UTF-8, or Undecided saying why not."""
    try:
        text: str | None = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    outside = None if text is None else share_outside_gb2312(text)
    if text is not None and outside is not None and outside <= GB18030_MAX_OUTSIDE:
        return "gb18030", text.encode("utf-8")
    western = share_western(raw)
    if (outside is None or outside >= CP1252_MIN_OUTSIDE) and western is not None and western >= CP1252_MIN_LETTERS:
        return "cp1252", raw.decode("cp1252").encode("utf-8")
    why = (
        "neither GB18030 nor Windows-1252 reads it"
        if text is None and western is None
        else "neither GB18030 nor Windows-1252 reads it as plausible text"
        + ("" if outside is None else f" ({outside:.0%} of its GB18030 characters are outside common Chinese)")
    )
    raise Undecided(
        f"undecodable bytes at byte {utf8_error_at}: not UTF-8, and {why}; "
        "if it is in another encoding, set encoding: in the column mapping"
    )
