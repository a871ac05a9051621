"""Tests for the seeded demo landing-folder generator (retention.demo)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from retention.demo import main, write_demo_landing
from retention.errors import UsageError
from tests.support.warehouse import RETENTION

CUSTOMER_HEADER = ["customer_id", "created_at", "channel", "region", "email", "phone", "name"]
ORDER_HEADER = ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"]
STATUSES = {"completed", "pending", "cancelled", "refunded"}
TS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
AMOUNT = re.compile(r"\d+\.\d{2}")

SMALL = {"customers": 600, "months": 18}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _batches(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())  # (the demo's own record of its files is a dotfile)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("landing")
    return root, write_demo_landing(root, seed=7, **SMALL)


@pytest.fixture(scope="module")
def default_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("default_landing")
    return root, write_demo_landing(root)


def test_same_seed_is_byte_identical(tmp_path: Path) -> None:
    write_demo_landing(tmp_path / "a", seed=3, **SMALL)
    write_demo_landing(tmp_path / "b", seed=3, **SMALL)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a and a == b


def test_different_seed_differs(tmp_path: Path) -> None:
    write_demo_landing(tmp_path / "a", seed=3, **SMALL)
    write_demo_landing(tmp_path / "b", seed=4, **SMALL)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a != b


def test_rerun_replaces_earlier_demo_output(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    write_demo_landing(fresh, seed=5, customers=200, months=6)
    reused = tmp_path / "reused"
    write_demo_landing(reused, seed=9, customers=300, months=10)

    write_demo_landing(reused, seed=5, customers=200, months=6)

    assert _snapshot(reused) == _snapshot(fresh)
    assert not (reused / "2023-12-01").exists()  # left over from the 10-month run


def _real_landing(root: Path) -> Path:
    """A user's landing folder: one CRM batch the demo did not write."""
    (root / "2024-01-31").mkdir(parents=True)
    (root / "2024-01-31" / "orders.csv").write_text("order_id,customer_id,ordered_at,amount,currency,status\n")
    return root


def _other_file(root: Path) -> None:
    root.mkdir()
    (root / "notes.txt").write_text("mine")


def _edited_demo(root: Path) -> None:
    write_demo_landing(root, customers=20, months=2)
    (root / "2023-02-01" / "orders.csv").write_text("edited")


def _added_to_demo(root: Path) -> None:
    write_demo_landing(root, customers=20, months=2)
    (root / "2023-02-01" / "README").write_text("mine")


@pytest.mark.parametrize("prepare", [_real_landing, _other_file, _edited_demo, _added_to_demo])
def test_refuses_a_folder_holding_anything_but_earlier_demo_output(tmp_path: Path, prepare) -> None:
    root = tmp_path / "landing"
    prepare(root)
    before = _snapshot(root)
    with pytest.raises(UsageError, match="not earlier demo output"):
        write_demo_landing(root, customers=50, months=3)
    assert _snapshot(root) == before


