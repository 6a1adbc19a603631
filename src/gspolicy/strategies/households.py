"""Valid records drawn from a household schema (`from_schema`), with overrides by field path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.errors import suggest
from gspolicy.schema import roles
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema
from gspolicy.strategies.arguments import (
    Named,
    check_bool,
    check_int,
    check_schema,
    field_by_path,
    schema_repr,
)

# -- values of one field ----------------------------------------------------------------------------

# the characters a record's text may hold: no control characters, surrogates or line separators
_CHARACTERS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), exclude_characters="\x85"
)
_TEXT = st.text(alphabet=_CHARACTERS, max_size=8)


def _matching(pattern: str) -> SearchStrategy[str]:
    """Texts matching a field's pattern, drawn from the characters a record may hold."""
    return st.from_regex(pattern, fullmatch=True, alphabet=_CHARACTERS)


_FIRST_DAY, _LAST_DAY = dt.date(1930, 1, 1), dt.date(2035, 12, 31)
_PLACES = {"money": 2, "ratio": 4, "decimal": 3}
_DEFAULT_RANGE = {
    "int": (-1000, 1000),
    "money": (-1_000_000, 1_000_000),
    "ratio": (0, 1),
    "decimal": (-10_000, 10_000),
}


def _bounds(field: FieldSpec) -> tuple[Decimal, Decimal]:
    low, high = _DEFAULT_RANGE[field.kind]
    lo = Decimal(field.min) if isinstance(field.min, Decimal) else Decimal(low)
    hi = Decimal(field.max) if isinstance(field.max, Decimal) else Decimal(high)
    return lo, hi


def _number(field: FieldSpec) -> SearchStrategy[Any]:
    lo, hi = _bounds(field)
    if field.kind == "int":
        low, high = int(lo), int(hi)
        return st.one_of(st.sampled_from((low, high)), st.integers(low, high))
    places = _PLACES[field.kind]
    scale = 10**places
    ends = st.sampled_from((lo, hi))
    inner = st.integers(int(lo * scale), int(hi * scale)).map(lambda n: Decimal(n).scaleb(-places))
    return st.one_of(ends, inner)


def _dates(field: FieldSpec) -> SearchStrategy[dt.date]:
    low = field.min if isinstance(field.min, dt.date) else _FIRST_DAY
    high = field.max if isinstance(field.max, dt.date) else _LAST_DAY
    return st.one_of(st.sampled_from((low, high)), st.dates(low, high))


def _key_values(spec: RecordSpec, field: FieldSpec) -> SearchStrategy[str]:
    if field.pattern is not None:
        return _matching(field.pattern)
    prefix = spec.name[:1] or "x"
    return st.integers(1, 9999).map(lambda n: f"{prefix}{n}")


class HouseholdStrategies:
    """Builds the record strategies of one schema, with overrides by field path."""

    def __init__(
        self, schema: Schema, overrides: Mapping[str, SearchStrategy[Any]], missing: bool, max_items: int
    ) -> None:
        self.schema = schema
        self.overrides = overrides
        self.missing = missing
        self.max_items = max_items

    def value(self, spec: RecordSpec, field: FieldSpec, prefix: str, depth: int) -> SearchStrategy[Any]:
        kind = field.kind
        if kind == "bool":
            return st.booleans()
        if kind in ("int", "money", "ratio", "decimal"):
            return _number(field)
        if kind == "date":
            return _dates(field)
        if kind == "string":
            if spec.key == field.name:
                return _key_values(spec, field)
            return _matching(field.pattern) if field.pattern else _TEXT
        if kind in ("enum", "set"):
            codes = self.schema.enums[field.enum or ""].codes
            if kind == "enum":
                return st.sampled_from(codes)
            return st.frozensets(st.sampled_from(codes), max_size=len(codes))
        inner_spec = self.schema.records[field.record or ""]
        inner = self.record(inner_spec, prefix, depth + 1)
        if kind == "record":
            return inner
        key = inner_spec.key
        return st.lists(
            inner, max_size=self.max_items, unique_by=(lambda r: r.get(key)) if key else None
        ).map(tuple)

    def record(self, spec: RecordSpec, prefix: str = "", depth: int = 0) -> SearchStrategy[Record]:
        required: dict[str, SearchStrategy[Any]] = {}
        optional: dict[str, SearchStrategy[Any]] = {}
        for name, field in spec.fields.items():
            path = f"{prefix}{name}"
            below = any(key.startswith(path + ".") for key in self.overrides)
            if path in self.overrides:
                required[name] = self.overrides[path]
            elif field.kind in ("record", "list") and depth >= 4:
                continue
            elif field.required or not self.missing or below:  # a part overridden below is always there
                required[name] = self.value(spec, field, path + ".", depth)
            else:
                optional[name] = self.value(spec, field, path + ".", depth)
        return st.fixed_dictionaries(required, optional=optional).map(lambda d: _make(spec, d))


