"""The published Data Docs in headless Chromium with no network: the index and the run's validation
page load every stylesheet, script, font and image from the copy (no request leaves the machine, no
console error), Bootstrap styles them, Font Awesome draws the icons, the logo shows, bootstrap-table
renders the index's runs and Bootstrap's scripts work. Screenshots land beside the copy."""

from __future__ import annotations

import json
import shutil

import pytest

from retention.config import load_settings
from retention.outputs.data_docs import publish_data_docs

ICON = "i.fas"  # GX's status icons: fa-check-circle, fa-times


@pytest.fixture(scope="module")
def docs(demo_published, tmp_path_factory):
    """(the published copy, the run id): publish_data_docs of the demo run, into a folder of its own."""
    run_id = json.loads((demo_published.state / "last_run.json").read_text())["run_id"]
    dest = tmp_path_factory.mktemp("data_docs_browser") / "data_docs"
    publish_data_docs(load_settings(demo_published.env), run_id, dest)
    return dest, run_id


def assert_opens_offline(opened, screenshot) -> None:
    """No problem, Bootstrap's styles applied, Font Awesome's font used and loaded, the logo drawn."""
    page = opened.page
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")
    assert opened.problems == []
    navbar = page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display")
    assert navbar == "flex"  # Bootstrap's .navbar; a <nav> is display: block by default
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("-apple-system")  # Bootstrap's reboot
    assert page.evaluate("typeof jQuery === 'function' && typeof jQuery.fn.collapse === 'function'")  # Bootstrap's JS
    # bootstrap-table may draw the index's icons again meanwhile: ask for whichever icon is there now
    page.wait_for_function(
        """icon => { const e = document.querySelector(icon);
            return e && getComputedStyle(e, '::before').fontFamily.includes('Font Awesome')
                && e.getBoundingClientRect().width > 0; }""",
        arg=ICON,
        timeout=10_000,
    )
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("Font Awesome" in family for family in loaded), loaded  # the webfont itself, from the copy
    logo = page.query_selector("nav.navbar img")
    assert logo is not None and logo.evaluate("e => e.complete && e.naturalWidth") > 0


def test_index_opens_offline(docs, offline_page, tmp_path):
    dest, run_id = docs
    opened = offline_page(dest / "index.html")
    # bootstrap-table (and its filter-control) draws the runs from the page's data, one row per run
    row = opened.page.locator(f"tr.clickable-row[data-href*='{run_id}']")
    row.wait_for()
    assert opened.page.query_selector(".bootstrap-table .filter-control") is not None
    assert_opens_offline(opened, tmp_path / "index.png")
    assert opened.page.get_by_text(f"Retention audit, run {run_id}").is_visible()  # quality.gx.write_docs_summary
    row.click()  # a row opens the run's validation page (bootstrap-table's click-row)
    opened.page.wait_for_url(f"**/validations/*/{run_id}/*/*.html")
    assert opened.problems == []


def test_index_date_filter_opens_the_datepicker(docs, offline_page):
    opened = offline_page(docs[0] / "index.html")
    opened.page.wait_for_selector("tr.clickable-row")
    opened.page.click(".bootstrap-table .date-filter-control")
    assert opened.page.wait_for_selector(".datepicker-dropdown", state="visible")
    assert opened.problems == []


def test_validation_page_opens_offline(docs, offline_page, tmp_path):
    dest, run_id = docs
    (page_path,) = dest.glob(f"validations/*/{run_id}/*/*.html")
    opened = offline_page(page_path)
    assert_opens_offline(opened, tmp_path / "validation.png")
    assert opened.page.query_selector_all("i.fas.fa-check-circle")  # one per passed check
    toggle = opened.page.query_selector("a[data-toggle='collapse']")
    target = opened.page.query_selector(toggle.get_attribute("href"))
    toggle.click()  # Bootstrap's collapse plugin shows the run's info table
    opened.page.wait_for_function("e => e.classList.contains('show')", arg=target)
    assert opened.problems == []


# what GX's graph.j2 writes for a chart (an expectation with a distribution, say): a div and vegaEmbed
CHART = """<div id="chart-graph"></div><script>
    vlSpec = {"data": {"values": [{"a": "x", "n": 1}, {"a": "y", "n": 2}]}, "mark": "bar",
              "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "n", "type": "quantitative"}}};
    vegaEmbed('#chart-graph', vlSpec, {actions: false}).then(result=>console.log(result)).catch(console.warn);
</script>"""


def test_a_page_with_a_chart_draws_it_offline(demo_published, offline_page, tmp_path):
    """The reconciliation suite draws no chart; a page that has one gets the vega bundle (made on
    first need, from vl-convert) and draws it with no network."""
    env = dict(demo_published.env, RETENTION_STATE_DIR=str(tmp_path / "state"))
    settings = load_settings(env)
    shutil.copytree(demo_published.state / "data_docs", settings.data_docs_dir)
    run_id = json.loads((demo_published.state / "last_run.json").read_text())["run_id"]
    (source,) = settings.data_docs_dir.glob(f"validations/*/{run_id}/*/*.html")
    source.write_text(source.read_text(encoding="utf-8").replace("</body>", CHART + "</body>"), encoding="utf-8")
    dest = tmp_path / "data_docs"
    publish_data_docs(settings, run_id, dest)
    opened = offline_page(dest / source.relative_to(settings.data_docs_dir))
    opened.page.wait_for_selector("#chart-graph svg, #chart-graph canvas")
    opened.page.screenshot(path=str(tmp_path / "chart.png"), full_page=True)
    assert opened.problems == []
    assert opened.page.evaluate("typeof vegaEmbed") == "function"


def test_dark_mode_opens_offline(docs, offline_page, tmp_path):
    """bootstrap-dark and GX's dark rules apply when the reader's system prefers dark."""
    opened = offline_page(docs[0] / "index.html")
    opened.page.emulate_media(color_scheme="dark")
    opened.page.wait_for_selector("tr.clickable-row")
    opened.page.screenshot(path=str(tmp_path / "index-dark.png"), full_page=True)
    background = opened.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
    assert opened.problems == []


def test_the_published_outputs_data_docs_open_offline(demo_published, offline_page, tmp_path):
    """What `retention run` published for readers: $RETENTION_OUTPUT_DIR/data_docs (outputs.write)."""
    index = demo_published.path.parent / "outputs" / "data_docs" / "index.html"
    run_id = json.loads((demo_published.state / "last_run.json").read_text())["run_id"]
    opened = offline_page(index)
    opened.page.wait_for_selector(f"tr.clickable-row[data-href*='{run_id}']")
    assert_opens_offline(opened, tmp_path / "outputs-index.png")
    (page_path,) = index.parent.glob(f"validations/*/{run_id}/*/*.html")
    assert_opens_offline(offline_page(page_path), tmp_path / "outputs-validation.png")
