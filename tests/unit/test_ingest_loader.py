"""The loader in-process (retention.ingest.load.ingest), one small export per problem.

Every expectation is worked out by hand from the file written in the test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from retention.ingest.landing import BatchRejected
from retention.report import load_status
from tests.support.lake import CUSTOMERS_HEADER, ORDERS_HEADER, Lake, ok


def assert_accounted(lake: Lake, file_name: str, read: int, loaded: int, quarantined: int) -> None:
    m = lake.manifest(file_name)
    assert (m["rows_read"], m["rows_loaded"], m["rows_quarantined"]) == (read, loaded, quarantined)
    assert m["rows_read"] == m["rows_loaded"] + m["rows_quarantined"]


# --- formats -------------------------------------------------------------------------------------


def test_columns_in_any_order_and_header_case_and_spaces(lake):
    lake.write(
        "2024-03-10/orders.csv",
        " Status ,AMOUNT, Order_ID ,customer_id ,Currency,  ORDERED_AT\ncompleted,12.50,o1,c1,usd,2024-03-01 10:20:30\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, customer_id, ordered_at, amount, currency, status, extra_columns from {orders}") == [
        ("o1", "c1", dt.datetime(2024, 3, 1, 10, 20, 30), Decimal("12.5"), "USD", "completed", None)
    ]


def test_utf8_with_bom(lake):
    lake.write("2024-03-10/customers.csv", "\ufeff" + CUSTOMERS_HEADER + "\nc1,2024-03-01,web,Zürich\n")
    ok(lake.ingest())
    assert lake.query("select customer_id, region from {customers}") == [("c1", "Zürich")]
    assert lake.manifest("customers.csv")["encoding"] == "utf-8-sig"


def test_gb18030_is_transcoded(lake):
    lake.write(
        "2024-03-10/customers.csv", CUSTOMERS_HEADER + "\nc1,2024-03-01,微信,华东\nc2,2024-03-02,web,华南\n", encoding="gb18030"
    )
    ok(lake.ingest())
    assert lake.query("select customer_id, channel, region from {customers} order by 1") == [
        ("c1", "微信", "华东"),
        ("c2", "web", "华南"),
    ]
    assert lake.manifest("customers.csv")["encoding"] == "gb18030"


def test_crlf_line_ends(lake):
    lake.write(
        "2024-03-10/orders.csv",
        ORDERS_HEADER + "\no1,c1,2024-03-01,5,USD,completed\no2,c1,2024-03-02,x,USD,completed\no3,c2,2024-03-03,7,USD,pending\n",
        newline="\r\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, source_line, status from {orders} order by 1") == [
        ("o1", 2, "completed"),
        ("o3", 4, "pending"),
    ]
    assert lake.quarantine() == [("2024-03-10/orders.csv", 3, "unparseable amount: x", "o2,c1,2024-03-02,x,USD,completed")]


def test_quoted_fields_with_commas_quotes_and_newlines(lake):
    lake.write(
        "2024-03-10/customers.csv",
        CUSTOMERS_HEADER + "\n"
        'c1,2024-03-01,"web, paid","the ""north"""\n'  # line 2
        'c2,2024-03-01,"two\nlines",east\n'  # lines 3-4
        '"c3",2024-03-02,"",west\n'  # line 5
        ',2024-03-02,"x\ny",south\n',
    )  # lines 6-7: missing key
    ok(lake.ingest())
    assert lake.query("select customer_id, source_line, channel, region from {customers} order by 1") == [
        ("c1", 2, "web, paid", 'the "north"'),
        ("c2", 3, "two\nlines", "east"),
        ("c3", 5, None, "west"),
    ]
    assert lake.quarantine() == [("2024-03-10/customers.csv", 6, "missing customer_id", ',2024-03-02,"x\ny",south')]
    assert_accounted(lake, "customers.csv", 4, 3, 1)


