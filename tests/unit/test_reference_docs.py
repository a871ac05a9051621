"""Column meanings are written in three places: the marts' YAML (dbt docs and, persisted by dbt, the
published DuckDB comments), the docs blocks it draws on, and docs/reference.md for people. These
checks keep the three covering the same columns, without building anything; that the published
comments are the YAML's is checked on the demo file (tests/integration/test_demo_reference.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.mart_docs import MARTS, ROOT, doc_blocks, mart_docs, mart_models, render

REFERENCE = ROOT / "docs" / "reference.md"

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_MART_NAMED = re.compile(r"\bmarts\.(\w+)")


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    body: str  # up to the next heading of the same or a higher level: its subsections included


def sections(markdown: str) -> list[Section]:
    lines = markdown.splitlines()
    headings: list[tuple[int, int, str]] = []  # line index, level, title
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced  # a `#` inside a code block is no heading
        elif not fenced and (m := _HEADING.match(line)):
            headings.append((i, len(m.group(1)), m.group(2)))
    out = []
    for n, (i, level, title) in enumerate(headings):
        end = next((j for j, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
        out.append(Section(level, title, "\n".join(lines[i + 1 : end])))
    return out


def mentioned_columns(body: str) -> set[str]:
    """Names a section gives as a code span of their own (`name`), or in the first cell of a table row
    (`| a, b | meaning |`): the two ways the reference names a column."""
    names = {span.strip() for span in _CODE_SPAN.findall(body)}
    for line in body.splitlines():
        if line.lstrip().startswith("|"):
            first_cell = line.strip().strip("|").split("|")[0]
            names |= {name.strip().strip("`") for name in first_cell.split(",")}
    return names


def mart_sections(markdown: str) -> dict[str, list[Section]]:
    """Model → the sections whose heading names `marts.<model>`."""
    found: dict[str, list[Section]] = {}
    for section in sections(markdown):
        for model in _MART_NAMED.findall(section.title):
            found.setdefault(model, []).append(section)
    return found


def test_every_mart_and_every_column_of_it_has_a_description():
    models = mart_models()
    assert sorted(m["name"] for m in models) == sorted(p.stem for p in MARTS.glob("*.sql"))
    undescribed = [m["name"] for m in models if not (m.get("description") or "").strip()]
    undescribed += [
        f"{m['name']}.{c['name']}" for m in models for c in m.get("columns") or [] if not (c.get("description") or "").strip()
    ]
    assert undescribed == []


def test_every_doc_reference_of_the_marts_resolves_to_a_non_empty_block():
    blocks = doc_blocks()
    assert [name for name, text in blocks.items() if not text] == []
    for model, doc in mart_docs().items():  # render() raises KeyError on a block that does not exist
        texts = {model: doc.description} | {f"{model}.{c}": d for c, d in doc.columns.items()}
        assert [where for where, text in texts.items() if "{{" in text or "{%" in text or not text.strip()] == []


def test_every_mart_has_one_section_in_the_reference():
    found = mart_sections(REFERENCE.read_text(encoding="utf-8"))
    assert {m: len(found.get(m, [])) for m in mart_docs()} == dict.fromkeys(mart_docs(), 1)


def test_the_reference_names_every_described_column_in_its_marts_section():
    found = mart_sections(REFERENCE.read_text(encoding="utf-8"))
    missing = [
        (model, column)
        for model, doc in mart_docs().items()
        for column in doc.columns
        if not any(column in mentioned_columns(s.body) for s in found.get(model, []))
    ]
    assert missing == [], f"columns described in the marts' YAML but not in their docs/reference.md section: {missing}"


# --- the readers of the markdown, on hand-written text ------------------------------------------


def test_a_section_runs_to_the_next_heading_of_its_level_and_skips_code_blocks():
    text = "# T\n## 1. A\na\n```\n# not a heading\n```\n### 1.1 B\nb\n## 2. C\nc\n"
    got = [(s.level, s.title, s.body) for s in sections(text)]
    assert got == [
        (1, "T", "## 1. A\na\n```\n# not a heading\n```\n### 1.1 B\nb\n## 2. C\nc"),
        (2, "1. A", "a\n```\n# not a heading\n```\n### 1.1 B\nb"),
        (3, "1.1 B", "b"),
        (2, "2. C", "c"),
    ]


def test_a_column_counts_as_a_code_span_of_its_own_or_in_a_table_rows_first_cell():
    body = "Keys `(a, b)` and `c`.\n\n| column | meaning |\n| --- | --- |\n| d, `e` | uses f |\n"
    assert {"c", "d", "e"} <= mentioned_columns(body)
    assert {"a", "b", "f"}.isdisjoint(mentioned_columns(body))


def test_a_marts_section_is_the_one_its_heading_names_and_a_longer_name_is_another_mart():
    text = "## `marts.customers`\nx\n## `marts.customers_by_day`, `marts.other`\ny\n"
    got = {m: [s.body for s in ss] for m, ss in mart_sections(text).items()}
    assert got == {"customers": ["x"], "customers_by_day": ["y"], "other": ["y"]}


def test_render_resolves_doc_calls_and_rejects_an_unknown_block():
    assert render("""Count. {{ doc('a') }} and {{doc("b")}}""", {"a": "A.", "b": "B"}) == "Count. A. and B"
    try:
        render("{{ doc('missing') }}", {})
    except KeyError:
        return
    raise AssertionError("an unknown docs block must not render")