def _make(spec: RecordSpec, data: Mapping[str, Any]) -> Record:
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if v is not None}
    return repair_record(spec, values, frozenset())


def repair_record(spec: RecordSpec, values: dict[str, Any], touched: frozenset[str]) -> Record:
    """Make a record consistent: companions present, dates in order (a touched field wins)."""
    for name, field in spec.fields.items():
        for earlier in field.not_before:
            later_value, earlier_value = values.get(name), values.get(earlier)
            if (
                isinstance(later_value, dt.date)
                and isinstance(earlier_value, dt.date)
                and later_value < earlier_value
            ):
                if name in touched:
                    values[earlier] = later_value
                else:
                    values[name] = earlier_value
    for name, field in spec.fields.items():
        if name in values and any(values.get(c) is None for c in field.requires):
            del values[name]
    _repair_age(spec, values, touched)
    return Record(spec.name, values)


def _repair_age(spec: RecordSpec, values: dict[str, Any], touched: frozenset[str]) -> None:
    """An age recorded on a date may not imply a birth before the earliest birth date: lower the
    age, or (when the age was chosen, or cannot go low enough) move the recording later."""
    names = spec.roles  # the fields of the age roles in this record type
    birth = spec.fields.get(names.get(roles.BIRTH_DATE, ""))
    age_name, on_name = names.get(roles.RECORDED_AGE, ""), names.get(roles.AGE_RECORDED_ON, "")
    age, on = values.get(age_name), values.get(on_name)
    if birth is None or not isinstance(birth.min, dt.date) or not isinstance(age, int):
        return
    if not isinstance(on, dt.date):
        return
    earliest = birth.min
    late = (on.month, on.day) < (earliest.month, earliest.day)  # before the anniversary in its year
    if (on.year - age, on.month, on.day) >= (earliest.year, earliest.month, earliest.day):
        return
    highest = on.year - earliest.year - (1 if late else 0)
    if age_name not in touched and highest >= 0:
        values[age_name] = highest
        return
    year = earliest.year + age + (1 if late else 0)
    try:
        values[on_name] = on.replace(year=year)
    except ValueError:  # 29 February
        values[on_name] = on.replace(year=year, day=28)


def from_schema(
    schema: Schema,
    *,
    record: str | None = None,
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
    missing: bool = True,
    max_items: int = 3,
) -> SearchStrategy[Record]:
    """Valid records of `record` (default: the schema's root, the household) as `Record` values.

    Every field kind, every enum code and both ends of every range are drawn; with `missing`
    (the default) any optional field may be missing; lists hold 0 to `max_items` items with
    distinct keys.  `overrides` maps field paths below `record` to strategies of typed values
    (`Decimal` for money, ratios and decimals, `datetime.date`, enum codes, `frozenset` for sets,
    `Record` for records, a sequence of `Record` for lists); a drawn None leaves the field missing.
    """
    schema = check_schema(schema)
    name = record if record is not None else schema.root
    if name not in schema.records:
        hint = suggest(name, sorted(schema.records))
        raise InvalidArgument(
            f"record={record!r} is not a record type of the schema"
            + (f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else "")
        )
    checked: dict[str, SearchStrategy[Any]] = {}
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise InvalidArgument(f"overrides={overrides!r} must be a mapping of field paths to strategies")
        for path, strategy in overrides.items():
            if not isinstance(path, str):
                raise InvalidArgument(
                    f"overrides key {path!r} must be a field path such as 'income.per_capita'"
                )
            field_by_path(schema, name, path)
            if not isinstance(strategy, SearchStrategy):
                raise InvalidArgument(f"overrides[{path!r}]={strategy!r} must be a hypothesis strategy")
            checked[path] = strategy
    check_bool(missing, "missing")
    check_int(max_items, "max_items", 0, 50)
    inner = HouseholdStrategies(schema, checked, missing, max_items).record(schema.records[name])
    options = [f"record={record!r}"] if record is not None else []
    if checked:
        options.append(f"overrides={checked!r}")
    if not missing:
        options.append("missing=False")
    if max_items != 3:
        options.append(f"max_items={max_items}")
    return Named(inner, f"from_schema({', '.join([schema_repr(schema), *options])})")