def test_timestamp_formats_and_offsets_to_utc(lake):
    lake.write(
        "2024-03-10/orders.csv",
        ORDERS_HEADER + "\n"
        "o1,c1,2024-03-01 10:20:30,1,USD,completed\n"
        "o2,c1,2024-03-01,1,USD,completed\n"
        "o3,c1,2024-03-01T10:20:30+08:00,1,USD,completed\n"
        "o4,c1,2024-03-01T23:30:00-05:00,1,USD,completed\n"
        "o5,c1,2024-03-01T06:00:00Z,1,USD,completed\n"
        "o6,c1,2024-03-01 01:00:00+0530,1,USD,completed\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, ordered_at from {orders} order by 1") == [
        ("o1", dt.datetime(2024, 3, 1, 10, 20, 30)),
        ("o2", dt.datetime(2024, 3, 1, 0, 0)),
        ("o3", dt.datetime(2024, 3, 1, 2, 20, 30)),
        ("o4", dt.datetime(2024, 3, 2, 4, 30)),
        ("o5", dt.datetime(2024, 3, 1, 6, 0)),
        ("o6", dt.datetime(2024, 2, 29, 19, 30)),
    ]


def test_status_any_case_with_stray_spaces(lake):
    lake.write(
        "2024-03-10/orders.csv",
        ORDERS_HEADER + "\n"
        "o1,c1,2024-03-01,1,USD, Completed \no2,c1,2024-03-01,1,USD,REFUNDED\n"
        "o3,c1,2024-03-01,1,USD,  pending\no4,c1,2024-03-01,1,USD,Cancelled  \n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, status from {orders} order by 1") == [
        ("o1", "completed"),
        ("o2", "refunded"),
        ("o3", "pending"),
        ("o4", "cancelled"),
    ]


def test_extra_columns_are_kept_as_json(lake):
    lake.write(
        "2024-03-10/orders.csv",
        "order_id,Coupon Code,customer_id,ordered_at,amount,currency,status,Sales Rep\n"
        "o1,SPRING,c1,2024-03-01,1,USD,completed,Ann\no2,,c1,2024-03-01,1,USD,completed,Bob\n"
        "o3,,c1,2024-03-01,1,USD,completed,\n",
    )
    ok(lake.ingest())
    got = dict(lake.query("select order_id, extra_columns from {orders}"))
    assert json.loads(got["o1"]) == {"coupon code": "SPRING", "sales rep": "Ann"}
    assert json.loads(got["o2"]) == {"coupon code": None, "sales rep": "Bob"}
    assert got["o3"] is None  # no extra value at all


def test_headers_named_like_the_loaders_own_columns(lake):
    """Extra columns called _line, v_amount, problem or source_line must not collide with the loader's."""
    lake.write(
        "2024-03-10/orders.csv",
        "_line,order_id,customer_id,ordered_at,amount,currency,status,v_amount,"
        "problem,source_line,rowid\nx,o1,c1,2024-03-01,3,USD,completed,y,z,w,r\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, amount, source_line from {orders}") == [("o1", Decimal("3"), 2)]
    extra = json.loads(lake.query("select extra_columns from {orders}")[0][0])
    assert extra == {"_line": "x", "v_amount": "y", "problem": "z", "source_line": "w", "rowid": "r"}


def test_lone_carriage_return_inside_a_field(lake):
    """A stray CR (not part of CRLF) is data, not a line end: DuckDB's reader stops on it."""
    lake.write(
        "2024-03-10/customers.csv",
        CUSTOMERS_HEADER + '\nc1,2024-03-01,we\rb,north\nc2,2024-03-01,"a\rb",south\nc3,2024-03-01,web,east\n',
    )
    ok(lake.ingest())
    # RFC 4180: a CR inside a field must be quoted. c2's is, and is data; c1's is not, so c1 is a row
    # problem (quarantined on its line, kept whole), not a line end that would split it in two.
    assert lake.query("select customer_id, source_line, channel from {customers} order by 1") == [
        ("c2", 3, "a\rb"),
        ("c3", 4, "web"),
    ]
    [(source_file, line, reason, raw)] = lake.quarantine()
    assert (source_file, line, raw) == ("2024-03-10/customers.csv", 2, "c1,2024-03-01,we\rb,north")
    assert reason.startswith("unreadable record")
    assert_accounted(lake, "customers.csv", 3, 2, 1)


# --- column mappings -----------------------------------------------------------------------------


