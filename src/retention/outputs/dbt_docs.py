"""The dbt docs site of the build (`dbt docs generate --static`, written in the dbt child) as the readers'
`docs/index.html`, opening from disk with no console error.

dbt's static page has two slips that only show from disk (`file:`), each a console error in Chromium,
mended here rather than left for every reader to see:
- its Angular templates carry `<use xlink:href="{{ getIcon(…) }}">`: the browser tries to load that text
  as a URL before Angular fills it in (326 errors on our project). `ng-attr-href` is the Angular way to
  bind an attribute only once it is interpolated (SVG 2's `href` on `<use>`), the icons are unchanged;
- a favicon link whose href is a build placeholder (`${require('./assets/favicons/favicon.ico')}`).
"""

from __future__ import annotations

from pathlib import Path

from ..durable import write_text

PREMATURE_ICON = 'xlink:href="{{'
FAVICON_PLACEHOLDER = """<link rel="shortcut icon" href="${require('./assets/favicons/favicon.ico')}"/>"""
MISSING = (
    "<!doctype html><meta charset=utf-8><title>dbt docs</title><p>The dbt documentation of this build is not "
    "available: <code>retention run --full-refresh</code> builds the marts and their documentation again.</p>"
)


def publish_dbt_docs(site: Path | None, folder: Path) -> Path:
    """Write `folder`/index.html from the static page `site`; a page saying so when the build wrote none
    (outputs written again for an earlier build, or dbt could not write them)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    if site is None or not site.is_file():
        write_text(index, MISSING)
        return index
    page = site.read_text(encoding="utf-8")
    write_text(index, page.replace(PREMATURE_ICON, 'ng-attr-href="{{').replace(FAVICON_PLACEHOLDER, ""))
    return index
