"""Quarantined rows keep their raw text, but not personal data in clear: a personal-data field is
replaced by the same salted hash the loaded rows carry, so the raw text still joins."""

from __future__ import annotations

import hashlib

from tests.support.lake import ok

HEADER = "order_id,customer_id,email,ordered_at,amount,currency,status,phone,note"
EMAIL, PHONE = "Grace.Hopper@example.com", "+1 202 555 0143"


def h(value: str) -> str:  # salt "pepper" (the Lake's), value trimmed and lower-cased
    return hashlib.sha256(("pepper" + value.strip().lower()).encode()).hexdigest()


def test_quarantined_rows_hold_no_personal_data_in_clear(lake):
    lake.write(
        "2024-03-10/orders.csv",
        f"{HEADER}\n"
        f"o1,c1,{EMAIL},2024-03-01,oops,USD,completed,{PHONE},bad amount\n"  # a row problem: fields where the header says
        f'o2,c1,"{EMAIL}, second",2024-03-01,5,USD,completed,{PHONE},"two\nlines",surplus\n'  # wrong width: from email on
        f"o3,c1,{EMAIL},2024-03-01,5,USD,completed,{PHONE},fine\n",
    )
    ok(lake.ingest())
    rows = lake.quarantine()
    assert [(line, reason) for _, line, reason, _ in rows] == [
        (2, "unparseable amount: oops"),
        (3, "wrong number of fields: expected 9, found 10"),
    ]
    # hand-worked: the email (3rd) and phone (8th) fields hashed, the rest as delivered
    assert rows[0][3] == f"o1,c1,{h(EMAIL)},2024-03-01,oops,USD,completed,{h(PHONE)},bad amount"
    # the fields cannot be trusted to sit where the header says: every field from the first
    # personal-data column (the 3rd) on is hashed
    masked = [h(v) for v in (f"{EMAIL}, second", "2024-03-01", "5", "USD", "completed", PHONE, "two\nlines", "surplus")]
    assert rows[1][3] == ",".join(["o2", "c1", *masked])
    for path in lake.state.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for clear in (b"Grace", b"grace", b"555 0143", b"5550143"):
                assert clear not in data, (path, clear)