def test_chinese_export_gb18030_with_shanghai_times(lake):
    lake.write("retention_mapping.yml", "extends: zh_cn\n")
    lake.write(
        "2024-03-10/customers.csv",
        "客户编号,注册时间,渠道,地区,手机\nc1,2024-03-01 08:00:00,微信,华东,13800000000\n",
        encoding="gb18030",
    )
    lake.write(
        "2024-03-10/orders.csv",
        "订单编号,客户编号,下单时间,金额,币种,状态\n"
        "o1,c1,2024-03-01 08:00:00,99.5,CNY,已完成\n"
        "o2,c1,2024-03-02 07:59:59,10,CNY,已退款\n"
        "o3,c1,2024-03-03,10,CNY,不知道\n",
        encoding="gb18030",
    )
    ok(lake.ingest())
    # Asia/Shanghai is UTC+8 all year: 08:00 local = 00:00 UTC, midnight local = 16:00 UTC the day before
    assert lake.query("select order_id, customer_id, ordered_at, amount, currency, status from {orders} order by 1") == [
        ("o1", "c1", dt.datetime(2024, 3, 1, 0, 0), Decimal("99.5"), "CNY", "completed"),
        ("o2", "c1", dt.datetime(2024, 3, 1, 23, 59, 59), Decimal("10"), "CNY", "refunded"),
    ]
    assert lake.query("select customer_id, created_at, channel, region from {customers}") == [
        ("c1", dt.datetime(2024, 3, 1, 0, 0), "微信", "华东")
    ]
    assert [r[1:3] for r in lake.quarantine()] == [(4, "unknown status: 不知道")]
    assert lake.manifest("orders.csv")["encoding"] == "gb18030"


def test_landing_mapping_extends_with_overrides(lake):
    lake.write(
        "retention_mapping.yml",
        "extends: zh_cn\ntables:\n  orders:\n    columns:\n      order_id: [单号]\n"
        "    status_values:\n      交易成功: completed\n",
    )
    lake.write(
        "2024-03-10/orders.csv",
        "单号,客户编号,下单时间,金额,币种,状态\no1,c1,2024-03-01 08:00:00,1,CNY,交易成功\n"
        "o2,c1,2024-03-01 08:00:00,1,CNY,已完成\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, status, ordered_at from {orders} order by 1") == [
        ("o1", "completed", dt.datetime(2024, 3, 1)),
        ("o2", "completed", dt.datetime(2024, 3, 1)),
    ]


def test_hubspot_export_by_environment_variable(tmp_path):
    lake = Lake(tmp_path, RETENTION_COLUMN_MAPPING="hubspot")
    lake.write(
        "2024-03-10/customers.csv",
        "Record ID,First Name,Email,Create Date,Original Source,State/Region\n"
        "101,Ada,ada@example.com,2024-03-01 09:00:00,ORGANIC_SEARCH,CA\n",
    )
    lake.write(
        "2024-03-10/orders.csv",
        "Deal ID,Deal Name,Associated Contact ID,Close Date,Amount,Deal Currency Code,"
        "Deal Stage\n9001,Big deal,101,2024-03-02T10:00:00Z,1500,usd,closedwon\n"
        "9002,Lost,101,2024-03-03T10:00:00Z,10,USD,Closed Lost\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, customer_id, ordered_at, amount, currency, status from {orders} order by 1") == [
        ("9001", "101", dt.datetime(2024, 3, 2, 10), Decimal("1500"), "USD", "completed"),
        ("9002", "101", dt.datetime(2024, 3, 3, 10), Decimal("10"), "USD", "cancelled"),
    ]
    assert lake.query("select customer_id, channel, region from {customers}") == [("101", "ORGANIC_SEARCH", "CA")]


# --- row-level problems --------------------------------------------------------------------------

GOOD = "o1,c1,2024-03-01 10:00:00,10.00,USD,completed"


