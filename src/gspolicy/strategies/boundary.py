"""Households with values at, just below and just above the packs' thresholds (`boundary_households`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.lang import evaluate
from gspolicy.lang.typed import AGE
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema
from gspolicy.schema.paths import value_at, with_value
from gspolicy.strategies.arguments import (
    HasPolicySet,
    Named,
    check_date,
    check_int,
    field_by_path,
    policy_set_from,
)
from gspolicy.strategies.households import from_schema, repair_record
from gspolicy.strategies.pack_thresholds import Threshold, thresholds


def _step(field: FieldSpec, bound: Decimal) -> Decimal:
    if field.kind == "int":
        return Decimal(1)
    if field.kind in ("money", "ratio"):
        return Decimal("0.01")
    exponent = bound.normalize().as_tuple().exponent
    return Decimal(1).scaleb(min(0, exponent if isinstance(exponent, int) else 0))


def _in_range(field: FieldSpec, value: object) -> bool:
    low, high = field.min, field.max
    try:
        return (low is None or low <= value) and (high is None or value <= high)  # type: ignore[operator]
    except TypeError:
        return False


def _near(field: FieldSpec, bound: object, as_of: dt.date) -> list[object]:
    """Values at, just below and just above a bound, valid for `field`."""
    if bound is None:
        return [None]
    out: list[object] = []
    if field.kind == "date" and isinstance(bound, dt.date):
        out = [bound + dt.timedelta(days=k) for k in (-1, 0, 1)]
    elif field.kind in ("int", "money", "ratio", "decimal") and isinstance(bound, int | Decimal):
        b = Decimal(bound)
        step = _step(field, b)
        numbers = [b - step, b, b + step]
        if field.kind == "int":
            out = [int(v) for v in numbers if v == v.to_integral_value()]
        elif field.kind == "money":
            out = [v.quantize(Decimal("0.01")) for v in numbers]
        else:
            out = list(numbers)
    elif (field.kind == "enum" and isinstance(bound, str)) or (
        field.kind == "bool" and isinstance(bound, bool)
    ):
        out = [bound]
    elif field.kind == "string" and isinstance(bound, str):
        out = [bound] if field.matches(bound) else []
    return [v for v in out if _in_range(field, v)]


def _birth_dates(as_of: dt.date, age: int) -> list[dt.date]:
    """Birth dates giving an age of `age - 1`, `age`, `age` and `age + 1` on `as_of`."""
    out = []
    for years in (age, age + 1):
        try:
            day = as_of.replace(year=as_of.year - years)
        except ValueError:
            day = as_of.replace(year=as_of.year - years, day=28)
        out.extend([day, day + dt.timedelta(days=1)])
    return out


def _set(schema: Schema, record: Record, parts: Sequence[str], value: object) -> Record:
    """`record` with the value at `parts` set (None removes it), creating records on the way and
    mending each inner record's related fields."""
    return with_value(schema, record, parts, value, repair=_repaired)


def _repaired(spec: RecordSpec, record: Record, name: str) -> Record:
    return repair_record(spec, dict(record), frozenset({name}))


def _split(schema: Schema, path: str) -> tuple[list[str], list[str] | None]:
    """A path as (subject part, item part): ``members.age`` → (["members"], ["age"])."""
    spec = schema.root_record
    parts = path.split(".")
    for i, part in enumerate(parts):
        field = spec.fields.get(part)
        if field is None:
            return parts, None
        if field.kind == "list":
            return parts[: i + 1], parts[i + 1 :]
        if field.kind == "record":
            spec = schema.records[field.record or ""]
    return parts, None


