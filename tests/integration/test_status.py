"""`retention status` tells an operator what happened without reading logs."""

from __future__ import annotations

import pytest

from tests.support.landing import order, write_batch


@pytest.mark.slow  # two runs of the whole pipeline (dbt) through the CLI
def test_status_shows_the_failed_run_and_the_rejected_batch_with_its_reason(warehouse):
    write_batch(
        warehouse.landing,
        "2024-02-01",
        customers=[],
        orders=[order("O1", "C1", "2024-01-05", amount="5")],
    )
    bad = warehouse.landing / "2024-03-01"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id;customer_id;ordered_at;amount;currency;status\n")

    failed = warehouse.run("run", check=False)
    status = warehouse.run("status").stdout

    assert failed.returncode == 1
    assert "last run: retention run" in status and "failed" in status
    rejected = status.split("batches rejected by the last ingest")[1].split("\n\n")[0]
    assert "2024-03-01" in rejected and "orders.csv" in rejected and "semicolon-separated" in rejected
    good = next(line for line in status.splitlines() if line.startswith("2024-02-01") and ":" in line)
    assert good.split()[3:9] == ["0", "0", "0", "1", "1", "0"]

    (bad / "orders.csv").write_text("order_id,customer_id,ordered_at,amount,currency,status\n")
    warehouse.run("run")
    status = warehouse.run("status").stdout
    assert "batches rejected" not in status and "published" in status.splitlines()[0]


def test_a_through_date_before_every_batch_is_a_clear_error(warehouse):
    write_batch(warehouse.landing, "2024-02-01", customers=[], orders=[])
    done = warehouse.run("run", "--through", "2023-12-31", check=False)
    assert done.returncode == 1
    assert "dated on or before 2023-12-31" in done.stderr
    assert not warehouse.path.exists()


def test_a_through_date_before_every_loaded_batch_is_a_clear_error(warehouse):
    import datetime as dt

    from retention.config import load_settings
    from retention.errors import RunFailed
    from retention.pipeline import stage_ingest

    write_batch(warehouse.landing, "2024-02-01", customers=[], orders=[])
    settings = load_settings(warehouse.env)
    stage_ingest(settings, None)  # the batch is in the lake now
    with pytest.raises(RunFailed, match="no batch is dated on or before 2023-12-31"):
        stage_ingest(settings, dt.date(2023, 12, 31))
