"""The report page's jinja2 template (page.html.j2, shipped with the package): header with the audit
badges, KPI tiles, one card per chart, the inlined vega-embed bundle, the specs as JSON, and the one
script that embeds them."""

from __future__ import annotations

import jinja2

# a missing audit.run_info field shows as "—" (the template's `or`) rather than failing the nightly run
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("retention.outputs.report", "."), autoescape=True, trim_blocks=True, lstrip_blocks=True
)

TEMPLATE = _ENV.get_template("page.html.j2")