class _Boundary:
    def __init__(self, schema: Schema, as_of: dt.date, max_items: int) -> None:
        self.schema = schema
        self.as_of = as_of
        self.items: dict[str, SearchStrategy[Record]] = {}
        self.max_items = max_items

    def item_strategy(self, list_path: list[str]) -> tuple[RecordSpec, SearchStrategy[Record]]:
        field = field_by_path(self.schema, self.schema.root, ".".join(list_path))
        spec = self.schema.records[field.record or ""]
        key = ".".join(list_path)
        if key not in self.items:
            self.items[key] = from_schema(self.schema, record=spec.name, max_items=1)
        return spec, self.items[key]

    def solve(
        self, draw: st.DrawFn, record: Record, t: Threshold, field: FieldSpec, parts: list[str]
    ) -> Record:
        assert t.solve is not None
        assert t.context is not None
        solve, context = t.solve, t.context
        bound = draw(st.sampled_from(t.bounds))
        if not isinstance(bound, int | Decimal):
            return record

        def at(x: Decimal) -> object:
            changed = _set(self.schema, record, parts, x)
            return evaluate(solve, attrs.evolve(context, subject=changed))

        f0, f1 = at(Decimal(0)), at(Decimal(1))
        if not (isinstance(f0, int | Decimal) and isinstance(f1, int | Decimal)) or f1 == f0:
            return record
        if isinstance(f0, bool) or isinstance(f1, bool):
            return record
        x = (Decimal(bound) - Decimal(f0)) / (Decimal(f1) - Decimal(f0))
        candidates = _near(
            field,
            x.quantize(_step(field, Decimal(bound))) if field.kind != "int" else x.to_integral_value(),
            self.as_of,
        )
        if not candidates:
            return record
        value = draw(st.sampled_from(candidates))
        return _set(self.schema, record, parts, value)

    def apply(self, draw: st.DrawFn, record: Record, t: Threshold) -> Record:
        head, item = _split(self.schema, t.path)
        if item is None:
            field = field_by_path(self.schema, self.schema.root, t.path)
            if t.solve is not None:
                return self.solve(draw, record, t, field, head)
            values = [v for b in t.bounds for v in _near(field, b, self.as_of)]
            if field.kind == "enum":
                values = list(self.schema.enums[field.enum or ""].codes)
            if not values:
                return record
            return _set(self.schema, record, head, draw(st.sampled_from(values)))
        spec, items = self.item_strategy(head)
        current = value_at(record, head)
        members = list(current) if isinstance(current, tuple) else []
        index = draw(st.integers(0, len(members) if len(members) < self.max_items else len(members) - 1))
        if index == len(members):
            new = draw(items)
            key = spec.key
            if key is not None and any(m.get(key) == new.get(key) for m in members):
                return record
            members.append(new)
        target = members[index]
        name = item[0]
        # the language's `age` is the item's age when it has a birth date (as the type checker
        # reads it); its fields are those of the roles
        birth_name = spec.roles.get(roles.BIRTH_DATE)
        if name == AGE and (birth_name is not None or AGE not in spec.fields):
            ages = [int(b) for b in t.bounds if isinstance(b, int | Decimal) and not isinstance(b, bool)]
            if not ages or birth_name is None:
                return record
            birth = draw(st.sampled_from([d for a in ages for d in _birth_dates(self.as_of, a)]))
            recorded = (spec.roles.get(r) for r in (roles.RECORDED_AGE, roles.AGE_RECORDED_ON))
            cleared = target.replace(**{n: None for n in recorded if n is not None})
            target = repair_record(spec, {**cleared, birth_name: birth}, frozenset({birth_name}))
        else:
            if name not in spec.fields:
                return record
            field = spec.fields[name]
            choices: list[object] = []
            for b in t.bounds:
                if isinstance(b, str) and b.startswith("@"):
                    anchor = value_at(record, b[1:].split("."))
                    choices.extend(_near(field, anchor, self.as_of) if isinstance(anchor, dt.date) else [])
                else:
                    choices.extend(_near(field, b, self.as_of))
            if field.kind == "enum":
                choices = list(self.schema.enums[field.enum or ""].codes)
            if not choices:
                return record
            value = draw(st.sampled_from(choices))
            if value is None and field.required:
                return record
            target = repair_record(spec, dict(target.replace(**{name: value})), frozenset({name}))
        members[index] = target
        return _set(self.schema, record, head, tuple(members))


def boundary_households(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date,
    base: SearchStrategy[Record] | None = None,
    pack: str | None = None,
    fields: Sequence[str] | None = None,
    max_changes: int = 3,
) -> SearchStrategy[Record]:
    """Households with values at and around the thresholds of the packs in force on `as_of`.

    Each household is drawn from `base` (default: ``from_schema(policies.schema)``), then one to
    `max_changes` of the `thresholds` (of `pack` only, when given) are applied: the field is set
    just below, at or just above the bound (for a field compared through a fact or arithmetic,
    the field is solved for), a member's birth date is set so that the age is just below, at or
    just above it, an enum field takes each code, a field checked with ``present`` is removed.
    `fields` keeps only the thresholds on these field paths (``members.age``, ``income``: a
    prefix keeps every field below it).
    """
    policy_set = policy_set_from(policies)
    as_of = check_date(as_of, "as_of")
    if base is not None and not isinstance(base, SearchStrategy):
        raise InvalidArgument(f"base={base!r} must be a hypothesis strategy of households")
    check_int(max_changes, "max_changes", 1, 20)
    found = thresholds(policy_set, as_of=as_of, pack=pack)
    if fields is not None:
        if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
            raise InvalidArgument(f"fields={fields!r} must be a sequence of field paths")
        for f in fields:
            if not f.endswith(".age"):
                field_by_path(policy_set.schema, policy_set.schema.root, f)
        found = tuple(t for t in found if any(t.path == f or t.path.startswith(f + ".") for f in fields))
    if not found:
        raise InvalidArgument(
            f"no pack in force on {as_of.isoformat()}{f' for pack={pack!r}' if pack else ''} has a threshold "
            "a household can reach"
        )
    schema = policy_set.schema
    source = base if base is not None else from_schema(schema)
    builder = _Boundary(schema, as_of, 4)

    @st.composite
    def draw_household(draw: st.DrawFn) -> Record:
        record = draw(source)
        for t in draw(st.lists(st.sampled_from(found), min_size=1, max_size=max_changes)):
            record = builder.apply(draw, record, t)
        return repair_record(schema.root_record, dict(record), frozenset())

    options = [f"as_of={as_of!r}"]
    if base is not None:
        options.append(f"base={base!r}")
    if pack is not None:
        options.append(f"pack={pack!r}")
    if fields is not None:
        options.append(f"fields={list(fields)!r}")
    if max_changes != 3:
        options.append(f"max_changes={max_changes}")
    return Named(
        draw_household(),
        f"boundary_households(<{len(policy_set.packs)} pack versions>, {', '.join(options)})",
    )
