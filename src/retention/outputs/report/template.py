# ruff: noqa: E501
# (markup and CSS read better unwrapped; the template lives in a module, not a .html file, because the
# package ships Python files only: pyproject.toml lists no package data for it)
"""The report page's jinja2 template: header with the audit badges, KPI tiles, one card per chart, the
inlined vega-embed bundle, the specs as JSON, and the one script that embeds them."""

from __future__ import annotations

import jinja2

# a missing audit.run_info field shows as "—" (the template's `or`) rather than failing the nightly run
_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

TEMPLATE = _ENV.from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Retention report · {{ run.as_of_date or "no data" }}</title>
<style>
:root {
  --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f5f6f8; --card: #ffffff;
  --good: #15803d; --good-bg: #dcfce7; --warn: #b45309; --warn-bg: #fef3c7; --bad: #b91c1c; --bad-bg: #fee2e2;
  --neutral: #374151; --neutral-bg: #f3f4f6; --accent: #2563eb;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 {{ font|safe }}; }
header { background: linear-gradient(120deg, #0f172a, #1e3a8a); color: #fff; padding: 28px 40px 72px; }
header h1 { margin: 0 0 6px; font-size: 24px; font-weight: 650; letter-spacing: -0.01em; }
header .meta { color: #cbd5e1; font-size: 13px; display: flex; flex-wrap: wrap; gap: 6px 20px; }
header .meta b { color: #fff; font-weight: 600; }
header code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #e2e8f0; }
.badges { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px;
  font-size: 12px; font-weight: 600; background: var(--neutral-bg); color: var(--neutral); }
.badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.badge.good { background: var(--good-bg); color: var(--good); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
main { max-width: 1320px; margin: -48px auto 40px; padding: 0 32px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 16px; margin-bottom: 16px; }
.tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 1px 3px rgba(16, 24, 40, .06); }
.tile { padding: 14px 18px; }
.tile .label { color: var(--muted); font-size: 12px; font-weight: 500; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.tile .detail { color: var(--muted); font-size: 12px; }
.tile.good .value { color: var(--good); } .tile.warn .value { color: var(--warn); } .tile.bad .value { color: var(--bad); }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
.card { padding: 18px 20px 14px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
#audit { padding: 12px 20px; margin-bottom: 16px; }
.card .note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; border-left: 3px solid var(--accent); padding-left: 10px; }
.chart { width: 100%; min-height: 120px; }
.chart.vega-embed { display: block; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 28px 4px 10px; font-weight: 600; }
details { margin-top: 6px; } summary { cursor: pointer; color: var(--muted); font-size: 13px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { text-align: left; padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.status { white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin: 24px 0 40px; }
@media (max-width: 900px) { .grid { grid-template-columns: minmax(0, 1fr); } header { padding: 24px 20px 64px; } main { padding: 0 16px; } }
</style>
</head>
<body>
<header>
  <h1>Customer retention report</h1>
  <div class="meta">
    <span>As of <b>{{ run.as_of_date or "—" }}</b></span>
    <span>Run <code>{{ run.run_id or "—" }}</code></span>
    <span>Published {{ run.published_at or "—" }}</span>
    <span>Calendar {{ run.timezone or "—" }}</span>
  </div>
  <div class="badges">
    <span class="badge {{ audit.tone }}">{{ audit.label }}</span>
    <span class="badge good">{{ audit.counts.passed }} passed</span>
    <span class="badge {{ 'warn' if audit.counts.warned else 'neutral' }}">{{ audit.counts.warned }} warned</span>
    <span class="badge {{ 'bad' if audit.failed else 'neutral' }}">{{ audit.failed }} failed</span>
    {% if audit.counts.skipped %}<span class="badge neutral">{{ audit.counts.skipped }} skipped</span>{% endif %}
    {% if audit.freshness %}
    <span class="badge {{ audit.freshness_tone }}">Freshness {{ audit.freshness.status }}{% if audit.freshness.observed %}: {{ audit.freshness.observed }} days old (max {{ audit.freshness.expected }}){% endif %}</span>
    {% endif %}
  </div>
</header>
<main>
  <section class="tiles" id="kpis">
    <div class="tile {{ audit.tone }}">
      <div class="label">Audit</div>
      <div class="value">{{ audit.counts.passed }}/{{ checks|length }}</div>
      <div class="detail">checks passed · {{ audit.counts.warned }} warned · {{ audit.failed }} failed</div>
    </div>
    <div class="tile {{ audit.freshness_tone }}">
      <div class="label">Freshness</div>
      <div class="value">{% if audit.freshness and audit.freshness.observed %}{{ audit.freshness.observed }} d{% else %}{{ audit.freshness.status if audit.freshness else "—" }}{% endif %}</div>
      <div class="detail">newest batch {{ run.as_of_date or "—" }}{% if audit.freshness and audit.freshness.expected %} · max {{ audit.freshness.expected }} d{% endif %}</div>
    </div>
    {% for t in tiles %}
    <div class="tile {{ t.tone }}"><div class="label">{{ t.label }}</div><div class="value">{{ t.value }}</div><div class="detail">{{ t.detail }}</div></div>
    {% endfor %}
  </section>
  {% if audit.problems %}
  <section class="card" id="audit">
    <details{% if audit.failed %} open{% endif %}>
      <summary>{{ audit.problems|length }} check{{ "s" if audit.problems|length != 1 }} not passed: {{ audit.problems|map(attribute="check_name")|join(", ") }}</summary>
      <table>
        <tr><th>Check</th><th>Status</th><th>Details</th></tr>
        {% for c in audit.problems %}
        <tr><td>{{ c.check_name }}</td><td class="status"><span class="badge {{ {'warned': 'warn', 'skipped': 'neutral'}.get(c.status, 'bad') }}">{{ c.status }}</span></td><td>{{ c.details or c.description }}</td></tr>
        {% endfor %}
      </table>
    </details>
  </section>
  {% endif %}
  <div class="grid">
    {% for s in sections %}
    <section class="card{{ ' wide' if s.wide }}" aria-label="{{ s.heading }}">
      <div class="chart" id="{{ s.key }}" data-chart="{{ s.key }}"></div>
      {% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
    </section>
    {% endfor %}
  </div>
  <footer>Definitions of every measure: docs/reference.md of the retention warehouse · code {{ run.code_version or "—" }} · DuckDB {{ run.duckdb_version or "—" }}</footer>
</main>
<script>
{{ bundle|safe }}
</script>
<script type="application/json" id="chart-specs">{{ specs|safe }}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  var options = {{ options|safe }};
  var root = document.documentElement;
  Promise.all(Object.keys(specs).map(function (id) { return vegaEmbed("#" + id, specs[id], options); }))
    .then(function () { root.dataset.charts = "rendered"; })
    .catch(function (error) { root.dataset.charts = "failed"; console.error(error); });
})();
</script>
</body>
</html>
"""
)
