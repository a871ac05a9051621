"""The marts' descriptions as dbt persists them on the published tables: the models' YAML in
dbt_project/models/marts, with every `{{ doc("name") }}` replaced by that docs block of the project.

Read straight from the files, without dbt, so a unit test can use them in a few milliseconds; the
integration test that compares them with a published file's comments keeps this reading honest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "dbt_project" / "models"
MARTS = MODELS / "marts"

_DOCS_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.S)
_DOC_CALL = re.compile(r"""{{\s*doc\(\s*['"](\w+)['"]\s*\)\s*}}""")


@dataclass(frozen=True)
class MartDoc:
    description: str
    columns: dict[str, str]  # column → description, in the YAML's order


def doc_blocks() -> dict[str, str]:
    """Every `{% docs name %}…{% enddocs %}` block under models/, by name."""
    blocks: dict[str, str] = {}
    for path in sorted(MODELS.rglob("*.md")):
        for name, body in _DOCS_BLOCK.findall(path.read_text(encoding="utf-8")):
            blocks[name] = body.strip()  # dbt strips a block's contents when it parses the project
    return blocks


def render(text: str, blocks: dict[str, str]) -> str:
    """`text` with its doc() calls resolved; a call to a block that does not exist raises KeyError,
    as `dbt parse` would fail on it."""
    if not _DOC_CALL.search(text):
        return text  # dbt renders only a description that holds Jinja
    rendered = _DOC_CALL.sub(lambda m: blocks[m.group(1)], text)
    return rendered[:-1] if rendered.endswith("\n") else rendered  # Jinja drops one trailing newline


def mart_models() -> list[dict]:
    """The `models:` entries of every YAML file in marts/, as written (unit tests' files have none)."""
    models: list[dict] = []
    for path in sorted(MARTS.glob("*.yml")):
        models += (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []
    return models


def mart_docs() -> dict[str, MartDoc]:
    """Model name → its description and its columns' descriptions, doc() calls resolved."""
    blocks = doc_blocks()
    return {
        m["name"]: MartDoc(
            render(m.get("description") or "", blocks),
            {c["name"]: render(c.get("description") or "", blocks) for c in m.get("columns") or []},
        )
        for m in mart_models()
    }