@pytest.mark.parametrize(
    "row, reason",
    [
        (",c9,2024-03-01,5,USD,completed", "missing order_id"),
        ("o9,  ,2024-03-01,5,USD,completed", "missing customer_id"),
        ("o9,c9,01/03/2024,5,USD,completed", "unparseable ordered_at: 01/03/2024"),
        ("o9,c9,2024-02-30,5,USD,completed", "unparseable ordered_at: 2024-02-30"),
        ("o9,c9,2024-03-01,12.5.0,USD,completed", "unparseable amount: 12.5.0"),
        ("o9,c9,2024-03-01,-0.01,USD,completed", "negative amount: -0.01"),
        ("o9,c9,2024-03-01,5,USD,shipped", "unknown status: shipped"),
        ("o9,c9,2024-03-01,5,USD,completed,surplus", "wrong number of fields: expected 6, found 7"),
        ("o9,c9,2024-03-01,5,USD", "wrong number of fields: expected 6, found 5"),
        # export dated 2024-03-10: 2024-03-12 00:00 UTC is after the export date + 1 day
        (
            "o9,c9,2024-03-12 00:00:00,5,USD,completed",
            "ordered_at in the future (after the export date 2024-03-10): 2024-03-12 00:00:00",
        ),
    ],
    ids=[
        "missing-order-id",
        "missing-customer-id",
        "bad-timestamp",
        "impossible-date",
        "bad-amount",
        "negative-amount",
        "unknown-status",
        "too-many-fields",
        "too-few-fields",
        "future-timestamp",
    ],
)
def test_row_problem_goes_to_quarantine(lake, row, reason):
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\n{row}\no2,c1,2024-03-02,1,USD,pending\n")
    ok(lake.ingest())
    assert lake.query("select order_id, source_line from {orders} order by 1") == [("o1", 2), ("o2", 4)]
    assert lake.query("select batch_date, source_file, table_name, source_line, reason, raw_text from {quarantine}") == [
        (dt.date(2024, 3, 10), "2024-03-10/orders.csv", "orders", 3, reason, row)
    ]
    assert_accounted(lake, "orders.csv", 3, 2, 1)


@pytest.mark.parametrize("reader", ["duckdb", "python"])
def test_empty_fields_past_the_last_column_are_not_data(lake, monkeypatch, reader):
    """A trailing delimiter (`…,completed,`) does not make a row too wide; a value past the last column does."""
    from retention.ingest import csvrows

    if reader == "python":
        monkeypatch.setattr(csvrows, "_fast", lambda *args, **kwargs: None)
    lake.write(
        "2024-03-10/orders.csv",
        f"{ORDERS_HEADER}\n{GOOD},\no2,c1,2024-03-02,1,USD,pending,,\n"
        "o3,c1,2024-03-02,1,USD,pending,,x\no4,c1,2024-03-02,1,USD,pending\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, source_line from {orders} order by 1") == [("o1", 2), ("o2", 3), ("o4", 5)]
    assert [r[1:3] for r in lake.quarantine()] == [(4, "wrong number of fields: expected 6, found 8")]
    assert lake.manifest("orders.csv")["parser"] == reader


def test_timestamp_just_inside_the_future_limit_loads(lake):
    lake.write(
        "2024-03-10/orders.csv",
        f"{ORDERS_HEADER}\no1,c1,2024-03-11 23:59:59,1,USD,completed\no2,c1,2024-03-11T23:30:00-01:00,1,USD,completed\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id from {orders}") == [("o1",)]  # o2 is 2024-03-12 00:30 UTC
    assert [r[1] for r in lake.quarantine()] == [3]


def test_zero_amounts_load_and_the_smallest_negative_one_does_not(lake):
    """docs/reference.md §1: `amount` is non-negative; zero is the boundary and loads."""
    lake.write(
        "2024-03-10/orders.csv",
        f"{ORDERS_HEADER}\no1,c1,2024-03-01,0,USD,completed\no2,c1,2024-03-01,0.00,USD,completed\n"
        "o3,c1,2024-03-01,-0.01,USD,completed\no4,c1,2024-03-01,0.01,USD,completed\n",
    )
    ok(lake.ingest())
    assert lake.query("select order_id, amount from {orders} order by 1") == [
        ("o1", Decimal("0")),
        ("o2", Decimal("0")),
        ("o4", Decimal("0.01")),
    ]
    assert [r[1:3] for r in lake.quarantine()] == [(4, "negative amount: -0.01")]
    assert_accounted(lake, "orders.csv", 4, 3, 1)


