"""`retention` — the command line (contract §3). The DAG calls the same functions."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

from .config import load_settings
from .errors import BatchStateError, RetentionError, RunFailed


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_run(args) -> int:
    from .pipeline import check_warnings, run
    from .pipeline import target_path as pipeline_target
    from .report import audit_summary

    settings = load_settings()
    started = time.monotonic()
    summary = run(settings, args.through, full_refresh=args.full_refresh)
    plan = summary.plan
    print(
        f"run {plan.run_id}: batches loaded {len(plan.loaded_batches)} "
        f"({', '.join(plan.loaded_batches[:5])}{' …' if len(plan.loaded_batches) > 5 else ''}), "
        f"unchanged {plan.unchanged_batches}; rows read {plan.rows.get('rows_read', 0)}, "
        f"loaded {plan.rows.get('rows_loaded', 0)}, quarantined {plan.rows.get('rows_quarantined', 0)}"
    )
    if plan.up_to_date:
        print(f"nothing new: {pipeline_target(settings, plan)} is already up to date and was left as it was")
    else:
        print("audit:")
        print(audit_summary(summary.checks))
        what = f"the snapshot as of {plan.as_of} (the published marts are newer)" if plan.target == "snapshot" else "the marts"
        print(f"published {what} to {summary.published} in {time.monotonic() - started:.1f}s")
    for warning in check_warnings(summary.checks):  # the ingest's warnings were logged as they came
        print(f"retention: warning: {warning}", file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    from .report import last_run, load_status

    print(last_run(load_settings()) if args.last_run else load_status(load_settings()))
    return 0


def cmd_batches(args) -> int:
    from .report import batches_table

    settings = load_settings()
    if args.action == "remove":
        return _remove_batch(settings, args.date.isoformat(), args.reason)
    if args.action == "restore":
        return _restore_batch(settings, args.date.isoformat())
    print(batches_table(settings))
    return 0


def _remove_batch(settings, batch: str, reason: str) -> int:
    from .database import connect
    from .ingest import batch_log, lake
    from .pipeline import locked

    if not reason.strip():
        raise BatchStateError("--reason must say why the batch is removed (it is kept in the batch log)")
    with locked(settings, f"retention batches remove {batch}"):
        con = connect(settings)
        try:
            files = {
                r["table_name"]: r["sha256"]
                for r in lake.manifest(con, settings.lake_dir)
                if str(r["batch_date"]) == batch and r["present"]
            }
        finally:
            con.close()
        if batch not in lake.batch_names(settings.lake_dir):
            held = ", ".join(lake.batch_names(settings.lake_dir)) or "none"
            raise BatchStateError(f"batch {batch} is not in the lake (batches there: {held}); `retention batches` lists them")
        batch_log.append(settings.lake_dir, batch, "removed", reason=reason.strip(), files=files)
        lake.remove_batch(settings.lake_dir, batch)
    folder = settings.landing_dir / batch
    print(f"removed batch {batch} from the lake; the next `retention run` rebuilds the marts without it")
    if folder.exists():
        print(
            f"its landing folder {folder} is still there: it stays out of the lake until its files change "
            f"(a corrected re-delivery) or `retention batches restore {batch}`"
        )
    return 0


def _restore_batch(settings, batch: str) -> int:
    from .ingest import batch_log
    from .pipeline import locked

    with locked(settings, f"retention batches restore {batch}"):
        if batch not in batch_log.removed(settings.lake_dir):
            raise BatchStateError(f"batch {batch} is not a removed batch; `retention batches` lists the batches and their state")
        batch_log.append(settings.lake_dir, batch, "restored", reason="retention batches restore")
    folder = settings.landing_dir / batch
    if folder.exists():
        print(f"restored batch {batch}: the next `retention run` loads it again from {folder}")
    else:
        print(f"restored batch {batch}, but its landing folder {folder} is gone: deliver it again to load it")
    return 0


def cmd_quarantine(args) -> int:
    import csv

    from .report import quarantine_rows, quarantine_table

    settings = load_settings()
    rows = quarantine_rows(settings, args.batch.isoformat() if args.batch else None, args.reason)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["batch", "file", "line", "reason", "raw_text"])
            w.writerows(rows)
        print(f"wrote {len(rows)} quarantined rows to {args.csv}")
        return 0
    if not rows:
        print("no quarantined rows" + (" match" if args.batch or args.reason else ""))
        return 0
    print(quarantine_table(rows))
    print(f"{len(rows)} rows; personal data is hashed; --csv FILE writes them for the CRM owner")
    return 0


def cmd_show(args) -> int:
    from .report import marts_overview

    settings = load_settings()
    if not settings.warehouse.exists():
        print(f"{settings.warehouse} does not exist yet: run `retention run` first", file=sys.stderr)
        return 1
    print(marts_overview(settings.warehouse))
    return 0


def cmd_demo(args) -> int:
    from .demo import write_demo_landing

    settings = load_settings()
    out = args.out or settings.landing_dir
    summary = write_demo_landing(out, seed=args.seed, customers=args.customers, months=args.months)
    print(f"demo CRM exports in {out}: {summary}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="retention", description="Customer-retention warehouse.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="load new batches, build the marts, audit and publish")
    r.add_argument("--through", type=_date, default=None, help="only batches dated on or before this day")
    r.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild and publish even when the marts are up to date (the batches themselves reload when their files change)",
    )
    r.set_defaults(func=cmd_run)
    st = sub.add_parser("status", help="batches loaded, row counts and quarantine reasons")
    st.add_argument("--last-run", action="store_true", help="only how the last run ended, with its warnings")
    st.set_defaults(func=cmd_status)
    b = sub.add_parser("batches", help="the lake's batches and their state; remove or restore one")
    b.set_defaults(func=cmd_batches, action="list")
    bsub = b.add_subparsers(dest="action")
    rm = bsub.add_parser("remove", help="take a batch out of the lake on purpose (kept in the batch log)")
    rm.add_argument("date", type=_date, help="the batch date (YYYY-MM-DD)")
    rm.add_argument("--reason", required=True, help="why (kept in the batch log and in audit.removed_batches)")
    rs = bsub.add_parser("restore", help="let a removed batch be loaded again by the next run")
    rs.add_argument("date", type=_date, help="the batch date (YYYY-MM-DD)")
    q = sub.add_parser("quarantine", help="the quarantined rows with file, line and reason (personal data hashed)")
    q.add_argument("--batch", type=_date, default=None, help="only this batch (YYYY-MM-DD)")
    q.add_argument("--reason", default=None, help="only reasons starting with this, e.g. 'unknown status'")
    q.add_argument("--csv", type=Path, default=None, help="write the rows to this CSV file instead")
    q.set_defaults(func=cmd_quarantine)
    sub.add_parser("show", help="print the latest period retention and a cohort table").set_defaults(func=cmd_show)
    d = sub.add_parser("demo", help="write the demo CRM exports into the landing folder")
    d.add_argument("--out", type=Path, default=None)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--customers", type=int, default=3000)
    d.add_argument("--months", type=int, default=30)
    d.set_defaults(func=cmd_demo)
    return p


class _Formatter(logging.Formatter):
    """Warnings on the terminal as `retention: warning: …`, like the errors."""

    def format(self, record: logging.LogRecord) -> str:
        return f"retention: {record.levelname.lower()}: {record.getMessage()}"


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        return args.func(args)
    except RetentionError as e:  # the user can act on it: one line, no traceback (errors.py)
        print(f"retention: {e}", file=sys.stderr)
        if isinstance(e, RunFailed):
            print("retention: nothing was published; readers still see the previous marts", file=sys.stderr)
        return e.exit_code


def entry() -> None:
    """The `retention` command: main(), then out without the interpreter's teardown, which frees every
    module of great-expectations, dbt and pandas one by one (0.8 s after each run). Everything that
    must reach the disk is written and closed by then; the console streams and the log are flushed here.
    An unexpected exception still leaves the normal way, with its traceback."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    entry()
