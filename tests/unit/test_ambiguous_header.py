"""A header in which two columns mean the same contract column rejects the batch; repeated extra
columns load side by side, and a repeated personal-data column is hashed like the first."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.support.lake import CUSTOMERS_HEADER, ok


@pytest.mark.parametrize(
    "header, row, problem",
    [
        (
            # canonical maps both "amount" and "total" to amount
            "order_id,customer_id,ordered_at,amount,currency,status,total",
            "o1,c1,2024-01-30,10,USD,completed,99",
            '2 columns mean amount ("amount" at column 4, "total" at column 7); keep one',
        ),
        (
            "order_id,customer_id,ordered_at,amount,currency,status, Amount ",
            "o1,c1,2024-01-30,10,USD,completed,99",
            '2 columns mean amount ("amount" at column 4, "Amount" at column 7); keep one',
        ),
        (
            "order_id,state,customer_id,ordered_at,amount,currency,status,order_status",
            "o1,completed,c1,2024-01-30,10,USD,pending,refunded",
            '3 columns mean status ("state" at column 2, "status" at column 7, "order_status" at column 8); keep one',
        ),
    ],
    ids=["alias", "same-name", "three"],
)
def test_two_columns_meaning_one_contract_column_reject_the_batch(lake, header, row, problem):
    lake.write("2024-01-31/orders.csv", f"{header}\n{row}\n")
    lake.write("2024-01-31/customers.csv", f"{CUSTOMERS_HEADER}\nc1,2024-01-01,web,eu\n")
    report = lake.ingest()
    assert [str(e) for e in report.rejected] == [f"batch 2024-01-31, file orders.csv: ambiguous header: {problem}"]
    assert lake.batches() == []  # nothing of the batch, not even its good customers file


def test_repeated_extra_and_personal_data_columns(lake):
    lake.write(
        "2024-01-31/customers.csv",
        "customer_id,created_at,channel,region,note,email,Note,EMAIL,e-mail\n"
        "c1,2024-01-01,web,eu,first,ada@example.com,second,ADA.L@example.com,lovelace@example.org\n",
    )
    ok(lake.ingest())

    def h(value: str) -> str:  # the salted hash of the trimmed, lower-cased value (salt "pepper")
        return hashlib.sha256(("pepper" + value).encode()).hexdigest()

    extra = json.loads(lake.query("select extra_columns from {customers}")[0][0])
    assert extra == {
        "note": "first",
        "email": h("ada@example.com"),
        "note__dup6": "second",
        "email__dup7": h("ada.l@example.com"),
        "e-mail": h("lovelace@example.org"),
    }
    data = (lake.state / "lake" / "batches" / "2024-01-31" / "customers.parquet").read_bytes()
    for clear in (b"ada@example", b"ADA.L", b"lovelace@"):
        assert clear not in data
