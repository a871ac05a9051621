"""Column mappings: how a CRM's own export headers and status words map onto the contract's columns.

A mapping is a YAML file (see `mappings/` for the shipped ones and README "Adding a mapping for
your CRM"). The landing folder chooses one with a `retention_mapping.yml` at its top (a full
mapping, or `extends: <name>` plus overrides); `$RETENTION_COLUMN_MAPPING` (a shipped name or a
path) overrides that.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..errors import MappingError

REQUIRED = {
    "customers": ("customer_id", "created_at", "channel", "region"),
    "orders": ("order_id", "customer_id", "ordered_at", "amount", "currency", "status"),
}
KEYS = {"customers": "customer_id", "orders": "order_id"}
TIMESTAMPS = {"customers": "created_at", "orders": "ordered_at"}
STATUSES = ("completed", "pending", "cancelled", "refunded")
LANDING_MAPPING_FILE = "retention_mapping.yml"


def normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


@dataclass(frozen=True)
class TableMapping:
    aliases: dict[str, str]  # normalised export header -> contract column
    pii: frozenset[str]  # normalised export headers holding personal data
    status_values: dict[str, str]  # normalised CRM status word -> contract status


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    timezone: str | None  # zone the CRM writes timestamps without an offset in; None = UTC (contract §1)
    tables: dict[str, TableMapping]

    def resolve_header(self, table: str, header: list[str]) -> tuple[list[str], list[str]]:
        """Name every column of an export: contract columns by their contract name, the rest as
        their normalised header. Returns (names, missing required columns)."""
        spec = self.tables[table]
        names: list[str] = []
        seen: set[str] = set()
        for raw in header:
            norm = normalise_header(raw)
            name = spec.aliases.get(norm, norm)
            if name in seen:  # a duplicated header would make the row ambiguous
                name = f"{name}__dup{len(names)}"
            seen.add(name)
            names.append(name)
        missing = [c for c in REQUIRED[table] if c not in seen]
        return names, missing


def shipped_mappings() -> list[str]:
    folder = resources.files("retention.ingest") / "mappings"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".yml"))


def _read_yaml(source: str | Path) -> dict:
    if isinstance(source, Path):
        text = source.read_text(encoding="utf-8")
    else:
        path = resources.files("retention.ingest") / "mappings" / f"{source}.yml"
        if not path.is_file():
            raise MappingError(f"no shipped column mapping named {source!r} (have: {', '.join(shipped_mappings())})")
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise MappingError(f"column mapping {source}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise MappingError(f"column mapping {source}: expected a mapping at the top level")
    return data


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _load_raw(source: str | Path, depth: int = 0) -> dict:
    data = _read_yaml(source)
    parent = data.pop("extends", None)
    if parent and depth < 5:
        data = _merge(_load_raw(parent, depth + 1), data)
    return data


def _table(data: dict, table: str, where: str) -> TableMapping:
    spec = (data.get("tables") or {}).get(table) or {}
    aliases: dict[str, str] = {}
    for column, names in (spec.get("columns") or {}).items():
        if column not in REQUIRED[table]:
            raise MappingError(f"column mapping {where}: {table}.{column} is not a contract column")
        for alias in [column, *([names] if isinstance(names, str) else names or [])]:
            aliases[normalise_header(str(alias))] = column
    statuses = {normalise_header(str(k)): str(v).strip().lower() for k, v in (spec.get("status_values") or {}).items()}
    bad = sorted(set(statuses.values()) - set(STATUSES))
    if bad:
        raise MappingError(f"column mapping {where}: status_values map to unknown statuses {bad}")
    return TableMapping(aliases, frozenset(normalise_header(str(p)) for p in spec.get("pii") or []), statuses)


def load_mapping(source: str | Path) -> ColumnMapping:
    data = _load_raw(source)
    where = str(source)
    return ColumnMapping(
        name=str(data.get("name") or where),
        timezone=data.get("timezone"),
        tables={t: _table(data, t, where) for t in REQUIRED},
    )


def mapping_for(landing_dir: Path, override: str | None) -> ColumnMapping:
    """The mapping in force for a landing folder (see the module docstring for the order)."""
    if override:
        candidate = Path(override)
        return load_mapping(candidate if candidate.suffix in (".yml", ".yaml") else override)
    local = landing_dir / LANDING_MAPPING_FILE
    if local.is_file():
        return load_mapping(local)
    return load_mapping("canonical")
