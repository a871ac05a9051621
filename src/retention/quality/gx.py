"""great-expectations plumbing: the suite as data, a file context with a Data Docs site, the
checkpoint run over the reconciliation frame, and the pages kept.

GX validates the frame of (check, key, observed, expected) rows as a pandas dataframe: its SQL route
evaluates nothing on DuckDB 2. `verdict_of` reads GX's result strictly: a result that raised, or that
carries no element count, is not a success.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..config import Settings
from ..durable import write_text
from .check import Check
from .judge import CheckResult

if TYPE_CHECKING:  # GX is imported where it is used: it takes seconds to import
    from great_expectations.data_context.store.store import DataDocsSiteConfigTypedDict
    from great_expectations.expectations import Expectation

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no telemetry from a nightly job
SUITE = "retention_reconciliation"


def _suite_expectations(checks: list[Check]) -> list[Expectation]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    out: list[Expectation] = []
    for c in checks:
        row_condition = Column("check") == c.name
        meta = {"check": c.name, "description": c.description, "severity": c.severity.value}
        description = f"{c.name} ({c.severity}): {c.description}"
        if c.compare == "at_most":
            out.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="expected",
                    column_B="observed",
                    or_equal=True,
                    row_condition=row_condition,
                    meta=meta,
                    description=description,
                )
            )
        elif c.compare == "equal":
            out.append(
                gxe.ExpectColumnPairValuesToBeEqual(
                    column_A="observed", column_B="expected", row_condition=row_condition, meta=meta, description=description
                )
            )
        else:
            raise ValueError(f"check {c.name}: unknown comparison {c.compare!r}")
    return out


def verdict_of(result) -> dict:
    """One GX ExpectationValidationResult as {"success", "evaluated", "error"}. A result that raised,
    or that carries no element count (GX did not look at the rows), is not a success."""
    info = result.exception_info or {}
    raised = info.get("raised_exception") or any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
    evaluated = (result.result or {}).get("element_count")
    error = "GX raised an exception" if raised else (None if evaluated is not None else "no element count")
    return {"success": bool(result.success) and not raised and evaluated is not None, "evaluated": evaluated, "error": error}


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root = settings.state_dir / "gx"
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    site: DataDocsSiteConfigTypedDict = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(settings.data_docs_dir)},
    }
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # The site's folder is written into the context's YAML as an absolute path: a state folder that was moved
    # or restored elsewhere must not go on writing its Data Docs to the old place.
    sites = context.variables.data_docs_sites or {}
    if "retention" not in sites:
        context.add_data_docs_site(site_name="retention", site_config=site)
    elif sites["retention"].get("store_backend", {}).get("base_directory") != str(settings.data_docs_dir):
        context.update_data_docs_site(site_name="retention", site_config=site)
    return context


def validate(settings: Settings, frame: pd.DataFrame, checks: list[Check], run_id: str) -> dict[str, dict]:
    """GX verdict per check: {"success": bool, "evaluated": rows GX saw, "error": str | None}."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    context = _context(settings)
    source = context.data_sources.add_or_update_pandas("reconciliation")
    asset = next((a for a in source.assets if a.name == "checks"), None) or source.add_dataframe_asset("checks")
    batch = next((b for b in asset.batch_definitions if b.name == "run"), None) or asset.add_batch_definition_whole_dataframe(
        "run"
    )
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=SUITE, expectations=_suite_expectations(checks)))
    definition = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=SUITE, data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="retention_audit",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=["retention"])],
        )
    )
    outcome = checkpoint.run(
        batch_parameters={"dataframe": frame},
        run_id=gx.core.run_identifier.RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC)),
    )
    prune_validation_pages(settings)
    verdicts: dict[str, dict] = {}
    for result in outcome.run_results.values():
        for r in result.results:
            check = (r.expectation_config.meta or {}).get("check")
            if check is not None:  # every expectation of the suite names its check (_suite_expectations)
                verdicts[check] = verdict_of(r)
    return verdicts


DATA_DOCS_RUNS_KEPT = 60  # nightly: two months of HTML; audit.check_results keeps every run for good


def prune_validation_pages(settings: Settings, keep: int = DATA_DOCS_RUNS_KEPT) -> list[Path]:
    """Drop the Data Docs pages (and GX's stored results) of all but the newest `keep` runs, so the
    HTML does not grow by a megabyte a night forever. Run names sort by time (see new_run_id)."""
    removed = []
    for root in (
        settings.data_docs_dir / "validations" / SUITE,
        settings.state_dir / "gx" / "gx" / "uncommitted" / "validations" / SUITE,
    ):
        if root.is_dir():
            runs = sorted(p for p in root.iterdir() if p.is_dir())
            for old in runs[:-keep] if keep > 0 else runs:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old)
    return removed


SUMMARY_START, SUMMARY_END = "<!-- retention-audit-summary -->", "<!-- /retention-audit-summary -->"


def write_docs_summary(settings: Settings, run_id: str, results: list[CheckResult]) -> Path | None:
    """Put this run's checks at the top of the Data Docs index.html (GX's index lists suites and
    runs only), so that the page a person opens names every check and its outcome."""
    index = settings.data_docs_dir / "index.html"
    if not index.is_file():
        return None
    text = index.read_text(encoding="utf-8")
    if SUMMARY_START in text:
        text = text[: text.index(SUMMARY_START)] + text[text.index(SUMMARY_END) + len(SUMMARY_END) :]
    rows = "".join(
        f"<tr><td>{html.escape(r.check_name)}</td><td>{html.escape(r.status)}</td><td>{html.escape(r.severity)}</td>"
        f"<td>{r.rows_checked}</td><td>{html.escape(r.observed)}</td><td>{html.escape(r.expected)}</td>"
        f"<td>{html.escape(r.details)}</td></tr>"
        for r in results
    )
    block = (
        f'{SUMMARY_START}<div class="container" style="margin-top:1em"><h3>Retention audit, run '
        f'{html.escape(run_id)}</h3><table class="table table-sm"><thead><tr><th>check</th><th>status</th>'
        f"<th>severity</th><th>rows</th><th>observed</th><th>expected</th><th>details</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>{SUMMARY_END}"
    )
    at = text.find("<body>")
    text = text[: at + 6] + block + text[at + 6 :] if at >= 0 else block + text
    write_text(index, text)
    return index
