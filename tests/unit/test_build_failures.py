"""What a failed dbt step says about each failed node (build._failures): the node and dbt's reason."""

from __future__ import annotations

import json

from retention.warehouse.build import _failures


def test_a_failed_model_says_the_database_error_not_only_that_it_failed(tmp_path):
    message = (
        "Runtime Error in model int_customer_activity_by_period (models/intermediate/int_customer_activity_by_period.sql)\n"
        '  Conversion Error: Casting value "180000000000000.0000" to type DECIMAL(18,4) failed: value is out of range!\n'
        "  \n  LINE 34:         cast(date_trunc('month', ordered_at_local) as date) as period_start...\n"
    )
    results = [
        {"unique_id": "model.retention.int_customer_activity_by_period", "status": "error", "message": message},
        {"unique_id": "test.retention.not_null_x", "status": "fail", "message": "Got 2 results, configured to fail if != 0"},
        {"unique_id": "model.retention.stg_crm__orders", "status": "success", "message": "OK"},
    ]
    (tmp_path / "00.json").write_text(json.dumps({"results": results}))

    said = _failures(tmp_path)

    assert len(said) == 2
    assert said[0].startswith("model.retention.int_customer_activity_by_period: error (Runtime Error in model")
    assert "Conversion Error: Casting value" in said[0] and "out of range" in said[0] and "LINE 34" not in said[0]
    assert said[1] == "test.retention.not_null_x: fail (Got 2 results, configured to fail if != 0)"


def test_a_failed_unit_test_is_said_without_terminal_colours(tmp_path):
    message = "\x1b[32mactual\x1b[0m differs from \x1b[31mexpected\x1b[0m:\n\x1b[0;1m@@\x1b[0m,period_grain\n"
    results = [{"unique_id": "unit_test.retention.m.t", "status": "fail", "message": message}]
    (tmp_path / "00.json").write_text(json.dumps({"results": results}))

    assert _failures(tmp_path) == ["unit_test.retention.m.t: fail (actual differs from expected: / @@,period_grain)"]
