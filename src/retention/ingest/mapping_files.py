"""Reading a column mapping's YAML: a shipped mapping by name or a file by path, each file checked
against the schema on its own (so an error names the file it is in), then its `extends` chain
merged, the extending file's keys winning."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..errors import MappingError
from .mapping_schema import MappingSpec, validate

MAX_EXTENDS = 5  # a deeper chain is a mistake (or a loop) rather than a design


@dataclass(frozen=True)
class Source:
    """Where a mapping comes from: a shipped name, or a path."""

    shipped: str | None = None
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.shipped} (shipped)" if self.shipped else str(self.path)

    def parent(self, extends: str) -> Source:
        """The mapping `extends: <value>` in this one names: a .yml path is taken from this file's folder."""
        if not is_path(extends):
            return Source(shipped=extends)
        if self.path is None:
            raise MappingError(f"column mapping {self}: extends: a shipped mapping extends shipped mappings only")
        return Source(path=(self.path.parent / extends).resolve())


def is_path(value: str) -> bool:
    return Path(value).suffix.lower() in (".yml", ".yaml")


def shipped_mappings() -> list[str]:
    folder = resources.files("retention.ingest") / "mappings"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".yml"))


def _text(source: Source) -> bytes:
    if source.shipped is not None:
        path = resources.files("retention.ingest") / "mappings" / f"{source.shipped}.yml"
        if not path.is_file():
            raise MappingError(f"no shipped column mapping named {source.shipped!r} (have: {', '.join(shipped_mappings())})")
        return path.read_bytes()
    assert source.path is not None  # a Source is a shipped name or a path
    try:
        return source.path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"column mapping {source}: no such file") from None
    except OSError as e:
        raise MappingError(f"column mapping {source}: cannot be read ({e.strerror})") from None


def read_file(source: Source) -> dict:
    """One file's keys, as written, once they pass the schema."""
    try:
        text = _text(source).decode("utf-8")
    except UnicodeDecodeError as e:
        raise MappingError(f"column mapping {source}: not UTF-8 (undecodable byte at {e.start}); save it as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        problem = " ".join(str(e).split())  # one line: YAML's message spans several
        raise MappingError(f"column mapping {source}: not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MappingError(f"column mapping {source}: expected keys (name, extends, tables, …) at the top level")
    validate(data, str(source))
    return data


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_mapping(source: Source) -> MappingSpec:
    """The mapping `source` holds, with everything it extends merged in."""
    chain, layers = [source], [read_file(source)]
    while parent := layers[-1].get("extends"):
        nxt = chain[-1].parent(str(parent))
        if nxt in chain:
            cycle = " -> ".join(str(s) for s in [*chain[chain.index(nxt) :], nxt])
            raise MappingError(f"column mapping {source}: extends cycle: {cycle}")
        if len(chain) > MAX_EXTENDS:
            raise MappingError(
                f"column mapping {source}: more than {MAX_EXTENDS} levels of extends "
                f"({' -> '.join(str(s) for s in chain)} -> …); extend a shipped mapping directly"
            )
        if nxt.shipped is not None and nxt.shipped not in shipped_mappings():
            raise MappingError(
                f"column mapping {chain[-1]}: extends: no shipped column mapping named {nxt.shipped!r} "
                f"(have: {', '.join(shipped_mappings())}; a file must end in .yml)"
            )
        if nxt.path is not None and not nxt.path.is_file():
            raise MappingError(f"column mapping {chain[-1]}: extends: no such file {nxt.path}")
        chain.append(nxt)
        layers.append(read_file(nxt))
    merged: dict = {}
    for layer in reversed(layers):
        merged = _merge(merged, layer)
    merged.pop("extends", None)
    return validate(merged, str(source))
