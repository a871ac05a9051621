"""`retention` — the command line (docs/reference.md §3). The DAG calls the same functions."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

from . import speedups
from .config import load_settings
from .errors import RetentionError, RunFailed

GRAINS = ("week", "month", "quarter", "year")  # of marts.period_retention (docs/reference.md §4.2)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def _positive(text: str) -> int:
    if _count(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not at least 1")
    return int(text)


def _status_json_help() -> str:
    from .status_model import json_help

    return json_help()


def cmd_run(args) -> int:
    from . import progress
    from .console import make_console
    from .pipeline import run
    from .progress_view import reporter_for_terminal
    from .run_view import run_view, warnings_of

    settings = load_settings()
    started = time.monotonic()
    reporter = reporter_for_terminal()
    previous = progress.set_reporter(reporter)
    try:
        with reporter:  # a live display ends (its last frame kept) before anything else is printed
            summary = run(settings, args.through, full_refresh=args.full_refresh)
    finally:
        progress.set_reporter(previous)
    run_view(make_console(), settings, summary, time.monotonic() - started)
    for warning in warnings_of(summary):  # the ingest's warnings were logged as they came
        print(f"retention: warning: {warning}", file=sys.stderr)
    return 0  # the outputs' failure (summary.outputs_error) is said in the summary: the marts are published


def cmd_status(args) -> int:
    from .console import make_console
    from .report import last_run, status_view
    from .status_model import collect_status

    settings = load_settings()
    if args.json:
        print(collect_status(settings).model_dump_json(indent=2))
    elif args.last_run:
        print(last_run(settings))
    else:
        status_view(make_console(), collect_status(settings))
    return 0


def cmd_report(args) -> int:
    import webbrowser

    from .outputs.sets import locations

    report = locations(load_settings()).report
    if not report.exists():  # the link is made by the first publish, and points at the current set
        raise RetentionError(f"there is no published report yet ({report} does not exist): run `retention run` first")
    print(report)
    if args.open:
        url = report.absolute().as_uri()  # the stable name: reloading the page later shows the newest report
        if webbrowser.open(url):
            print(f"opened {url} in a browser")
        else:
            print(f"no browser could be opened here; open {url}")
    return 0


def cmd_batches(args) -> int:
    from .console import make_console
    from .report import batches_view

    settings = load_settings()
    if args.action == "remove":
        return _remove_batch(settings, args.date.isoformat(), args.reason)
    if args.action == "restore":
        return _restore_batch(settings, args.date.isoformat())
    batches_view(make_console(), settings)
    return 0


def _remove_batch(settings, batch: str, reason: str) -> int:
    from .ingest.batch_removal import remove_batch

    removed = remove_batch(settings, batch, reason)
    print(f"removed batch {batch} from the lake; the next `retention run` rebuilds the marts without it")
    if removed.still_landed:
        print(
            f"its landing folder {removed.landing_folder} is still there: it stays out of the lake until its files "
            f"change (a corrected re-delivery) or `retention batches restore {batch}`"
        )
    return 0


def _restore_batch(settings, batch: str) -> int:
    from .ingest.batch_removal import restore_batch

    restored = restore_batch(settings, batch)
    if restored.still_landed:
        print(f"restored batch {batch}: the next `retention run` loads it again from {restored.landing_folder}")
    else:
        print(f"restored batch {batch}, but its landing folder {restored.landing_folder} is gone: deliver it again to load it")
    return 0


def cmd_quarantine(args) -> int:
    import csv

    from .console import make_console
    from .report import quarantine_rows, quarantine_view

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
    quarantine_view(make_console(), rows)
    print(f"{len(rows)} rows; personal data is hashed; --csv FILE writes them for the CRM owner")
    return 0


def cmd_show(args) -> int:
    from .console import make_console
    from .show import marts_view

    settings = load_settings()
    if not settings.warehouse.exists():
        raise RetentionError(f"{settings.warehouse} does not exist yet: run `retention run` first")
    marts_view(make_console(), settings.warehouse, args.grain, args.limit, args.cohorts)
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
    st = sub.add_parser(
        "status",
        help="batches loaded, row counts and quarantine reasons",
        description="The last run, rejected batches, what is published and where, the lake's batches with rows "
        "read / loaded / quarantined per file, and the quarantine reasons.",
        epilog=_status_json_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    st.add_argument("--last-run", action="store_true", help="only how the last run ended, with its warnings")
    st.add_argument("--json", action="store_true", help="the same as JSON on stdout (its shape below)")
    st.set_defaults(func=cmd_status)
    rp = sub.add_parser("report", help="the path of the published report.html; --open opens it in a browser")
    rp.add_argument("--open", action="store_true", help="open the report with the system's browser")
    rp.set_defaults(func=cmd_report)
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
    sh = sub.add_parser("show", help="print the latest period retention and a cohort table")
    sh.add_argument("--grain", choices=GRAINS, default="month", help="period grain (cohorts: quarter for year)")
    sh.add_argument("--limit", type=_positive, default=6, help="latest periods shown (default 6)")
    sh.add_argument("--cohorts", type=_count, default=6, help="latest cohorts shown (default 6; 0: no cohort table)")
    sh.set_defaults(func=cmd_show)
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


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes: while the live progress display runs, rich
    puts its own stream there and prints the warning above the display instead of through it."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = _StderrHandler()
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
    """The `retention` command: main(), then out without the interpreter's teardown (speedups.exit_now).
    An unexpected exception still leaves the normal way, with its traceback. A reader that stops reading
    (`retention status --json | head`) ends the output quietly, as other Unix commands do."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = 141  # 128 + SIGPIPE, what a shell reports for a command cut off by its pipe
    speedups.exit_now(code)


if __name__ == "__main__":
    entry()
