"""Column mappings: how a CRM's own export headers and status words map onto the input's columns
(docs/reference.md §1, module `contract`).

A mapping is a YAML file (see `mappings/` for the shipped ones, `mapping_schema.py` for its keys
and README "Adding a mapping for your CRM"). The landing folder chooses one with a
`retention_mapping.yml` at its top (a full mapping, or `extends: <name>` plus overrides);
`$RETENTION_COLUMN_MAPPING` (a shipped name or a path) overrides that. `mapping_for` checks the
mapping whole, so a broken one stops a run before any batch is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import project_root
from ..errors import MappingError
from .contract import KEYS, REQUIRED, STATUSES, TIMESTAMPS
from .mapping_files import Source, is_path, read_mapping, shipped_mappings
from .mapping_schema import MappingSpec, TableSpec

__all__ = ["KEYS", "REQUIRED", "STATUSES", "TIMESTAMPS", "ColumnMapping", "Header", "TableMapping", "mapping_for"]

LANDING_MAPPING_FILE = "retention_mapping.yml"
SETTING = "RETENTION_COLUMN_MAPPING"


def normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


@dataclass(frozen=True)
class TableMapping:
    aliases: dict[str, str]  # normalised export header -> contract column
    pii: frozenset[str]  # normalised export headers holding personal data
    status_values: dict[str, str]  # normalised CRM status word -> contract status


@dataclass(frozen=True)
class Header:
    """What each column of an export is."""

    names: list[str]  # contract columns by their contract name, the rest as their normalised header
    pii: frozenset[int]  # positions of the columns holding personal data
    missing: list[str]  # required contract columns no column maps to
    ambiguous: dict[str, list[tuple[int, str]]]  # contract column -> (position, header) of the 2+ columns meaning it


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    timezone: str | None  # zone the CRM writes timestamps without an offset in; None = UTC (docs/reference.md §1)
    tables: dict[str, TableMapping]
    encoding: str | None = None  # codec of every export (Python's name for it); None = detect (decode.py)

    def resolve_header(self, table: str, header: list[str]) -> Header:
        spec = self.tables[table]
        names: list[str] = []
        used: set[str] = set()
        pii: set[int] = set()
        meaning: dict[str, list[tuple[int, str]]] = {}
        for i, raw in enumerate(header):
            norm = normalise_header(raw)
            name = spec.aliases.get(norm, norm)
            if norm in spec.pii:  # decided on the header itself, so a repeated e-mail column is one too
                pii.add(i)
            meaning.setdefault(name, []).append((i, raw.strip()))
            # a repeated extra column keeps its value under a name of its own
            name = name if name not in used else f"{name}__dup{i}"
            used.add(name)
            names.append(name)
        ambiguous = {c: meaning[c] for c in REQUIRED[table] if len(meaning.get(c, ())) > 1}
        missing = [c for c in REQUIRED[table] if c not in meaning]
        return Header(names, frozenset(pii), missing, ambiguous)


def _table(spec: TableSpec | None, table: str) -> TableMapping:
    aliases: dict[str, str] = {}
    for column, names in ((spec and spec.columns) or {}).items():
        for alias in [column, *([names] if isinstance(names, str) else names or [])]:
            aliases[normalise_header(alias)] = column
    statuses = {normalise_header(k): v.strip().lower() for k, v in ((spec and spec.status_values) or {}).items()}
    pii = frozenset(normalise_header(p) for p in (spec and spec.pii) or [])
    return TableMapping(aliases, pii, statuses)


def _mapping(spec: MappingSpec, source: Source) -> ColumnMapping:
    tables = spec.tables
    return ColumnMapping(
        name=spec.name or str(source),
        timezone=spec.timezone,
        tables={t: _table(getattr(tables, t) if tables else None, t) for t in REQUIRED},
        encoding=spec.encoding,
    )


def load_mapping(source: Source) -> ColumnMapping:
    return _mapping(read_mapping(source), source)


def _from_setting(value: str) -> ColumnMapping:
    """The mapping $RETENTION_COLUMN_MAPPING names; any error starts by naming the setting."""
    prefix = f"{SETTING}={value!r}"
    if is_path(value):
        path = Path(value).expanduser()
        path = path if path.is_absolute() else project_root() / path  # as every path setting (docs/reference.md §2)
        if not path.is_file():
            raise MappingError(f"{prefix}: no such file ({path})")
        source = Source(path=path)
    elif value in shipped_mappings():
        source = Source(shipped=value)
    else:
        raise MappingError(
            f"{prefix}: no shipped column mapping of that name (have: {', '.join(shipped_mappings())}) and no such .yml file"
        )
    try:
        return load_mapping(source)
    except MappingError as e:
        raise MappingError(f"{prefix}: {e}") from None


def mapping_for(landing_dir: Path, override: str | None) -> ColumnMapping:
    """The mapping in force for a landing folder (see the module docstring for the order), checked whole."""
    if override:
        return _from_setting(override)
    local = landing_dir / LANDING_MAPPING_FILE
    if local.is_file():
        return load_mapping(Source(path=local))
    return load_mapping(Source(shipped="canonical"))
