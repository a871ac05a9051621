"""Quoting for the SQL this package writes (DuckDB's dialect): a value as a literal, a name as an identifier."""

from __future__ import annotations


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