def test_a_row_lost_between_reading_and_loading_rejects_the_batch(lake, monkeypatch):
    """The guard rows read = loaded + quarantined (docs/reference.md §1) fires: a validation that drops a row
    silently (as a bad filter would) rejects the batch instead of loading it short."""
    from retention.ingest import load

    real = load.validated_sql
    monkeypatch.setattr(load, "validated_sql", lambda *a, **kw: f"select * from ({real(*a, **kw)}) where order_id <> 'o2'")
    lake.write(
        "2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-02,1,USD,pending\no3,c1,2024-03-02,x,USD,pending\n"
    )
    report = lake.ingest()
    assert [str(e) for e in report.rejected] == [
        "batch 2024-03-10, file orders.csv: row accounting does not add up: read 3, loaded 1, quarantined 1"
    ]
    assert lake.batches() == []


def test_customers_row_problems(lake):
    lake.write(
        "2024-03-10/customers.csv",
        f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,eu\nc2,yesterday,web,eu\n,2024-03-01,web,eu\nc4,2024-03-01,web\n",
    )
    ok(lake.ingest())
    assert lake.query("select customer_id from {customers}") == [("c1",)]
    assert [r[1:3] for r in lake.quarantine()] == [
        (3, "unparseable created_at: yesterday"),
        (4, "missing customer_id"),
        (5, "wrong number of fields: expected 4, found 3"),
    ]
    assert_accounted(lake, "customers.csv", 4, 1, 3)


def test_blank_lines_are_not_rows(lake):
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n\n{GOOD}\n\n\no2,c1,2024-03-02,1,USD,pending\n\n")
    ok(lake.ingest())
    assert lake.query("select order_id, source_line from {orders} order by 1") == [("o1", 3), ("o2", 6)]
    assert_accounted(lake, "orders.csv", 2, 2, 0)


@pytest.mark.parametrize("multi_line", [False, True], ids=["one-line-records", "some-multi-line-records"])
def test_lines_stay_exact_when_the_file_is_read_in_parallel(lake, monkeypatch, multi_line):
    """A file read in many buffers by several threads: every loaded row's line, and every quarantined
    one's, is the line its own order_id names (so the expectation does not come from the loader)."""
    from retention.ingest import csvrows

    monkeypatch.setattr(csvrows, "BUFFER_SIZE", 1 << 18)  # ~40 buffers for this file
    monkeypatch.setattr(csvrows, "FIELD_SIZE_LIMIT", 1 << 16)  # DuckDB wants buffers above the line limit
    lake.env["RETENTION_THREADS"] = "4"
    lines, line, bad = [ORDERS_HEADER], 2, set()
    for i in range(200_000):
        amount = "x" if i % 997 == 0 else str(i % 50)
        note = '"a\nb"' if multi_line and i % 5000 == 0 else "n"
        lines.append(f"o{line},c{i % 300},2024-03-01 10:00:00,{amount},USD,completed,{note}")
        bad |= {line} if amount == "x" else set()
        line += 1 + note.count("\n")
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER},note\n" + "\n".join(lines[1:]) + "\n")
    ok(lake.ingest())
    mismatched = lake.query("select count(*) from {orders} where order_id <> 'o' || source_line")[0][0]
    assert mismatched == 0
    assert lake.query("select count(*) from {orders}")[0][0] == 200_000 - len(bad)
    assert [r[1] for r in lake.quarantine()] == sorted(bad)
    assert all(raw.startswith(f"o{line},") for _, line, _, raw in lake.quarantine())
    assert lake.manifest("orders.csv")["parser"] == "duckdb"


def test_stray_quote_inside_an_unquoted_field_keeps_lines_exact(lake):
    lake.write(
        "2024-03-10/customers.csv",
        f'{CUSTOMERS_HEADER}\nc1,2024-03-01,6" screen,eu\n'
        'c2,2024-03-01,web,"north\nc3,2024-03-01,web,south\n'
        'c4,2024-03-01,a"b,east\n',
    )
    ok(lake.ingest())  # a malformed record is a row problem (docs/reference.md §1), not a reason to reject the file
    # c1's stray quote is text. c2 opens a quoted field that the stray quote on c4's line closes, and
    # `b,east` follows the closing quote: one malformed record, lines 3-5, quarantined whole.
    assert lake.query("select customer_id, source_line, channel from {customers}") == [("c1", 2, '6" screen')]
    [(source_file, line, reason, raw)] = lake.quarantine()
    assert (source_file, line) == ("2024-03-10/customers.csv", 3)
    assert raw == 'c2,2024-03-01,web,"north\nc3,2024-03-01,web,south\nc4,2024-03-01,a"b,east'
    assert reason.startswith("unreadable record")
    assert_accounted(lake, "customers.csv", 2, 1, 1)


