"""`retention` — the command line (contract §3). The DAG calls the same functions."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

from .config import load_settings
from .errors import RetentionError, RunFailed


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_run(args) -> int:
    from .pipeline import run
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
    return 0


def cmd_status(args) -> int:
    from .report import load_status

    print(load_status(load_settings()))
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
    sub.add_parser("status", help="batches loaded, row counts and quarantine reasons").set_defaults(func=cmd_status)
    sub.add_parser("show", help="print the latest period retention and a cohort table").set_defaults(func=cmd_show)
    d = sub.add_parser("demo", help="write the demo CRM exports into the landing folder")
    d.add_argument("--out", type=Path, default=None)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--customers", type=int, default=3000)
    d.add_argument("--months", type=int, default=30)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except RetentionError as e:  # the user can act on it: one line, no traceback (errors.py)
        print(f"retention: {e}", file=sys.stderr)
        if isinstance(e, RunFailed):
            print("retention: nothing was published; readers still see the previous marts", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
