"""The README's screenshot of the retention report, docs/images/report.png, from the demo data.

    .venv/bin/python scripts/report_screenshot.py [--warehouse FILE] [--out docs/images/report.png] [--viewports 2]

Without --warehouse it writes the demo exports and publishes them with `retention run` in a temporary
folder (~20 s). The page is opened offline in Debian's chromium (/usr/bin/chromium, driven by
Playwright; no browser is downloaded) and the top --viewports screens are saved (0: the full page).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from retention.demo import write_demo_landing
from retention.outputs.report import render_report

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1400, 1000


def publish_demo(folder: Path) -> Path:
    """The demo data published by `retention run` under `folder`; returns the warehouse file."""
    landing = folder / "landing"
    write_demo_landing(landing)
    env = dict(
        os.environ,
        RETENTION_LANDING_DIR=str(landing),
        RETENTION_WAREHOUSE=str(folder / "retention.duckdb"),
        RETENTION_STATE_DIR=str(folder / "state"),
        RETENTION_OUTPUT_DIR=str(folder / "outputs"),
        RETENTION_TIMEZONE="UTC",
    )
    env.pop("RETENTION_COLUMN_MAPPING", None)
    subprocess.run([str(Path(sys.executable).parent / "retention"), "run"], env=env, check=True, cwd=ROOT)
    return folder / "retention.duckdb"


def screenshot(html: Path, out: Path, viewports: int) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
        # the report must not need the network: refuse any request that would leave the machine
        page.route(lambda url: not url.startswith(("file:", "data:", "blob:", "about:")), lambda route: route.abort())
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("html[data-charts]", timeout=30_000)
        if page.get_attribute("html", "data-charts") != "rendered":
            raise SystemExit("the report's charts failed to render")
        if viewports:
            height = min(HEIGHT * viewports, page.evaluate("document.documentElement.scrollHeight"))
            page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
        else:
            page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="a published DuckDB file (default: publish the demo data)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "report.png")
    parser.add_argument("--viewports", type=int, default=2, help="screens from the top to keep; 0 for the full page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-screenshot-") as tmp:
        warehouse = args.warehouse or publish_demo(Path(tmp))
        html = Path(tmp) / "report.html"
        html.write_text(render_report(warehouse), encoding="utf-8")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(html, args.out, args.viewports)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