def test_header_only_file_loads_zero_rows(lake):
    lake.write("2024-03-10/orders.csv", ORDERS_HEADER + "\n")
    lake.write("2024-03-10/customers.csv", CUSTOMERS_HEADER)  # no final line end either
    ok(lake.ingest())
    assert lake.batches() == ["2024-03-10"]
    for name in ("orders.csv", "customers.csv"):
        m = lake.manifest(name)
        assert (m["present"], m["rows_read"], m["rows_loaded"], m["rows_quarantined"]) == (True, 0, 0, 0)
    assert lake.query("select count(*) from {orders}") == [(0,)]


def test_file_without_final_line_end_is_whole(lake):
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-02,1,USD,pending")
    ok(lake.ingest())
    assert lake.query("select order_id from {orders} order by 1") == [("o1",), ("o2",)]


# --- file-level problems -------------------------------------------------------------------------


def _bad_files(lake: Lake, outside: Path) -> dict:
    return {
        "missing-column": (
            "2024-03-11/orders.csv",
            f"order_id,customer_id,ordered_at,currency,status\n{GOOD}\n",
            "orders.csv: required column(s) missing: amount",
        ),
        "zero-bytes": ("2024-03-11/orders.csv", b"", "orders.csv: zero-byte file"),
        "undecodable": (
            "2024-03-11/orders.csv",
            ORDERS_HEADER.encode() + b"\no1,c1,2024-03-01,1,USD,\xff\xfe\xff\n",
            "orders.csv: undecodable bytes at byte",
        ),
        "bom-not-utf8": (
            "2024-03-11/orders.csv",
            b"\xef\xbb\xbf" + ORDERS_HEADER.encode() + b"\no1,\xc4\xe3\n",
            "orders.csv: undecodable bytes",
        ),
        "truncated-last-line": (
            "2024-03-11/orders.csv",
            f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-0",
            "orders.csv: truncated last line: line 3 has 3 of 6 fields",
        ),
        "truncated-in-quotes": (
            "2024-03-11/orders.csv",
            f'{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-01,1,USD,"compl',
            "orders.csv: truncated: the file ends inside a quoted field that opens on line 3",
        ),
        "semicolons": (
            "2024-03-11/orders.csv",
            ORDERS_HEADER.replace(",", ";") + "\n" + GOOD.replace(",", ";") + "\n",
            "orders.csv: wrong delimiter: the header is semicolon-separated",
        ),
        "binary": ("2024-03-11/orders.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "orders.csv: binary file"),
        "utf16": ("2024-03-11/orders.csv", (ORDERS_HEADER + "\n" + GOOD + "\n").encode("utf-16"), "orders.csv: UTF-16 encoded"),
        "folder-not-a-date": ("2024-3-11/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\n", "batch 2024-3-11: folder name is not a date"),
        "impossible-date-folder": (
            "2024-02-30/orders.csv",
            f"{ORDERS_HEADER}\n{GOOD}\n",
            "batch 2024-02-30: folder name is not a valid calendar date",
        ),
        "symlink-outside": ("2024-03-11/orders.csv", outside, "orders.csv: the file is a link that leads outside"),
    }


@pytest.mark.parametrize(
    "problem",
    [
        "missing-column",
        "zero-bytes",
        "undecodable",
        "bom-not-utf8",
        "truncated-last-line",
        "truncated-in-quotes",
        "semicolons",
        "binary",
        "utf16",
        "folder-not-a-date",
        "impossible-date-folder",
        "symlink-outside",
    ],
)
def test_file_problem_rejects_the_batch_whole(tmp_path, problem):
    lake = Lake(tmp_path / "w")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(f"{ORDERS_HEADER}\n{GOOD}\n")
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\n")
    rel, content, message = _bad_files(lake, outside)[problem]
    batch = rel.split("/")[0]
    # the bad batch also carries a good customers file: nothing of the batch may load
    lake.write(f"{batch}/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,eu\n")
    if isinstance(content, Path):
        (lake.landing / rel).symlink_to(content)
    else:
        lake.write(rel, content)
    report = lake.ingest()
    assert len(report.rejected) == 1
    err = report.rejected[0]
    assert isinstance(err, BatchRejected)
    assert str(err).startswith(f"batch {batch}")
    assert message in str(err), str(err)
    assert lake.batches() == ["2024-03-10"]  # the good batch loaded, nothing of the bad one
    assert lake.query("select count(*) from {customers}") == [(0,)]
    assert lake.query("select distinct batch_date from {manifest}") == [(dt.date(2024, 3, 10),)]

    # fixing the file (or the folder) and running again loads it
    if isinstance(content, Path):
        (lake.landing / rel).unlink()
    if not batch.startswith("2024-03-11"):
        (lake.landing / rel).unlink()
        (lake.landing / batch / "customers.csv").unlink()
        (lake.landing / batch).rmdir()
        batch = "2024-03-11"
    lake.write(f"{batch}/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\no2,c2,2024-03-02,1,USD,pending\n")
    lake.write(f"{batch}/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,eu\n")
    ok(lake.ingest())
    assert lake.batches() == ["2024-03-10", "2024-03-11"]
    assert_accounted_in(lake, batch, "orders.csv", 2, 2, 0)


def assert_accounted_in(lake: Lake, batch: str, name: str, read: int, loaded: int, quarantined: int) -> None:
    m = lake.manifest(name, batch)
    assert (m["rows_read"], m["rows_loaded"], m["rows_quarantined"]) == (read, loaded, quarantined)


def test_batch_folder_linked_from_outside_is_rejected(tmp_path):
    lake = Lake(tmp_path / "w")
    outside = tmp_path / "outside" / "2024-03-11"
    outside.mkdir(parents=True)
    (outside / "orders.csv").write_text(f"{ORDERS_HEADER}\n{GOOD}\n")
    (lake.landing / "2024-03-11").symlink_to(outside)
    report = lake.ingest()
    assert [str(e) for e in report.rejected] == ["batch 2024-03-11: the folder is a link that leads outside the landing folder"]
    assert lake.batches() == []


# --- re-delivery ---------------------------------------------------------------------------------


def test_file_rewritten_while_it_loads_rejects_the_batch(lake, monkeypatch):
    """The CRM (or a sync job) rewrites the export between the loader's checks and DuckDB's read."""
    from retention.ingest import load

    path = lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\n")
    real = load.write_records

    def rewrite_then_read(*args, **kwargs):
        path.write_text(f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-02,1,USD,pending\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "write_records", rewrite_then_read)
    report = lake.ingest()
    assert [str(r) for r in report.rejected] == [
        "batch 2024-03-10, file orders.csv: the file changed while it was being loaded; run again"
    ]
    assert lake.batches() == []
    monkeypatch.setattr(load, "write_records", real)
    ok(lake.ingest())  # the next run loads what the file holds now
    assert lake.query("select order_id from {orders} order by 1") == [("o1",), ("o2",)]


def test_identical_redelivery_is_a_no_op(lake):
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\n")
    ok(lake.ingest())
    first = lake.manifest("orders.csv")["load_id"]
    os.utime(lake.landing / "2024-03-10" / "orders.csv")  # touched, same bytes
    report = lake.ingest()
    ok(report)
    assert report.loaded == [] and report.unchanged == ["2024-03-10"]
    assert lake.manifest("orders.csv")["load_id"] == first


def test_corrected_file_replaces_the_batch(lake):
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-02,x,USD,pending\n")
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,eu\n")
    lake.write("2024-03-11/orders.csv", f"{ORDERS_HEADER}\no7,c1,2024-03-02,7,USD,completed\n")
    ok(lake.ingest())
    first = lake.manifest("orders.csv", "2024-03-10")["load_id"]
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER}\no2,c1,2024-03-02,2,USD,pending\no3,c1,2024-03-03,3,USD,completed\n")
    report = lake.ingest()
    ok(report)
    assert report.unchanged == ["2024-03-11"]
    assert lake.manifest("orders.csv", "2024-03-10")["load_id"] != first
    assert lake.query("select batch_date, order_id, amount from {orders} order by 1, 2") == [
        (dt.date(2024, 3, 10), "o2", Decimal("2")),
        (dt.date(2024, 3, 10), "o3", Decimal("3")),
        (dt.date(2024, 3, 11), "o7", Decimal("7")),
    ]
    assert lake.quarantine() == []  # the old load's quarantine went with it
    assert lake.query("select customer_id from {customers}") == [("c1",)]
    assert len(list((lake.state / "lake" / "loads").iterdir())) == 2  # the replaced load is gone


