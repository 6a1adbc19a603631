"""The household schema as typed values: record types, fields, enums.

The schema itself is declared in YAML (``policies/schema/household.yaml``); `gspolicy.schema.load`
reads it into these classes.  Python holds no field of the schema.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Literal

import attrs

from gspolicy._i18n import Text
from gspolicy._location import RecordLocation, Span
from gspolicy._numbers import decimal_json
from gspolicy.schema.roles import (
    ROLES,
    SUPPORT,
    SUPPORT_AMOUNT,
    SUPPORT_END,
    SUPPORT_MEASURE,
    SUPPORT_START,
    Changeable,
)

__all__ = [
    "KINDS",
    "EnumSpec",
    "EnumValue",
    "FieldSpec",
    "Gather",
    "Kind",
    "Record",
    "RecordSpec",
    "Schema",
    "SupportFields",
    "UnitSpec",
]

Kind = Literal["bool", "int", "money", "ratio", "decimal", "date", "string", "enum", "set", "record", "list"]
KINDS: tuple[Kind, ...] = (
    "bool",
    "int",
    "money",
    "ratio",
    "decimal",
    "date",
    "string",
    "enum",
    "set",
    "record",
    "list",
)
NUMERIC_KINDS = frozenset({"int", "money", "ratio", "decimal"})


@attrs.frozen
class EnumValue:
    code: str
    title: Text
    aliases: tuple[str, ...] = ()


@attrs.frozen
class EnumSpec:
    """An enumeration: stable English codes, each with zh and en labels and other spellings."""

    name: str
    title: Text
    values: tuple[EnumValue, ...]
    span: Span | None = attrs.field(default=None, eq=False)
    lookup: Mapping[str, str] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        exact: dict[str, str] = {}
        folded: dict[str, str] = {}
        for value in self.values:
            for label in (value.code, value.title.zh, value.title.en, *value.aliases):
                exact.setdefault(label, value.code)
                folded.setdefault(label.casefold(), value.code)
        # exact spellings win over case-folded ones; the loader reports case-folded clashes
        object.__setattr__(self, "lookup", {**{"\0" + k: v for k, v in folded.items()}, **exact})

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)

    def canonical(self, label: str) -> str | None:
        """The code for a code, a zh or en label or an alias; None if it names no value."""
        label = label.strip()
        return self.lookup.get(label) or self.lookup.get("\0" + label.casefold())

    def value(self, code: str) -> EnumValue:
        for v in self.values:
            if v.code == code:
                return v
        raise KeyError(code)


@attrs.frozen
class UnitSpec:
    """A unit packs and fields may name (``unit:``), with its text in both languages; a unit with
    `percent` is a rate, shown as a percentage (0.9 → 90%)."""

    code: str
    title: Text
    percent: bool = False
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Gather:
    """A list filled by the evaluator, never read from data: the records of type `records` whose
    field `by` equals the key of the record holding the list (a village's households)."""

    records: str
    by: str


DERIVE_FORMS = ("record", "verdict", "any_rule")
"""How a field of a gathered item is filled: ``record`` (the gathered record itself),
``verdict`` (a pack's verdict on it: true for pass, false for fail, missing otherwise),
``any_rule`` (whether a rule of a pack applies: true, false, or missing when undetermined)."""


@attrs.frozen
class Derive:
    """Where the evaluator takes a field of a gathered item from."""

    form: str  # one of DERIVE_FORMS
    pack: str | None = None  # the pack, for ``verdict`` and ``any_rule``


@attrs.frozen
class FieldSpec:
    """One field of a record type."""

    name: str
    kind: Kind
    title: Text
    required: bool = False
    min: Decimal | dt.date | None = None
    max: Decimal | dt.date | None = None
    unit: str | None = None
    enum: str | None = None  # for kinds "enum" and "set" (a set of codes of the enum)
    record: str | None = None  # for kinds "record" and "list"
    pattern: str | None = None  # for kind "string"
    requires: tuple[str, ...] = ()  # sibling fields that must be given with this one
    not_before: tuple[str, ...] = ()  # sibling date fields this date may not precede
    description: Text | None = None
    span: Span | None = attrs.field(default=None, eq=False)
    gather: Gather | None = None  # for kind "list": filled by the evaluator
    derive: Derive | None = None  # in an item of a gathered list: what fills the field
    role: str | None = None  # the role the field plays (`gspolicy.schema.roles`), if any
    changeable: Changeable | None = None  # who can change it (None: the schema does not say)

    def matches(self, text: str) -> bool:
        return self.pattern is None or re.fullmatch(self.pattern, text) is not None


@attrs.frozen
class RecordSpec:
    """A record type: a named, ordered set of fields."""

    name: str
    title: Text
    fields: Mapping[str, FieldSpec]
    key: str | None = None  # the field that identifies items of a list of these records
    span: Span | None = attrs.field(default=None, eq=False)
    # `keeps_retention: true`: what the record says (income, exit, status) never ends an item
    # the buffer keeps, so no measure's `lapses_when` may read it
    keeps_retention: bool = False
    # role → the name of the field of this record type that plays it
    roles: Mapping[str, str] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        found = {f.role: name for name, f in self.fields.items() if f.role is not None}
        object.__setattr__(self, "roles", found)


@attrs.frozen
class SupportFields:
    """The support list and its items' fields by their roles (`support`, `support_measure`,
    `support_amount`, `support_start`, `support_end`): what the buffer reads of each item it
    retains.  A role no field plays is the empty name (no record holds it: never given)."""

    list_name: str = ""
    measure: str = ""
    amount: str = ""
    start: str = ""
    end: str = ""


@attrs.frozen
class Schema:
    """The registry schema: record types (the root is the household; villages and counties are
    other subjects packs may decide on) and enums."""

    id: str
    version: str
    title: Text
    root: str
    records: Mapping[str, RecordSpec]
    enums: Mapping[str, EnumSpec]
    source: str = attrs.field(default="", eq=False)
    digest: str = attrs.field(default="", eq=False)  # sha256 of the schema file's text
    # the units packs and fields may name (``units:``), by code
    units: Mapping[str, UnitSpec] = attrs.field(factory=dict)
    # role → the dotted path of the field that plays it, from the root (``members.birth_date``:
    # through a list by the list's name); roles declared off the root's tree are not listed
    roles: Mapping[str, str] = attrs.field(init=False, eq=False)
    # role → the name of that field within its own record type (the last part of its path):
    # what to read from a member or a support item; read once where a run, plan or lowering
    # starts, never per record
    role_names: Mapping[str, str] = attrs.field(init=False, eq=False)
    # the support list's fields by role, read where the buffer reads a retained item
    support_fields: SupportFields = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        found: dict[str, str] = {}
        if self.root in self.records:
            for path, field in self.field_paths(lists=True):
                if field.role is not None:
                    found.setdefault(field.role, path)
        object.__setattr__(self, "roles", found)
        names = {r: p.rpartition(".")[2] for r, p in found.items()}
        object.__setattr__(self, "role_names", names)
        support = SupportFields(
            *(
                names.get(r, "")
                for r in (SUPPORT, SUPPORT_MEASURE, SUPPORT_AMOUNT, SUPPORT_START, SUPPORT_END)
            )
        )
        object.__setattr__(self, "support_fields", support)

    def role(self, name: str) -> str | None:
        """The dotted path, from the root, of the field that plays role `name` (one of
        `gspolicy.schema.roles.ROLES`): ``members.birth_date``, ``registration.status``; None
        when the schema gives no field that role."""
        if name not in ROLES:
            raise KeyError(f"unknown role {name!r}")
        return self.roles.get(name)

    def role_name(self, name: str) -> str | None:
        """The name of the field that plays role `name` within its own record type (the last
        part of `role`): what to read from a member or a support item."""
        if name not in ROLES:
            raise KeyError(f"unknown role {name!r}")
        return self.role_names.get(name)

    def changeable(self, path: str) -> Changeable | None:
        """Who can change the field at `path` (``members[2].health``, ``members.health`` or
        ``income.per_capita``): ``household``, ``department`` or ``no``; None when the schema
        has no such field or does not say."""
        spec: RecordSpec | None = self.root_record
        found: FieldSpec | None = None
        for part in path.replace("[", ".[").split("."):
            if part.startswith("[") or not part:
                continue
            if spec is None:
                return None
            found = spec.fields.get(part)
            if found is None:
                return None
            spec = self.records.get(found.record or "") if found.kind in ("record", "list") else None
        return None if found is None else found.changeable

    @property
    def root_record(self) -> RecordSpec:
        return self.records[self.root]

    def field_at(self, spec: RecordSpec, path: Sequence[str]) -> FieldSpec | None:
        """The field at `path` (through nested records) in records of `spec`, or None."""
        record: RecordSpec | None = spec
        found: FieldSpec | None = None
        for part in path:
            if record is None:
                return None
            found = record.fields.get(part)
            if found is None:
                return None
            record = self.records.get(found.record or "") if found.kind == "record" else None
        return found

    def field_paths(
        self, record: str | None = None, prefix: str = "", *, lists: bool = False
    ) -> Iterator[tuple[str, FieldSpec]]:
        """Every field path below `record` (default: the root), lists included as ``members``;
        with `lists`, the fields of a list's items too, as ``members.birth_date`` (a gathered
        list's items are left out: they hold other subjects)."""
        spec = self.records[record or self.root]
        for name, field in spec.fields.items():
            path = f"{prefix}{name}"
            yield path, field
            nested = field.kind == "record" or (lists and field.kind == "list" and field.gather is None)
            if nested and field.record is not None and field.record in self.records:
                yield from self.field_paths(field.record, path + ".", lists=lists)


class Record(Mapping[str, object]):
    """An immutable, validated record: field name to typed value; absent fields are missing.

    Values are `bool`, `int`, `Decimal` (money, ratio, decimal), `datetime.date`, `str` (strings
    and enum codes), `frozenset`s of enum codes (sets), nested `Record`s and tuples of `Record`s.  `origin` tells where the record
    came from (file and line) and takes no part in equality.
    """

    __slots__ = ("_hash", "_type", "_values", "origin")

    def __init__(
        self, type_name: str, values: Mapping[str, object], origin: RecordLocation | None = None
    ) -> None:
        self._type = type_name
        self._values = dict(values)
        self._hash: int | None = None
        self.origin = origin

    @property
    def type_name(self) -> str:
        return self._type

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def get(self, key: str, default: object = None) -> object:
        return self._values.get(key, default)

    def values_dict(self) -> Mapping[str, object]:
        """The field values as a read-only view of the record's own mapping (for evaluators
        that read many fields: no copy, no method call per field)."""
        return self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return self._type == other._type and self._values == other._values

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._type, frozenset(self._values.items())))
        return self._hash

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{self._type}({inner})"

    def replace(self, **changes: object) -> Record:
        """A copy with fields changed (a value of None removes the field)."""
        values = dict(self._values)
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return Record(self._type, values, self.origin)

    def to_data(self) -> dict[str, object]:
        """Plain JSON-ready data: dates as ISO text, lists as lists, numbers as JSON numbers.

        A decimal is written as an integer when it is whole, else as a float only when the float
        prints back as exactly the same decimal (so reading the JSON with exact decimals gives the
        same value), else as text.
        """
        return {k: _plain(v) for k, v in self._values.items()}


def _plain(value: object) -> object:
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_json(value)
    return value
