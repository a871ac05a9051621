"""The dbt docs site each publish copies to docs/index.html opens from disk, offline, and shows the models
and the exposures that read them (docs/reference.md §6)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_dbt_docs_site_opens_offline_and_lists_the_marts_and_exposures(demo_published, offline_page, tmp_path):
    site = demo_published.path.parent / "outputs" / "docs" / "index.html"
    opened = offline_page(site)
    page = opened.page
    # the project tree, drawn from the manifest and catalog inlined in the page
    page.wait_for_selector(".filename-ellip >> text=period_retention", state="attached", timeout=30_000)
    page.goto(site.resolve().as_uri() + "#!/exposure/exposure.retention.retention_report")
    page.wait_for_selector("h1 >> text=Retention report (report.html)", timeout=30_000)
    page.screenshot(path=str(tmp_path / "dbt_docs.png"))
    assert opened.problems == []
