"""The shape of a column-mapping YAML file, as a pydantic model: every key it may hold and what
each value must be. Unknown keys are errors at every level, so a typo (`colums:`) is refused
instead of silently leaving the mapping without the columns it meant to add."""

from __future__ import annotations

import codecs
import typing
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import ErrorDetails

from ..errors import MappingError
from .contract import REQUIRED, STATUSES

# numbers in YAML (`1001: completed`) are words of the export all the same
STRICT = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class TableSpec(BaseModel):
    model_config = STRICT
    table: ClassVar[str]

    columns: dict[str, str | list[str] | None] | None = None  # contract column -> export header(s)
    pii: list[str] | None = None  # export headers holding personal data
    status_values: dict[str, str] | None = None  # CRM status word -> contract status

    @field_validator("columns")
    @classmethod
    def _contract_columns(cls, columns: dict | None) -> dict | None:
        for column in columns or {}:
            if column not in REQUIRED[cls.table]:
                raise ValueError(
                    f"{column!r} is not a contract column (the {cls.table} columns are: {', '.join(REQUIRED[cls.table])})"
                )
        return columns

    @field_validator("status_values")
    @classmethod
    def _known_statuses(cls, values: dict | None) -> dict | None:
        bad = sorted({v.strip().lower() for v in (values or {}).values()} - set(STATUSES))
        if bad:
            raise ValueError(f"maps to unknown statuses {bad} (the statuses are: {', '.join(STATUSES)})")
        return values


class CustomersSpec(TableSpec):
    table = "customers"


class OrdersSpec(TableSpec):
    table = "orders"


class TablesSpec(BaseModel):
    model_config = STRICT

    customers: CustomersSpec | None = None
    orders: OrdersSpec | None = None


class MappingSpec(BaseModel):
    model_config = STRICT

    name: str | None = None
    extends: str | None = None  # a shipped mapping's name, or a .yml path relative to this file
    timezone: str | None = None  # IANA zone of timestamps written without an offset
    encoding: str | None = None  # the codec every export is written in (else detected)
    tables: TablesSpec | None = None

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValueError(f"{zone!r} is not an IANA time zone (such as Europe/Berlin or Asia/Shanghai)") from None
        return zone

    @field_validator("encoding")
    @classmethod
    def _text_codec(cls, encoding: str | None) -> str | None:
        if encoding is None:
            return None
        try:
            name = codecs.lookup(encoding).name  # one spelling per codec: windows-1252, CP1252 -> cp1252
            b"\0\0\0\0".decode(name)  # LookupError for codecs that are not text encodings (zlib, base64)
        except UnicodeDecodeError:
            pass  # a text encoding, just not of these bytes
        except LookupError:
            raise ValueError(f"{encoding!r} is not a text encoding Python knows (such as windows-1252 or gb18030)") from None
        return name


def _model_at(loc: tuple) -> type[BaseModel]:
    """The model class that holds the key at `loc` (a pydantic error location)."""
    model: type[BaseModel] = MappingSpec
    for part in loc[:-1]:
        annotation = model.model_fields[part].annotation
        model = next(t for t in (annotation, *typing.get_args(annotation)) if isinstance(t, type) and issubclass(t, BaseModel))
    return model


def _sentence(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key (allowed: {', '.join(_model_at(loc).model_fields)})"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


def validate(data: dict, where: str) -> MappingSpec:
    """The mapping file's content as a MappingSpec, or MappingError naming the file and every key at fault."""
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as e:
        raise MappingError(f"column mapping {where}: {'; '.join(_sentence(err) for err in e.errors())}") from None