# --- personal data -------------------------------------------------------------------------------


def test_personal_data_is_hashed_with_the_salt(lake):
    lake.write(
        "2024-03-10/customers.csv",
        "customer_id,created_at,channel,region,Email,phone,Name,email\n"
        "c1,2024-03-01,web,eu, Ada@Example.com ,+44 20 7946 0000,Ada Lovelace,ada2@example.com\n",
    )
    lake.write("2024-03-10/orders.csv", f"{ORDERS_HEADER},email\n{GOOD},ada@example.com\n")
    ok(lake.ingest())

    def h(value: str) -> str:
        return hashlib.sha256(("pepper" + value.strip().lower()).encode()).hexdigest()

    extra = json.loads(lake.query("select extra_columns from {customers}")[0][0])
    assert extra == {
        "email": h("ada@example.com"),
        "phone": h("+44 20 7946 0000"),
        "name": h("Ada Lovelace"),
        "email__dup7": h("ada2@example.com"),
    }
    assert json.loads(lake.query("select extra_columns from {orders}")[0][0]) == {"email": h("ada@example.com")}
    for table in ("customers", "orders"):
        text = (lake.state / "lake" / "batches" / "2024-03-10" / f"{table}.parquet").read_bytes()
        dump = lake.query(f"select string_agg(cast(columns(*) as varchar), '|') from {{{table}}}")
        for clear in ("Ada@Example.com", "ada@example.com", "ada2@example.com", "7946", "Lovelace"):
            assert clear.encode() not in text
            assert all(clear not in (v or "") for v in dump[0])


