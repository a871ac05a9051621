"""The published Data Docs as files: nothing remote left to load, every local reference resolves,
unchanged files hard-linked, and every CDN URL in GX's templates known to assets.REMOTE (so a GX
upgrade that adds one fails here, not silently in a reader's browser)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from retention.config import load_settings
from retention.outputs.data_docs import publish_data_docs
from retention.outputs.data_docs.assets import ASSETS, REMOTE, VENDOR
from retention.outputs.data_docs.rewrite import remote_key

# what makes a browser fetch: stylesheets and icons (<link href>), scripts, images, CSS url() and @import
FETCHING = [
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']([^\"']*)", re.I),
    re.compile(r"<(?:script|img|source|iframe|embed)\b[^>]*\bsrc\s*=\s*[\"']([^\"']*)", re.I),
    re.compile(r"url\(\s*[\"']?([^\"')\s]+)", re.I),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?([^\"');\s]+)", re.I),
]
REMOTE_URL = re.compile(r"^(?:https?:)?//", re.I)


def fetched_urls(text: str) -> list[str]:
    return [m.group(1) for pattern in FETCHING for m in pattern.finditer(text)]


@pytest.fixture(scope="module")
def published(demo_published, tmp_path_factory):
    """The demo run's Data Docs published twice: the first builds the assets folder, the second is
    what a nightly publish costs."""
    settings = load_settings(demo_published.env)
    run_id = json.loads((demo_published.state / "last_run.json").read_text())["run_id"]
    base = tmp_path_factory.mktemp("data_docs")
    seconds = []
    for name in ("first", "nightly"):
        started = time.perf_counter()
        publish_data_docs(settings, run_id, base / name)
        seconds.append(time.perf_counter() - started)
    print(f"publish_data_docs: first {seconds[0]:.2f} s, then {seconds[1]:.3f} s")
    return settings, run_id, base / "nightly", seconds


def test_assets_come_from_installed_packages():
    """The browser tests need every asset: a missing package is named with what to install."""
    missing = []
    for asset in ASSETS:
        try:
            source = asset.source()
            if not isinstance(source, str) and not source.exists():
                missing.append(f"{asset.path} ({asset.package})")
        except ImportError:
            missing.append(f"{asset.path} ({asset.package})")
    assert not missing, f"install the requirement lines of the Data Docs assets, then `make install`: {missing}"


def test_no_remote_stylesheet_script_font_or_image_is_left(published):
    _, _, dest, _ = published
    files = [p for p in dest.rglob("*") if p.suffix in (".html", ".css")]
    assert len(files) >= 3
    remote = {
        f"{p.relative_to(dest)}: {url}"
        for p in files
        for url in fetched_urls(p.read_text(encoding="utf-8"))
        if REMOTE_URL.match(url)
    }
    assert not remote


def test_every_local_reference_resolves(published):
    """…including the favicon GX links one folder too high from its validation pages."""
    _, _, dest, _ = published
    broken = []
    for page in [p for p in dest.rglob("*") if p.suffix in (".html", ".css")]:
        for url in fetched_urls(page.read_text(encoding="utf-8")):
            if url.startswith(("data:", "#")) or REMOTE_URL.match(url):
                continue
            if not (page.parent / url.split("?")[0].split("#")[0]).is_file():
                broken.append(f"{page.relative_to(dest)}: {url}")
    assert not broken


def test_index_and_the_runs_validation_page_are_published(published):
    _, run_id, dest, _ = published
    index = (dest / "index.html").read_text(encoding="utf-8")
    assert f"Retention audit, run {run_id}" in index  # quality.gx.write_docs_summary's table
    pages = list(dest.glob(f"validations/*/{run_id}/*/*.html"))
    assert pages, "the run's validation page"
    # the index's table (data for bootstrap-table) links every page it lists, and each is published
    links = set(re.findall(r"'_table_row_link_path': '([^']+)'", index))
    assert links and all((dest / link).is_file() for link in links), links
    assert any(run_id in link for link in links)


def test_unchanged_files_are_hard_links_and_a_nightly_publish_is_cheap(published):
    settings, _, dest, seconds = published
    logo = dest / "static" / "images" / "logo-long.png"
    assert logo.stat().st_ino == (settings.data_docs_dir / "static" / "images" / "logo-long.png").stat().st_ino
    bootstrap = dest / VENDOR / "bootstrap" / "css" / "bootstrap.min.css"
    assert bootstrap.stat().st_nlink >= 3  # the assets folder, the first copy and this one
    # a rewritten page is rewritten once and linked from then on: both copies share it
    for page in [dest / "index.html", *dest.glob("validations/*/*/*/*.html")]:
        first = dest.parent / "first" / page.relative_to(dest)
        assert page.stat().st_ino == first.stat().st_ino, page
    assert seconds[1] < 1.0, f"a nightly publish took {seconds[1]:.2f} s"  # ≈0.02 s measured on the demo


def test_pages_with_no_chart_load_no_vega(published):
    """GX puts vega's three tags on every page; only a chart needs them (assets.NEEDED_ONLY_BY)."""
    _, _, dest, _ = published
    assert not [p for p in dest.rglob("*.html") if "vega" in "".join(fetched_urls(p.read_text(encoding="utf-8")))]
    assert not (dest / VENDOR / "vega").exists()


def test_every_cdn_url_of_gx_templates_is_known():
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    urls = {
        url for path in templates.rglob("*.j2") for url in fetched_urls(path.read_text(encoding="utf-8")) if REMOTE_URL.match(url)
    }
    assert urls, "GX's templates moved: look for their CDN URLs again"
    assert not {u for u in urls if remote_key(u) not in REMOTE}


def test_a_missing_package_leaves_its_tags_out_not_the_network(published, tmp_path, monkeypatch, caplog):
    """Where an asset's package is not installed (a venv from before the lock had it), the publish
    still succeeds: the tags go (no page waits on a CDN) and the log names what to install."""
    import dataclasses

    from retention.outputs.data_docs import assets

    def not_installed():
        raise ImportError("not installed")

    monkeypatch.setattr(
        assets,
        "ASSETS",
        tuple(dataclasses.replace(a, source=not_installed) if a.package == "XStatic-Bootstrap" else a for a in assets.ASSETS),
    )
    monkeypatch.setattr(assets, "LAYOUT", "test-missing")  # another assets folder than the real one
    settings, run_id, _, _ = published
    settings = settings.model_copy(update={"state_dir": tmp_path / "state"})
    shutil.copytree(published[0].data_docs_dir, settings.data_docs_dir)
    dest = tmp_path / "data_docs"
    with caplog.at_level("WARNING"):
        publish_data_docs(settings, run_id, dest)
    index = (dest / "index.html").read_text(encoding="utf-8")
    assert not [u for u in fetched_urls(index) if REMOTE_URL.match(u)]
    assert "bootstrap.min.css" not in index and "jquery.min.js" in index
    assert "XStatic-Bootstrap" in caplog.text