def test_cli_refuses_the_configured_landing_folder_and_changes_nothing(tmp_path: Path) -> None:
    landing = _real_landing(tmp_path / "landing")
    before = _snapshot(landing)
    for args, env in (([], {"RETENTION_LANDING_DIR": str(landing)}), (["--out", str(landing)], {})):
        done = subprocess.run([str(RETENTION), "demo", *args], env=dict(os.environ, **env), capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "not earlier demo output" in done.stderr
        assert "Traceback" not in done.stderr
    assert _snapshot(landing) == before


def test_layout_and_headers(landing: tuple[Path, dict]) -> None:
    root, summary = landing
    batches = _batches(root)
    assert [p.name for p in batches] == [date(2023 + (m // 12), m % 12 + 1, 1).isoformat() for m in range(1, SMALL["months"] + 1)]
    assert summary["batches"] == len(batches)
    for batch in batches:
        assert sorted(p.name for p in batch.iterdir()) == ["customers.csv", "orders.csv"]
        for name, header in (("customers.csv", CUSTOMER_HEADER), ("orders.csv", ORDER_HEADER)):
            raw = (batch / name).read_bytes()
            assert b"\r" not in raw
            assert raw.decode("utf-8").split("\n", 1)[0] == ",".join(header)


def test_summary_counts_distinct_ids(landing: tuple[Path, dict]) -> None:
    root, summary = landing
    customer_ids = {r["customer_id"] for b in _batches(root) for r in _read(b / "customers.csv")}
    order_ids = {r["order_id"] for b in _batches(root) for r in _read(b / "orders.csv")}
    assert summary == {"batches": SMALL["months"], "customers": SMALL["customers"], "orders": len(order_ids)}
    assert len(customer_ids) == SMALL["customers"]


def test_values_are_well_formed(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    for batch in _batches(root):
        for row in _read(batch / "customers.csv"):
            assert TS.fullmatch(row["created_at"])
            assert row["channel"] in {"web", "app", "store", "partner"}
            assert row["region"] in {"north", "south", "east", "west"}
            assert re.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.(com|org|net)", row["email"])
        for row in _read(batch / "orders.csv"):
            assert TS.fullmatch(row["ordered_at"])
            assert AMOUNT.fullmatch(row["amount"])
            assert row["currency"] == "USD"
            assert row["status"] in STATUSES


def _activity_month(batch: Path) -> str:
    """'YYYY-MM' of the month whose deltas the batch holds (the month before its date)."""
    exported = date.fromisoformat(batch.name)
    year, month = (exported.year - 1, 12) if exported.month == 1 else (exported.year, exported.month - 1)
    return f"{year}-{month:02d}"


def test_batches_hold_their_month_or_updates_of_earlier_rows(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    seen = {"customer_id": set(), "order_id": set()}
    for batch in _batches(root):
        month = _activity_month(batch)
        for name, key, ts in (("customers.csv", "customer_id", "created_at"), ("orders.csv", "order_id", "ordered_at")):
            rows = _read(batch / name)
            for row in rows:
                is_new = row[ts].startswith(month)
                assert is_new or (row[ts] < month and row[key] in seen[key]), (batch.name, row)
            seen[key] |= {row[key] for row in rows}


def test_orders_reference_known_customers(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    known: set[str] = set()
    for batch in _batches(root):
        known |= {r["customer_id"] for r in _read(batch / "customers.csv")}
        missing = {r["customer_id"] for r in _read(batch / "orders.csv")} - known
        assert not missing, (batch.name, sorted(missing)[:5])


def test_some_orders_change_status_in_later_batch(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    seen: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for batch in _batches(root):
        for row in _read(batch / "orders.csv"):
            seen[row["order_id"]].append((batch.name, row["status"], row["ordered_at"]))
    changed = {oid: rows for oid, rows in seen.items() if len(rows) > 1}
    transitions = {(rows[0][1], rows[-1][1]) for rows in changed.values()}
    assert ("pending", "completed") in transitions
    assert ("completed", "refunded") in transitions
    for rows in changed.values():
        assert len({b for b, _, _ in rows}) == len(rows)  # one row per order per batch
        assert len({s for _, s, _ in rows}) == len(rows)
        assert len({t for _, _, t in rows}) == 1  # ordered_at never changes


def test_some_customers_change_region_later(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    regions: dict[str, list[str]] = defaultdict(list)
    for batch in _batches(root):
        for row in _read(batch / "customers.csv"):
            regions[row["customer_id"]].append(row["region"])
    assert any(len(r) > 1 and r[0] != r[-1] for r in regions.values())


def _completed_months(root: Path) -> dict[str, set[str]]:
    # Latest status wins: a later refund or cancellation means the month wasn't active.
    latest: dict[str, dict[str, str]] = {}
    for batch in _batches(root):
        for row in _read(batch / "orders.csv"):
            latest[row["order_id"]] = row
    active: dict[str, set[str]] = defaultdict(set)
    for row in latest.values():
        if row["status"] == "completed":
            active[row["customer_id"]].add(row["ordered_at"][:7])
    return active


def _reactivated(active_months: set[str], months: list[str]) -> bool:
    flags = [m in active_months for m in months]
    return any(flags[i] and not flags[i + 1] and any(flags[i + 2 :]) for i in range(len(flags) - 1))


def test_churn_and_reactivation(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    months = [_activity_month(b) for b in _batches(root)]
    active = _completed_months(root)
    assert sum(_reactivated(ms, months) for ms in active.values()) >= 10
    # churn: some buyers are active in one month only
    assert any(len(ms) == 1 for ms in active.values())


def test_some_customers_never_order(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    customers = {r["customer_id"] for b in _batches(root) for r in _read(b / "customers.csv")}
    buyers = {r["customer_id"] for b in _batches(root) for r in _read(b / "orders.csv")}
    assert 0 < len(customers - buyers) < len(customers) * 0.4


def test_some_fields_need_quoting(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    tricky = [r["name"] for b in _batches(root) for r in _read(b / "customers.csv") if "," in r["name"] or '"' in r["name"]]
    assert any("," in n for n in tricky) and any('"' in n for n in tricky)
    raw = "".join((b / "customers.csv").read_text(encoding="utf-8") for b in _batches(root))
    assert any(f'"{n.replace(chr(34), chr(34) * 2)}"' in raw for n in tricky)
    assert re.search(r'""[A-Za-z]+""', raw)  # embedded quotes are doubled per RFC 4180


def test_default_run_shape(default_landing: tuple[Path, dict]) -> None:
    root, summary = default_landing
    assert summary["batches"] == 30 and summary["customers"] == 3000
    assert summary["orders"] > 3000
    statuses = [r["status"] for b in _batches(root) for r in _read(b / "orders.csv")]
    assert 0.8 < statuses.count("completed") / len(statuses) < 0.95


def test_signups_are_seasonal(default_landing: tuple[Path, dict]) -> None:
    root, _ = default_landing
    per_month: dict[int, int] = defaultdict(int)
    first_seen: dict[str, str] = {}
    for batch in _batches(root):
        for row in _read(batch / "customers.csv"):
            first_seen.setdefault(row["customer_id"], row["created_at"])
    for created in first_seen.values():
        per_month[int(created[5:7])] += 1
    holiday = (per_month[11] + per_month[12]) / 2
    summer = (per_month[6] + per_month[7] + per_month[8]) / 3
    assert holiday > 1.3 * summer


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_demo_landing(tmp_path, customers=-1)
    with pytest.raises(ValueError):
        write_demo_landing(tmp_path, months=-1)


def test_cli_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "out"), "--seed", "1", "--customers", "50", "--months", "4"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["batches"] == 4 and summary["customers"] == 50
    assert summary == write_demo_landing(tmp_path / "again", seed=1, customers=50, months=4)
