"""Exports that are not UTF-8: GB18030 or Windows-1252 told apart by plausibility, or the codec the
mapping names; a file no encoding reads plausibly rejects its batch instead of loading mojibake."""

from __future__ import annotations

import pytest

from tests.support.lake import CUSTOMERS_HEADER, ok


def test_windows_1252_export_loads_with_its_umlauts(lake):
    # every accented letter is followed by an ASCII letter, so GB18030 would read it too (as M黮ler)
    lake.write(
        "2024-03-10/customers.csv",
        f"{CUSTOMERS_HEADER},Name\nc1,2024-03-01,Müller,Köln,Straße\nc2,2024-03-02,web,Zürich,Jörg\n",
        encoding="cp1252",
    )
    ok(lake.ingest())
    assert lake.query("select customer_id, channel, region from {customers} order by 1") == [
        ("c1", "Müller", "Köln"),
        ("c2", "web", "Zürich"),
    ]
    assert lake.manifest("customers.csv")["encoding"] == "cp1252"


def test_windows_1252_that_gb18030_cannot_read(lake):
    # "é," is not a GB18030 character: only Windows-1252 reads this file
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,café,Orléans\n", encoding="cp1252")
    ok(lake.ingest())
    assert lake.query("select channel, region from {customers}") == [("café", "Orléans")]


def test_gb18030_names_still_load_as_gb18030(lake):
    # 镕 and 喆 are GBK characters outside GB2312: a few of them are still plainly Chinese text
    rows = "c1,2024-03-01,微信,华东\nc2,2024-03-02,朱镕基,华南\nc3,2024-03-03,张喆,西北\nc4,2024-03-04,王芳,东北\n"
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\n{rows}", encoding="gb18030")
    ok(lake.ingest())
    assert lake.query("select channel, region from {customers} order by customer_id") == [
        ("微信", "华东"),
        ("朱镕基", "华南"),
        ("张喆", "西北"),
        ("王芳", "东北"),
    ]
    assert lake.manifest("customers.csv")["encoding"] == "gb18030"


def test_the_mappings_encoding_is_used_as_it_says(lake):
    # ÄÖÜß in Windows-1252 is C4 D6 DC DF: two GB2312 characters (腄苘) to a detector
    lake.write("retention_mapping.yml", "extends: canonical\nencoding: windows-1252\n")
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,ÄÖÜß\n", encoding="cp1252")
    ok(lake.ingest())
    assert lake.query("select region from {customers}") == [("ÄÖÜß",)]
    assert lake.manifest("customers.csv")["encoding"] == "cp1252"


def test_bytes_the_mappings_encoding_cannot_read_reject_the_batch(lake):
    lake.write("retention_mapping.yml", "extends: canonical\nencoding: utf-8\n")
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,Köln\n", encoding="cp1252")
    report = lake.ingest()
    assert [str(e) for e in report.rejected] == [
        "batch 2024-03-10, file customers.csv: undecodable bytes at byte 57: not utf-8, the encoding the column mapping sets"
    ]


@pytest.mark.parametrize(
    "body, at",
    [
        # two GB2312 characters and one whose trail byte is ASCII ("\xfcl"): a third outside GB2312
        (b"c1,2024-03-01,\xc4\xe3\xba\xc3,M\xfcller\n", 52),
        # 0x81 is no Windows-1252 character, and 0x81 + space no GB18030 one
        (b"c1,2024-03-01,web,\x81 \n", 56),
    ],
    ids=["ambiguous", "undecodable"],
)
def test_a_file_no_encoding_reads_plainly_rejects_the_batch(lake, body, at):
    # the header line is 38 bytes, "c1,2024-03-01," 14 more: byte 52 is the first of the first bad field
    lake.write("2024-03-10/customers.csv", CUSTOMERS_HEADER.encode() + b"\n" + body)
    report = lake.ingest()
    assert len(report.rejected) == 1
    message = str(report.rejected[0])
    assert message.startswith(f"batch 2024-03-10, file customers.csv: undecodable bytes at byte {at}: not UTF-8"), message
    assert "set encoding: in the column mapping" in message
    assert lake.batches() == []
