"""Headless Chromium (Debian's `chromium`, installed by the README's set-up and .ci/run) driven by
Playwright, offline: a page under test must open from disk with no network.

`offline_page(path)` opens a local file and records every console error, uncaught page error and
request that tried to leave the machine; the test asserts `problems` is empty.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@dataclass
class OfflinePage:
    page: object  # playwright.sync_api.Page
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (the README's set-up and .ci/run do it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture
def offline_page(browser) -> Iterator:
    """open(path) -> OfflinePage: the page loaded from disk, its console errors, page errors and any
    request to a non-file URL (aborted) collected in `problems`."""
    pages = []

    def open_page(path: Path) -> OfflinePage:
        page = browser.new_page()
        opened = OfflinePage(page)
        page.on("console", lambda m: opened.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))

        def no_network(route) -> None:
            opened.problems.append(f"network request: {route.request.url}")
            route.abort()

        page.route(lambda url: not url.startswith(("file:", "data:", "blob:", "about:")), no_network)
        page.goto(path.resolve().as_uri(), wait_until="load")
        pages.append(page)
        return opened

    yield open_page
    for page in pages:
        page.close()
