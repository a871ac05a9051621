"""Column mappings are validated whole by `mapping_for`, before any batch is read.

Each mapping is a real YAML file in tmp_path; the messages are the sentences a CRM admin reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.errors import MappingError
from retention.ingest.mapping import mapping_for


def landing_with(tmp_path: Path, text: str | bytes) -> Path:
    landing = tmp_path / "landing"
    landing.mkdir(exist_ok=True)
    path = landing / "retention_mapping.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return landing


def error_of(landing: Path, override: str | None = None) -> str:
    with pytest.raises(MappingError) as caught:
        mapping_for(landing, override)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


TABLE_KEYS = "columns, pii, status_values"


@pytest.mark.parametrize(
    "text, key, allowed",
    [
        ("tables:\n  customers:\n    colums:\n      customer_id: [Kunde]\n", "tables.customers.colums", TABLE_KEYS),
        ("tables:\n  orders:\n    status_value:\n      fertig: completed\n", "tables.orders.status_value", TABLE_KEYS),
        ("extends: canonical\ntabels:\n  orders: {}\n", "tabels", "name, extends, timezone, encoding, tables"),
        ("tables:\n  order:\n    pii: [email]\n", "tables.order", "customers, orders"),
    ],
    ids=["colums", "status_value", "tabels", "order"],
)
def test_a_misspelt_key_names_the_file_the_key_and_what_is_allowed(tmp_path, text, key, allowed):
    landing = landing_with(tmp_path, text)
    message = error_of(landing)
    assert str(landing / "retention_mapping.yml") in message
    assert f"{key}: unknown key (allowed: {allowed})" in message, message


def test_a_misspelt_key_in_a_parent_names_the_parent(tmp_path):
    landing = landing_with(tmp_path, "extends: base.yml\n")
    (landing / "base.yml").write_text("extends: canonical\ntimezon: UTC\n")
    message = error_of(landing)
    assert message.startswith(f"column mapping {landing / 'base.yml'}: timezon: unknown key"), message


def chain(landing: Path, hops: int) -> None:
    """retention_mapping.yml extends m1.yml … extends canonical: `hops` extends in all."""
    names = ["retention_mapping.yml", *(f"m{i}.yml" for i in range(1, hops)), "canonical"]
    for here, parent in zip(names, names[1:]):
        (landing / here).write_text(f"extends: {parent}\n")


def test_five_extends_load_and_a_sixth_is_refused(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    chain(landing, 5)
    mapping = mapping_for(landing, None)
    assert mapping.tables["orders"].aliases["total"] == "amount"  # canonical reached through five files
    chain(landing, 6)
    message = error_of(landing)
    assert str(landing / "retention_mapping.yml") in message
    assert "more than 5 levels of extends" in message, message


def test_an_extends_cycle_is_refused(tmp_path):
    landing = landing_with(tmp_path, "extends: a.yml\n")
    (landing / "a.yml").write_text("extends: b.yml\n")
    (landing / "b.yml").write_text("extends: a.yml\n")
    message = error_of(landing)
    assert "extends cycle" in message, message
    assert "a.yml -> " in message and "b.yml -> " in message


def test_a_timezone_that_is_not_an_iana_zone(tmp_path):
    landing = landing_with(tmp_path, "extends: canonical\ntimezone: Europe/Berlinn\n")
    message = error_of(landing)
    assert message.startswith(f"column mapping {landing / 'retention_mapping.yml'}: timezone: "), message
    assert "'Europe/Berlinn' is not an IANA time zone" in message


def test_a_valid_timezone_and_encoding_are_kept(tmp_path):
    landing = landing_with(tmp_path, "extends: canonical\ntimezone: Europe/Berlin\nencoding: Windows-1252\n")
    mapping = mapping_for(landing, None)
    assert (mapping.timezone, mapping.encoding) == ("Europe/Berlin", "cp1252")


@pytest.mark.parametrize("codec", ["latin-99", "zlib"])
def test_an_encoding_that_is_not_a_text_codec(tmp_path, codec):
    landing = landing_with(tmp_path, f"extends: canonical\nencoding: {codec}\n")
    message = error_of(landing)
    assert f"encoding: {codec!r} is not a text encoding Python knows" in message, message


def test_unknown_status_and_non_contract_column_still_refused(tmp_path):
    landing = landing_with(tmp_path, "tables:\n  orders:\n    status_values:\n      fertig: shipped\n")
    assert "tables.orders.status_values: maps to unknown statuses ['shipped']" in error_of(landing)
    landing = landing_with(tmp_path, "tables:\n  customers:\n    columns:\n      email: [Mail]\n")
    assert "tables.customers.columns: 'email' is not a contract column" in error_of(landing)


def test_unreadable_yaml_and_undecodable_bytes_name_the_file(tmp_path):
    landing = landing_with(tmp_path, "tables: [\n")
    assert error_of(landing).startswith(f"column mapping {landing / 'retention_mapping.yml'}: not valid YAML")
    landing = landing_with(tmp_path, b"name: M\xfcller\n")
    assert error_of(landing).startswith(f"column mapping {landing / 'retention_mapping.yml'}: not UTF-8")


def test_setting_naming_no_shipped_mapping(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    message = error_of(landing, "nosuch")
    assert message == (
        "RETENTION_COLUMN_MAPPING='nosuch': no shipped column mapping of that name "
        "(have: canonical, hubspot, zh_cn) and no such .yml file"
    )


def test_setting_naming_a_missing_file_is_resolved_from_the_project_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RETENTION_HOME", str(tmp_path))
    landing = tmp_path / "landing"
    landing.mkdir()
    message = error_of(landing, "missing.yml")
    assert message.startswith(f"RETENTION_COLUMN_MAPPING='missing.yml': no such file ({tmp_path / 'missing.yml'})"), message
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "mine.yml").write_text("extends: hubspot\ntimezone: America/New_York\n")
    mapping = mapping_for(landing, "maps/mine.yml")
    assert mapping.timezone == "America/New_York"
    assert mapping.tables["orders"].aliases["deal id"] == "order_id"


def test_setting_naming_a_broken_file_says_so_first(tmp_path, monkeypatch):
    monkeypatch.setenv("RETENTION_HOME", str(tmp_path))
    (tmp_path / "mine.yml").write_text("extends: canonical\ntables:\n  orders:\n    pi: [email]\n")
    message = error_of(tmp_path, "mine.yml")
    assert message.startswith("RETENTION_COLUMN_MAPPING='mine.yml': column mapping "), message
    assert "tables.orders.pi: unknown key" in message


def test_the_cli_prints_one_line_for_a_broken_mapping(warehouse):
    (warehouse.landing / "retention_mapping.yml").write_text("extends: zh_cn\ntimezone: Asia/Shanghia\n")
    (warehouse.landing / "2024-03-10").mkdir()
    (warehouse.landing / "2024-03-10" / "orders.csv").write_text(
        "订单编号,客户编号,下单时间,金额,币种,状态\no1,c1,2024-03-01 08:00:00,1,CNY,已完成\n", encoding="utf-8"
    )
    done = warehouse.run("run", check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "timezone: 'Asia/Shanghia' is not an IANA time zone" in done.stderr + done.stdout
