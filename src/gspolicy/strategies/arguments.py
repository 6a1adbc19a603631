"""The strategies' arguments checked when a strategy is built, and a strategy shown as the call that built it.

A bad argument is an `InvalidArgument` naming it (with "did you mean" for field paths).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, TypeVar

from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.errors import suggest
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import FieldSpec, Schema

T = TypeVar("T")


class HasPolicySet(Protocol):
    @property
    def policy_set(self) -> PolicySet: ...


class Named(SearchStrategy[T]):
    """A strategy that draws from `inner` and shows itself as the call that built it."""

    def __init__(self, inner: SearchStrategy[T], text: str) -> None:
        super().__init__()
        self._inner = inner
        self._text = text

    def do_draw(self, data: Any) -> T:
        result: T = data.draw(self._inner)
        return result

    def __repr__(self) -> str:
        return self._text


def schema_repr(schema: Schema) -> str:
    return f"<schema {schema.id}@{schema.version}>"


def policy_set_from(policies: PolicySet | HasPolicySet, name: str = "policies") -> PolicySet:
    if isinstance(policies, PolicySet):
        return policies
    found = getattr(policies, "policy_set", None)
    if isinstance(found, PolicySet):
        return found
    raise InvalidArgument(f"{name}={policies!r} must be a PolicySet or gspolicy.Policies")


def check_schema(schema: object) -> Schema:
    if not isinstance(schema, Schema):
        raise InvalidArgument(f"schema={schema!r} must be a gspolicy Schema (e.g. `policies.schema`)")
    return schema


def check_int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name}={value!r} must be an integer from {low} to {high}")
    return value


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def check_date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidArgument(f"{name}={value!r} must be a datetime.date")
    return value


# -- field paths ------------------------------------------------------------------------------------


def field_by_path(schema: Schema, record: str, path: str) -> FieldSpec:
    """The field at a dotted field path below `record` (lists are stepped through by name)."""
    spec = schema.records[record]
    parts = path.split(".")
    field: FieldSpec | None = None
    for i, part in enumerate(parts):
        if part not in spec.fields:
            known = sorted(spec.fields)
            hint = suggest(part, known)
            where = ".".join(parts[:i]) or spec.name
            more = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
            raise InvalidArgument(f"no field {part!r} in {where!r} (path {path!r}){more}")
        field = spec.fields[part]
        if i < len(parts) - 1:
            if field.kind not in ("record", "list") or field.record is None:
                raise InvalidArgument(
                    f"{'.'.join(parts[: i + 1])!r} is not a record or a list (path {path!r})"
                )
            spec = schema.records[field.record]
    assert field is not None
    return field