# --- visibility ----------------------------------------------------------------------------------


def test_load_status_shows_batches_counts_and_reasons(lake):
    lake.write(
        "2024-03-10/orders.csv",
        f"{ORDERS_HEADER}\n{GOOD}\no2,c1,2024-03-02,x,USD,pending\no3,c1,2024-03-02,y,USD,pending\no4,c1,2024-03-02,1,USD,lost\n",
    )
    lake.write("2024-03-10/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-03-01,web,eu\n")
    lake.write("2024-03-11/orders.csv", f"{ORDERS_HEADER}\no5,c1,2024-03-02,1,USD,pending\n")
    ok(lake.ingest())
    text = load_status(lake.settings)
    lines = text.splitlines()
    row10 = next(line for line in lines if line.strip().startswith("2024-03-10") and ":" in line)
    row11 = next(line for line in lines if line.strip().startswith("2024-03-11") and ":" in line)
    # batch, loaded_at (2 words), customers read / loaded / quarantined, orders read / loaded / quarantined
    assert row10.split()[3:] == ["1", "1", "0", "4", "1", "3"]
    assert row11.split()[3:9] == ["0", "0", "0", "1", "1", "0"]
    assert "customers.csv" in row11  # absent from that batch
    loaded_at = lake.manifest("orders.csv", "2024-03-10")["loaded_at"]
    assert str(loaded_at)[:19] in row10
    per_file = [line.split() for line in lines if "2024-03-10/orders.csv" in line]
    # reason, its offending values (up to 3), rows, first line
    assert sorted((" ".join(w[2:-2]), w[-2], w[-1]) for w in per_file) == [
        ("unknown status lost", "1", "5"),
        ("unparseable amount x, y", "2", "3"),
    ]
    overall = lines[lines.index("quarantine reasons overall") + 3 :][:2]
    reasons = {" ".join(line.split()[:-2]): line.split()[-2:] for line in overall}
    assert reasons == {"unparseable amount x, y": ["2", "1"], "unknown status lost": ["1", "1"]}
