"""Descriptions of the published `audit.*` tables and columns, written as DuckDB comments by publish
(docs/reference.md says the same in prose)."""

from __future__ import annotations

from ..ingest.batch_log import REMOVED_COLUMNS
from ..run_info import COLUMNS as RUN_INFO_COLUMNS
from ..run_info import DESCRIPTION as RUN_INFO_DESCRIPTION

REFERENCE = "docs/reference.md"

AUDIT_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "audit.run_info": (RUN_INFO_DESCRIPTION, {c: d for c, (_, d) in RUN_INFO_COLUMNS.items()}),
    "audit.check_results": (
        f"Every data-quality check of every run: observed vs expected, status and the offending rows ({REFERENCE}, The audit).",
        {
            "run_id": "The run that evaluated the check (audit.run_info.run_id for the run that published this file).",
            "checked_at": "When the run's checks were evaluated (UTC).",
            "check_name": "The check (freshness, one_currency, period_end_identity, …).",
            "description": "What must hold, in words.",
            "severity": "fail: a failure stops the publish; warn: reported and kept.",
            "status": "passed, failed, warned, error (could not be evaluated: counts as failed) or skipped.",
            "rows_checked": "How many rows (files, periods, cohorts, batches) the check compared.",
            "rows_failed": "How many of them did not hold.",
            "observed": "The first failing row's observed value (or the single row's).",
            "expected": "Its expected value (a bound for at-most checks such as freshness, in days).",
            "details": "The failing rows in words (batch and file, period, cohort or keys), with units and what to do.",
        },
    ),
    "audit.load_manifest": (
        f"Per batch and export file now in the lake: its checksum, encoding and rows read / loaded / quarantined ({REFERENCE}).",
        {
            "batch_date": "The batch (its landing folder's date, the day the CRM export was taken).",
            "file_name": "customers.csv or orders.csv (matched ignoring case in the landing folder).",
            "table_name": "customers or orders.",
            "present": "false: the batch had no such file (allowed: no rows of that kind in this batch).",
            "sha256": "The file's SHA-256 as loaded.",
            "size_bytes": "The file's size in bytes.",
            "encoding": "The codec the file was read with (utf-8, utf-8-sig, gb18030, cp1252, …).",
            "parser": "Which CSV reader loaded it (DuckDB's, or the record splitter for multi-line records).",
            "rows_read": "Records read after the header; rows_read = rows_loaded + rows_quarantined.",
            "rows_loaded": "Rows that passed validation and feed the marts.",
            "rows_quarantined": "Rows kept in the quarantine with a reason (`retention quarantine` shows them).",
            "load_id": "The load of this batch the lake holds (a re-delivery makes a new one).",
            "loaded_at": "When that load was made (UTC).",
        },
    ),
    "audit.quarantine_summary": (
        f"Quarantined rows per batch, file and reason, with example offending values; `retention quarantine` shows "
        f"the rows ({REFERENCE}, Reading the quarantine).",
        {
            "batch_date": "The batch.",
            "source_file": "The export file, as <batch>/<file>.",
            "table_name": "customers or orders.",
            "reason": "The kind of problem (unknown status, unparseable ordered_at, wrong number of fields, …).",
            "rows_quarantined": "How many rows of the file have this problem.",
            "first_line": "The first line of the file (header = line 1) with it.",
            "example_values": "Up to 3 distinct offending values (e.g. shipped), never personal data.",
        },
    ),
    "audit.removed_batches": (
        f"Batches taken out of the lake on purpose (`retention batches remove`), restored or re-delivered since: "
        f"who, when and why ({REFERENCE}, Removing a batch).",
        {c: d for c, (_, d) in REMOVED_COLUMNS.items()},
    ),
}
