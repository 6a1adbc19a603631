"""The types of the expression language.

`BOOL`, `NUMBER` (exact: integers and decimals; money, ratios and counts are all numbers),
`DATE` and `STRING` are scalars; `EnumT(name)` is a value of a schema enum (held as its code);
`RecordT(name)` is a record of the schema (only usable as the head of a field path) and
`ListT(name)` a list of such records (usable by the aggregates); `SetT(element)` is a set of
scalars (a list literal after `in`, or a set-valued parameter).
"""

from __future__ import annotations

import attrs

from gspolicy._i18n import Text
from gspolicy.schema.model import FieldSpec

__all__ = [
    "BOOL",
    "DATE",
    "NUMBER",
    "STRING",
    "BoolT",
    "DateT",
    "EnumT",
    "ListT",
    "NumberT",
    "RecordT",
    "SetT",
    "StringT",
    "Type",
    "describe_type",
    "field_type",
]


@attrs.frozen
class BoolT:
    """True or false (or unknown at run time)."""


@attrs.frozen
class NumberT:
    """An exact number: an integer or a decimal (money, ratios, counts, ages)."""


@attrs.frozen
class DateT:
    """A calendar date."""


@attrs.frozen
class StringT:
    """A text."""


@attrs.frozen
class EnumT:
    """A value of the schema enum `name`, held as its code."""

    name: str


@attrs.frozen
class RecordT:
    """A record of the schema record type `name`."""

    name: str


@attrs.frozen
class ListT:
    """A list of records of the schema record type `name`."""

    name: str


@attrs.frozen
class SetT:
    """A set of scalar values (`element` is a scalar type or an enum)."""

    element: Type


Type = BoolT | NumberT | DateT | StringT | EnumT | RecordT | ListT | SetT

BOOL = BoolT()
NUMBER = NumberT()
DATE = DateT()
STRING = StringT()

_NUMERIC = frozenset({"int", "money", "ratio", "decimal"})


def field_type(spec: FieldSpec) -> Type:
    """The expression type of a schema field."""
    kind = spec.kind
    if kind == "bool":
        return BOOL
    if kind in _NUMERIC:
        return NUMBER
    if kind == "date":
        return DATE
    if kind == "string":
        return STRING
    if kind == "enum":
        return EnumT(spec.enum or "?")
    if kind == "set":
        return SetT(EnumT(spec.enum or "?"))
    if kind == "record":
        return RecordT(spec.record or "?")
    return ListT(spec.record or "?")


def describe_type(t: Type) -> Text:
    """Name a type for messages, in zh and en (``a number``, ``a value of `poverty_cause```)."""
    if isinstance(t, BoolT):
        return Text(zh="真假值", en="true or false")
    if isinstance(t, NumberT):
        return Text(zh="数字", en="a number")
    if isinstance(t, DateT):
        return Text(zh="日期", en="a date")
    if isinstance(t, StringT):
        return Text(zh="文本", en="a text")
    if isinstance(t, EnumT):
        return Text(zh=f"枚举 `{t.name}` 的取值", en=f"a value of `{t.name}`")
    if isinstance(t, RecordT):
        return Text(zh=f"`{t.name}` 记录", en=f"a `{t.name}` record")
    if isinstance(t, ListT):
        return Text(zh=f"`{t.name}` 记录列表", en=f"a list of `{t.name}` records")
    inner = describe_type(t.element)
    return Text(zh=f"由{inner.zh}组成的集合", en=f"a set of {_plural(inner.en)}")


def _plural(en: str) -> str:
    for single, many in (
        ("a number", "numbers"),
        ("a date", "dates"),
        ("a text", "texts"),
        ("true or false", "true-or-false values"),
        ("a value of", "values of"),
    ):
        if en.startswith(single):
            return many + en[len(single) :]
    return en
