"""Hypothesis strategies for testing policy packs: households, boundary households, expressions, packs.

Install the ``testing`` extra (``pip install gspolicy[testing]``) and import this module directly;
``import gspolicy`` never imports it (nor Hypothesis).  The API follows Hypothesis's own style:
the specification first (a schema, a policy set), every option keyword-only, arguments validated
when the strategy is built (an `InvalidArgument` naming the argument), and a readable repr::

    >>> from gspolicy.strategies import from_schema, boundary_households
    >>> from_schema(policies.schema, overrides={"income.per_capita": st.just(Decimal(5200))})
    from_schema(<schema household@2018.1>, overrides={'income.per_capita': just(Decimal('5200'))})

* `from_schema(schema)` draws valid household records (`gspolicy.Record`): every kind of field,
  every enum code, values at the bounds of every range, optional fields missing, lists from empty
  up to `max_items`; `overrides` replaces the strategy of any part by its field path
  (``"income.per_capita"``, ``"members"``, ``"members.health"``; a strategy drawing None leaves
  the field missing).
* `boundary_households(policies, as_of=…)` draws households whose values sit at, just below and
  just above every threshold and parameter bound of the packs in force (`thresholds` lists them).
* `expressions(schema_or_env, type=…)` draws well-typed expressions (syntax trees) of the language,
  reaching every construct; `packs(schema)` draws small checked packs built from them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy._location import Source, Span
from gspolicy.engine.run import parameter_values
from gspolicy.errors import suggest
from gspolicy.lang import BOOL, DATE, NUMBER, STRING, Context, EnumT, Env, Interval, SetT, Type, evaluate
from gspolicy.lang.ast import (
    MISSING_DAY_RULES,
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    DateLit,
    Expr,
    IfExp,
    ListLit,
    Literal,
    Name,
    Unary,
)
from gspolicy.lang.printer import print_expr
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TCall,
    TCompare,
    TFact,
    TField,
    TPresent,
    TSet,
    TypedExpr,
    typed_children,
)
from gspolicy.lang.types import field_type
from gspolicy.pack.format import FORMS
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.model import (
    AGE_RECORDED_ON,
    BIRTH_DATE,
    RECORDED_AGE,
    FieldSpec,
    Record,
    RecordSpec,
    Schema,
)

__all__ = [
    "Threshold",
    "boundary_households",
    "expressions",
    "from_schema",
    "packs",
    "thresholds",
]

T = TypeVar("T")


class HasPolicySet(Protocol):
    @property
    def policy_set(self) -> PolicySet: ...


class _Named(SearchStrategy[T]):
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


def _schema_repr(schema: Schema) -> str:
    return f"<schema {schema.id}@{schema.version}>"


def policy_set_from(policies: PolicySet | HasPolicySet, name: str = "policies") -> PolicySet:
    if isinstance(policies, PolicySet):
        return policies
    found = getattr(policies, "policy_set", None)
    if isinstance(found, PolicySet):
        return found
    raise InvalidArgument(f"{name}={policies!r} must be a PolicySet or gspolicy.Policies")


def _check_schema(schema: object) -> Schema:
    if not isinstance(schema, Schema):
        raise InvalidArgument(f"schema={schema!r} must be a gspolicy Schema (e.g. `policies.schema`)")
    return schema


def _check_int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name}={value!r} must be an integer from {low} to {high}")
    return value


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _check_date(value: object, name: str) -> dt.date:
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
    return _repair(spec, values, frozenset())


def _repair(spec: RecordSpec, values: dict[str, Any], touched: frozenset[str]) -> Record:
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
    birth = spec.fields.get(BIRTH_DATE)
    age, on = values.get(RECORDED_AGE), values.get(AGE_RECORDED_ON)
    if birth is None or not isinstance(birth.min, dt.date) or not isinstance(age, int):
        return
    if not isinstance(on, dt.date):
        return
    earliest = birth.min
    late = (on.month, on.day) < (earliest.month, earliest.day)  # before the anniversary in its year
    if (on.year - age, on.month, on.day) >= (earliest.year, earliest.month, earliest.day):
        return
    highest = on.year - earliest.year - (1 if late else 0)
    if RECORDED_AGE not in touched and highest >= 0:
        values[RECORDED_AGE] = highest
        return
    year = earliest.year + age + (1 if late else 0)
    try:
        values[AGE_RECORDED_ON] = on.replace(year=year)
    except ValueError:  # 29 February
        values[AGE_RECORDED_ON] = on.replace(year=year, day=28)


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
    schema = _check_schema(schema)
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
    _check_bool(missing, "missing")
    _check_int(max_items, "max_items", 0, 50)
    inner = HouseholdStrategies(schema, checked, missing, max_items).record(schema.records[name])
    options = [f"record={record!r}"] if record is not None else []
    if checked:
        options.append(f"overrides={checked!r}")
    if not missing:
        options.append("missing=False")
    if max_items != 3:
        options.append(f"max_items={max_items}")
    return _Named(inner, f"from_schema({', '.join([_schema_repr(schema), *options])})")


# -- thresholds and boundary households -------------------------------------------------------------


@attrs.frozen
class Threshold:
    """A value of a pack in force at which a condition can change: a field compared with a bound.

    `path` is a field path (``income.per_capita``; ``members.age`` for the age of a member);
    `bounds` the values compared with (a range parameter gives both of its bounds); `solve` is
    set when the field is compared through arithmetic or a fact (``stable_income > line``): the
    field is then solved for so that the compared expression lands on the bound.
    """

    pack: str
    path: str
    bounds: tuple[object, ...]
    condition: str
    solve: TypedExpr | None = attrs.field(default=None, eq=False, repr=False)
    context: Context | None = attrs.field(default=None, eq=False, repr=False)


def _reads(node: TypedExpr, facts: Mapping[str, TypedExpr], seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(node, TField | TAge | TPresent):
        return True
    if isinstance(node, TFact):
        expr = facts.get(node.name)
        return expr is not None and node.name not in seen and _reads(expr, facts, seen | {node.name})
    return any(_reads(c, facts, seen) for c in typed_children(node))


def _numeric_fields(node: TypedExpr, facts: Mapping[str, TypedExpr]) -> Iterator[TField]:
    if isinstance(node, TField) and node.scope == 0 and node.type == NUMBER:
        yield node
    elif isinstance(node, TFact) and node.name in facts:
        yield from _numeric_fields(facts[node.name], facts)
    elif not isinstance(node, TAggregate):
        for child in typed_children(node):
            yield from _numeric_fields(child, facts)


def _list_path(node: TypedExpr) -> str | None:
    if isinstance(node, TField) and node.scope == 0:
        return ".".join(node.path)
    if isinstance(node, TCall) and node.func == "held_on":
        return _list_path(node.args[0])
    return None


class _Collector:
    def __init__(self, pack: CheckedPack, as_of: dt.date) -> None:
        self.pack = pack
        self.as_of = as_of
        self.ctx = Context(Record(pack.subject, {}), as_of, parameter_values(pack, as_of), pack.facts)
        self.found: dict[tuple[str, str], Threshold] = {}

    def bound(self, node: TypedExpr) -> tuple[object, ...]:
        value = evaluate(node, self.ctx)
        if isinstance(value, Interval):
            return tuple(v for v in (value.low, value.high) if Decimal(v).is_finite())
        if isinstance(value, frozenset):
            return tuple(sorted(value, key=str))
        if isinstance(value, bool | int | Decimal | dt.date | str):
            return (value,)
        return ()

    def add(
        self, path: str, bounds: tuple[object, ...], node: TypedExpr, solve: TypedExpr | None = None
    ) -> None:
        if not bounds:
            return
        key = (path, str(bounds) + ("~" if solve is not None else ""))
        if key not in self.found:
            text = node.span.text.replace("\n", " ")
            self.found[key] = Threshold(self.pack.key, path, bounds, text, solve, self.ctx if solve else None)

    def subject(
        self, node: TypedExpr, scopes: Sequence[str | None], bounds: tuple[object, ...], at: TypedExpr
    ) -> None:
        if isinstance(node, TField):
            base = scopes[node.scope] if node.scope else ""
            if node.scope and base is None:
                return
            self.add(".".join(filter(None, (base, *node.path))), bounds, at)
        elif isinstance(node, TAge):
            base = scopes[node.scope]
            if base is not None:
                self.add(f"{base}.age", bounds, at)
        elif isinstance(node, TCall) and node.func == "year" and isinstance(node.args[0], TField):
            years = tuple(b for b in bounds if isinstance(b, int | Decimal) and not isinstance(b, bool))
            days = tuple(
                dt.date(int(y) + k, m, d)
                for y in years
                for k in (-1, 0, 1)
                for m, d in ((1, 1), (12, 31))
                if 1 < int(y) + k < 9999
            )
            self.subject(node.args[0], scopes, days, at)
        elif node.type == NUMBER and not any(s for s in scopes[1:]):
            for field in _numeric_fields(node, self.pack.facts):
                self.add(".".join(field.path), bounds, at, solve=node)
                break

    def walk(self, node: TypedExpr, scopes: tuple[str | None, ...] = ("",)) -> None:
        facts = self.pack.facts
        if isinstance(node, TCompare):
            for left, op, right in zip(node.operands, node.ops, node.operands[1:], strict=False):
                open_left, open_right = _reads(left, facts), _reads(right, facts)
                if open_left == open_right:
                    if op in ("in", "not in") and isinstance(right, TSet) and open_left:
                        self.subject(left, scopes, tuple(self.bound(right)), node)
                    continue
                subject, bound = (left, right) if open_left else (right, left)
                if op in ("in", "not in") and isinstance(left.type, EnumT) and open_left:
                    codes = self.pack.schema.enums[left.type.name].codes
                    self.subject(left, scopes, codes, node)
                else:
                    self.subject(subject, scopes, self.bound(bound), node)
        elif isinstance(node, TPresent):
            self.subject(node.field, scopes, (None,), node)
        elif isinstance(node, TField) and node.type == BOOL:
            self.subject(node, scopes, (True, False), node)
        elif isinstance(node, TCall) and node.func == "within" and _reads(node.args[0], facts):
            bounds = tuple(b for a in node.args[1:] if not _reads(a, facts) for b in self.bound(a))
            self.subject(node.args[0], scopes, bounds, node)
        elif isinstance(node, TCall) and node.func == "held_on":
            source = _list_path(node.args[0])
            day = node.args[1]
            if source is not None and isinstance(day, TField) and day.scope == 0:
                self.add(f"{source}.start", ("@" + ".".join(day.path),), node)
                self.add(f"{source}.end", ("@" + ".".join(day.path),), node)
        if isinstance(node, TAggregate):
            self.walk(node.source, scopes)
            if node.body is not None:
                self.walk(node.body, (*scopes, _list_path(node.source)))
            return
        for child in typed_children(node):
            self.walk(child, scopes)


def _conditions(pack: CheckedPack) -> Iterator[TypedExpr]:
    yield from pack.facts.values()
    if pack.applies is not None:
        yield pack.applies
    yield from pack.givens.values()
    yield from pack.criteria.values()
    yield from pack.rules.values()
    if pack.buffer is not None:
        yield pack.buffer.retained
        yield from pack.buffer.active.values()
        yield from pack.buffer.until.values()


def _pack_thresholds(pack: CheckedPack, as_of: dt.date) -> tuple[Threshold, ...]:
    collector = _Collector(pack, as_of)
    for node in _conditions(pack):
        collector.walk(node)
    return tuple(collector.found.values())


def thresholds(
    policies: PolicySet | HasPolicySet, *, as_of: dt.date, pack: str | None = None
) -> tuple[Threshold, ...]:
    """Every threshold of the packs in force on `as_of` (or of `pack` only) that a household can reach."""
    policy_set = policy_set_from(policies)
    as_of = _check_date(as_of, "as_of")
    if pack is not None and pack not in policy_set.ids:
        raise InvalidArgument(f"pack={pack!r} is not in the policy set (packs: {', '.join(policy_set.ids)})")
    found: list[Threshold] = []
    for checked in policy_set.all_in_force(as_of):
        if checked.subject == policy_set.schema.root and (pack is None or checked.id == pack):
            found.extend(_pack_thresholds(checked, as_of))
    return tuple(found)


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


def _set(schema: Schema, spec: RecordSpec, record: Record, parts: Sequence[str], value: object) -> Record:
    """`record` with the value at `parts` set (None removes it), creating records on the way."""
    name = parts[0]
    if len(parts) == 1:
        return record.replace(**{name: value})
    field = spec.fields[name]
    inner_spec = schema.records[field.record or ""]
    inner = record.get(name)
    inner = inner if isinstance(inner, Record) else Record(inner_spec.name, {})
    changed = _set(schema, inner_spec, inner, parts[1:], value)
    return record.replace(**{name: _repair(inner_spec, dict(changed), frozenset({parts[1]}))})


def _get(record: Record, parts: Sequence[str]) -> object:
    current: object = record
    for part in parts:
        if not isinstance(current, Record):
            return None
        current = current.get(part)
    return current


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
            changed = _set(self.schema, self.schema.root_record, record, parts, x)
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
        return _set(self.schema, self.schema.root_record, record, parts, value)

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
            return _set(self.schema, self.schema.root_record, record, head, draw(st.sampled_from(values)))
        spec, items = self.item_strategy(head)
        current = _get(record, head)
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
        if (name == "age" and "age" not in spec.fields) or (name == "age" and "birth_date" in spec.fields):
            ages = [int(b) for b in t.bounds if isinstance(b, int | Decimal) and not isinstance(b, bool)]
            if not ages:
                return record
            birth = draw(st.sampled_from([d for a in ages for d in _birth_dates(self.as_of, a)]))
            target = _repair(
                spec,
                {**target.replace(age=None, age_recorded_on=None), "birth_date": birth},
                frozenset({"birth_date"}),
            )
        else:
            if name not in spec.fields:
                return record
            field = spec.fields[name]
            choices: list[object] = []
            for b in t.bounds:
                if isinstance(b, str) and b.startswith("@"):
                    anchor = _get(record, b[1:].split("."))
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
            target = _repair(spec, dict(target.replace(**{name: value})), frozenset({name}))
        members[index] = target
        return _set(self.schema, self.schema.root_record, record, head, tuple(members))


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
    as_of = _check_date(as_of, "as_of")
    if base is not None and not isinstance(base, SearchStrategy):
        raise InvalidArgument(f"base={base!r} must be a hypothesis strategy of households")
    _check_int(max_changes, "max_changes", 1, 20)
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
        return _repair(schema.root_record, dict(record), frozenset())

    options = [f"as_of={as_of!r}"]
    if base is not None:
        options.append(f"base={base!r}")
    if pack is not None:
        options.append(f"pack={pack!r}")
    if fields is not None:
        options.append(f"fields={list(fields)!r}")
    if max_changes != 3:
        options.append(f"max_changes={max_changes}")
    return _Named(
        draw_household(),
        f"boundary_households(<{len(policy_set.packs)} pack versions>, {', '.join(options)})",
    )


# -- expressions ------------------------------------------------------------------------------------

_NOWHERE = Span(Source("generated", ""), 0, 0)
_NUMBERS = st.one_of(
    st.integers(0, 5000), st.decimals(0, 10000, places=2, allow_nan=False, allow_infinity=False)
)
_TEXTS = st.sampled_from(["上川村", "Xiaohe", "", 'say "hi"', "back\\slash", "两行\n文本"])
_DATES = st.dates(dt.date(1930, 1, 1), dt.date(2035, 12, 31))


def _n(name: str) -> Name:
    return Name(name, _NOWHERE)


def _path(parts: Sequence[str]) -> Expr:
    node: Expr = _n(parts[0])
    for part in parts[1:]:
        node = Attribute(node, part, _NOWHERE, _NOWHERE)
    return node


def _call(func: str, *args: Expr) -> Call:
    return Call(func, args, _NOWHERE, _NOWHERE)


def _lit(value: bool | int | Decimal | str) -> Literal:
    return Literal(value, _NOWHERE)


def _one_of(options: Sequence[SearchStrategy[Expr]]) -> SearchStrategy[Expr]:
    return st.one_of(list(options)) if options else st.nothing()


@attrs.frozen
class _Scope:
    """Where an expression is drawn: the subject (`item` None) or the predicate of an aggregate."""

    item: str | None = None  # the record type of the aggregate's items


class _Expressions:
    def __init__(self, env: Env, max_depth: int) -> None:
        self.env = env
        self.schema = env.schema
        self.max_depth = max_depth
        self.cache: dict[tuple[Type, int, _Scope], SearchStrategy[Expr]] = {}
        # subject field paths by type (through nested records), and the lists with their record
        self.fields: dict[Type, list[tuple[str, ...]]] = {}
        self.lists: list[tuple[tuple[str, ...], str]] = []
        self.optional: list[tuple[str, ...]] = []
        self._walk(self.schema.records[env.root], ())

    def _walk(self, spec: RecordSpec, prefix: tuple[str, ...]) -> None:
        for name, field in spec.fields.items():
            path = (*prefix, name)
            if field.kind == "record":
                self._walk(self.schema.records[field.record or ""], path)
            elif field.kind == "list":
                self.lists.append((path, field.record or ""))
            else:
                self.fields.setdefault(field_type(field), []).append(path)
            self.optional.append(path)

    def subject_ref(self, path: tuple[str, ...], scope: _Scope) -> Expr:
        shadowed = path[0] in self.env.parameters or path[0] in self.env.facts
        if scope.item is not None or shadowed:
            return _path((self.env.root, *path))
        return _path(path)

    def item_fields(self, scope: _Scope, t: Type) -> list[Expr]:
        if scope.item is None:
            return []
        spec = self.schema.records[scope.item]
        out: list[Expr] = [
            _n(name)
            for name, f in spec.fields.items()
            if f.kind not in ("record", "list") and field_type(f) == t
        ]
        birth = spec.fields.get("birth_date")
        if t == NUMBER and birth is not None and birth.kind == "date" and "age" not in spec.fields:
            out.append(_n("age"))
        if t == NUMBER and "age" in spec.fields and birth is not None:
            out.append(_n("age"))
        return out

    def names(self, t: Type, scope: _Scope) -> list[Expr]:
        out = [self.subject_ref(p, scope) for p in self.fields.get(t, [])]
        out += self.item_fields(scope, t)
        out += [_n(p) for p, pt in self.env.parameters.items() if pt == t]
        out += [_n(f) for f, ft in self.env.facts.items() if ft == t]
        return out

    def leaves(self, t: Type, scope: _Scope) -> SearchStrategy[Expr]:
        names = self.names(t, scope)
        options: list[SearchStrategy[Expr]] = [st.sampled_from(names)] if names else []
        if t == BOOL:
            options.append(st.booleans().map(_lit))
            paths = [self.subject_ref(p, scope) for p in self.optional]
            if scope.item is not None:
                spec = self.schema.records[scope.item]
                # `age` inside a member predicate is the derived age, not the field: not a path
                paths += [_n(n) for n, f in spec.fields.items() if not f.required and n != "age"]
            options.append(st.sampled_from(paths).map(lambda p: _call("present", p)))
        elif t == NUMBER:
            options.append(_NUMBERS.map(_lit))
            if self.lists:
                options.append(
                    st.sampled_from([self.subject_ref(p, scope) for p, _ in self.lists]).map(
                        lambda s: _call("count", s)
                    )
                )
        elif t == DATE:
            options.append(_DATES.map(lambda d: DateLit(d, _NOWHERE)))
            options.append(st.just(_n("as_of")))
        elif t == STRING:
            options.append(_TEXTS.map(_lit))
        return _one_of(options)

    def draw(self, t: Type, depth: int, scope: _Scope) -> SearchStrategy[Expr]:
        key = (t, depth, scope)
        if key not in self.cache:
            leaves = self.leaves(t, scope)
            self.cache[key] = (
                leaves if depth <= 0 else st.one_of(leaves, self.composites(t, depth - 1, scope))
            )
        return self.cache[key]

    def sources(self, scope: _Scope) -> list[tuple[SearchStrategy[Expr], str]]:
        """List-valued expressions to aggregate over, with their item record type."""
        out: list[tuple[SearchStrategy[Expr], str]] = []
        for path, record in self.lists:
            ref = self.subject_ref(path, scope)
            out.append((st.just(ref), record))
            spec = self.schema.records[record]
            dated = all(n in spec.fields and spec.fields[n].kind == "date" for n in ("start", "end"))
            if dated:
                out.append((self.draw(DATE, 0, scope).map(lambda d, r=ref: _call("held_on", r, d)), record))  # type: ignore[misc]
        return out

    def enum_labels(self, name: str) -> SearchStrategy[str]:
        enum = self.schema.enums[name]
        labels = sorted({label for v in enum.values for label in (v.code, v.title.zh, v.title.en)})
        return st.sampled_from(labels)

    def composites(self, t: Type, depth: int, scope: _Scope) -> SearchStrategy[Expr]:
        def sub(k: Type, s: _Scope = scope) -> SearchStrategy[Expr]:
            return self.draw(k, depth, s)

        if_exp = st.builds(lambda c, a, b: IfExp(c, a, b, _NOWHERE), sub(BOOL), sub(t), sub(t))
        options: list[SearchStrategy[Expr]] = []
        sources = [] if scope.item is not None else self.sources(scope)
        if t == BOOL:
            options += [
                sub(BOOL).map(lambda e: Unary("not", e, _NOWHERE)),
                st.builds(
                    lambda op, xs: BoolOp(op, tuple(xs), _NOWHERE),
                    st.sampled_from(["and", "or"]),
                    st.lists(sub(BOOL), min_size=2, max_size=3),
                ),
                st.builds(
                    lambda xs, ops: Compare(tuple(xs[: len(ops) + 1]), tuple(ops), _NOWHERE),
                    st.lists(sub(NUMBER), min_size=3, max_size=3),
                    st.lists(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), min_size=1, max_size=2),
                ),
                st.builds(
                    lambda op, a, b: Compare((a, b), (op,), _NOWHERE),
                    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
                    sub(DATE),
                    sub(DATE),
                ),
                st.builds(
                    lambda op, a, b: Compare((a, b), (op,), _NOWHERE),
                    st.sampled_from(["==", "!="]),
                    sub(STRING),
                    sub(STRING),
                ),
                st.builds(lambda a, b, c: _call("within", a, b, c), sub(DATE), sub(DATE), sub(DATE)),
                if_exp,
            ]
            for enum in sorted(self.schema.enums):
                refs = self.names(EnumT(enum), scope)
                if not refs:
                    continue
                ref = st.sampled_from(refs)
                options.append(
                    st.builds(
                        lambda op, r, labels: Compare(
                            (r, ListLit(tuple(_lit(x) for x in labels), _NOWHERE)), (op,), _NOWHERE
                        ),
                        st.sampled_from(["in", "not in"]),
                        ref,
                        st.lists(self.enum_labels(enum), min_size=1, max_size=3),
                    )
                )
                options.append(
                    st.builds(
                        lambda op, r, label: Compare((r, _lit(label)), (op,), _NOWHERE),
                        st.sampled_from(["==", "!="]),
                        ref,
                        self.enum_labels(enum),
                    )
                )
                pools = self.names(SetT(EnumT(enum)), scope)
                if pools:
                    options.append(
                        st.builds(
                            lambda op, r, p: Compare((r, p), (op,), _NOWHERE),
                            st.sampled_from(["in", "not in"]),
                            ref,
                            st.sampled_from(pools),
                        )
                    )
            for source, record in sources:
                inner = _Scope(record)
                options.append(
                    st.builds(
                        _call,
                        st.sampled_from(["any", "all"]),
                        source,
                        sub(BOOL, inner),
                    )
                )
                numbers = self.item_fields(inner, NUMBER)
                if numbers:  # an item's own number against a bound: ages and amounts, the usual shape
                    options.append(
                        st.builds(
                            lambda f, s, x, op, n: _call(f, s, Compare((x, _lit(n)), (op,), _NOWHERE)),
                            st.sampled_from(["any", "all"]),
                            source,
                            st.sampled_from(numbers),
                            st.sampled_from(["<", "<=", ">", ">="]),
                            st.integers(0, 100),
                        )
                    )
        elif t == NUMBER:
            options += [
                st.builds(
                    lambda op, a, b: BinOp(op, a, b, _NOWHERE),
                    st.sampled_from(["+", "-", "*", "/"]),
                    sub(NUMBER),
                    sub(NUMBER),
                ),
                sub(NUMBER).map(lambda e: Unary("-", e, _NOWHERE)),
                st.builds(lambda a, b: _call("years_between", a, b), sub(DATE), sub(DATE)),
                sub(DATE).map(lambda d: _call("year", d)),
                if_exp,
            ]
            for source, record in sources:
                inner = _Scope(record)
                options.append(st.builds(lambda s, p: _call("count", s, p), source, sub(BOOL, inner)))
                options.append(
                    st.builds(
                        _call,
                        st.sampled_from(["sum", "min", "max"]),
                        source,
                        sub(NUMBER, inner),
                    )
                )
        elif t == DATE:
            options.append(if_exp)
            if self.env.missing_day is not None:  # the pack declares its rule: dates shift
                options.append(
                    st.builds(
                        lambda f, n, d: _call(f, _lit(n), d),
                        st.sampled_from(["years_after", "months_after"]),
                        st.integers(0, 40),
                        sub(DATE),
                    )
                )
            for source, record in sources:
                inner = _Scope(record)
                if self.names(DATE, inner):
                    options.append(
                        st.builds(
                            _call,
                            st.sampled_from(["min", "max"]),
                            source,
                            sub(DATE, inner),
                        )
                    )
        else:
            options.append(if_exp)
        return _one_of(options)


def expressions(
    schema: Schema | Env,
    *,
    type: Type = BOOL,  # the natural name, as in Hypothesis's from_type
    max_depth: int = 3,
) -> SearchStrategy[Expr]:
    """Well-typed syntax trees of type `type` against a schema (or an `Env` with parameters and facts).

    Every construct of the language is reachable: literals of every type, field paths through
    nested records, parameters, facts, ``as_of``, ``age``, ``not``/``and``/``or``, chained and
    ``in`` comparisons, arithmetic, every function (``held_on`` when a list's items have ``start``
    and ``end`` dates) and conditional expressions.  `max_depth` bounds the nesting.
    """
    env = Env(schema) if isinstance(schema, Schema) else schema
    if not isinstance(env, Env):
        raise InvalidArgument(f"schema={schema!r} must be a Schema or an Env")
    allowed = [BOOL, NUMBER, DATE, STRING, *(EnumT(e) for e in sorted(env.schema.enums))]
    if type not in allowed:
        raise InvalidArgument(
            f"type={type!r} must be one of BOOL, NUMBER, DATE, STRING or EnumT(<an enum of the schema>)"
        )
    _check_int(max_depth, "max_depth", 0, 8)
    generator = _Expressions(env, max_depth)
    inner = generator.draw(type, max_depth, _Scope())
    if isinstance(type, EnumT) and not generator.names(type, _Scope()):
        raise InvalidArgument(f"type={type!r}: no field of the subject has this enum type")
    head = _schema_repr(env.schema) if isinstance(schema, Schema) else f"<env {_schema_repr(env.schema)}>"
    shown = {BOOL: "BOOL", NUMBER: "NUMBER", DATE: "DATE", STRING: "STRING"}.get(type, repr(type))
    options = [] if type == BOOL else [f"type={shown}"]
    if max_depth != 3:
        options.append(f"max_depth={max_depth}")
    return _Named(inner, f"expressions({', '.join([head, *options])})")


# -- small packs ------------------------------------------------------------------------------------


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|-\n" + "\n".join(pad + line for line in text.splitlines())


DECIDING_KINDS: tuple[str, ...] = (
    "exit",
    "exit_reference",
    "batch",
    "identification",
    "finding",
    "monitoring",
)
"""The roles (``kind:``) of packs that decide with criteria and rules (`packs` draws among them)."""


def _pack_text(
    ident: str,
    criteria: Sequence[Expr],
    rules: Sequence[Expr],
    applies: Expr | None,
    line: Decimal,
    kind: str = "exit",
    issued: dt.date | None = None,
    form: str = "grant",
    lapses: Expr | None = None,
    exclusive: bool = False,
    missing_day: str | None = None,
) -> str:
    lines = [
        "format: 1",
        f"pack: {ident}",
        'version: "1"',
        f"kind: {kind}",
        "valid_from: 2016-01-01",
        *([f"missing_day: {missing_day}"] if missing_day is not None else []),
        *(
            [
                "approval:",
                "  document: 甘政办发〔2016〕1号",
                "  issuer: {zh: 省政府办公厅, en: The provincial government's office}",
                f"  issued: {issued.isoformat()}",
                "  in_force: 2016-01-01",
            ]
            if issued is not None
            else []
        ),
        "title: {zh: 生成的政策包, en: A generated pack}",
        "department: office",
        "departments:",
        "  office: {zh: 扶贫办, en: Poverty Alleviation Office}",
        "sources:",
        "  notice: {title: {zh: 通知, en: A notice}, confidence: M}",
        "parameters:",
        "  line:",
        "    title: {zh: 标准, en: A line}",
        "    values:",
        f"      2016-01-01: {{value: {line}, source: notice}}",
        "  cutoff:",
        "    title: {zh: 截止日, en: A cut-off day}",
        "    type: date",
        "    values:",
        "      2016-01-01: {value: 2018-09-30, source: notice}",
    ]
    if applies is not None:
        lines += [
            "applies:",
            "  title: {zh: 适用, en: Applies}",
            "  when: " + _block(print_expr(applies), 4),
            "  cite: {source: notice}",
        ]
    if criteria:
        lines.append("criteria:")
        for i, expr in enumerate(criteria):
            lines += [
                f"  - id: gen.c{i}",
                f"    title: {{zh: 指标 {i}, en: Criterion {i}}}",
                "    require: " + _block(print_expr(expr), 6),
                "    cite: {source: notice}",
            ]
    if rules:
        lines += [
            "measures:",
            "  grant:",
            "    title: {zh: 补助, en: A grant}",
            "    department: office",
            f"    form: {form}",
            *(
                [
                    "    ceiling: {value: 50000, unit: yuan, source: notice}",
                    "    term: {value: 3, unit: years, source: notice}",
                ]
                if form == "loan"
                else ["    amount: {value: 500, unit: yuan, source: notice}"]
            ),
            *(["    lapses_when: " + _block(print_expr(lapses), 6)] if lapses is not None else []),
            "rules:",
        ]
        for i, expr in enumerate(rules):
            lines += [
                f"  - id: gen.r{i}",
                f"    title: {{zh: 规则 {i}, en: Rule {i}}}",
                "    when: " + _block(print_expr(expr), 6),
                "    grant: [grant]",
                "    cite: {source: notice}",
            ]
        if exclusive and len(rules) > 1:
            lines += ["exclusive:", "  - [" + ", ".join(f"gen.r{i}" for i in range(len(rules))) + "]"]
    return "\n".join(lines) + "\n"


def packs(
    schema: Schema,
    *,
    ident: str = "generated.pack",
    max_criteria: int = 3,
    max_rules: int = 2,
    max_depth: int = 2,
    kinds: Sequence[str] = DECIDING_KINDS,
) -> SearchStrategy[CheckedPack]:
    """Small checked packs: up to `max_criteria` criteria and `max_rules` rules drawn by
    `expressions` (with a number parameter ``line`` and a date parameter ``cutoff`` in scope), and
    sometimes an applicability condition, of a role drawn from `kinds` (``kind:``; by default
    every role whose packs hold criteria and rules), sometimes with the document that approved it
    (``approval:``); the measure its rules grant has a form drawn from every form (a loan with its
    ceiling and term) and sometimes a ``lapses_when``; two rules or more are sometimes declared
    ``exclusive``; sometimes it declares a ``missing_day`` rule and its expressions shift dates
    (``years_after``, ``months_after``).  The pack is written as YAML and read and
    checked like any pack, so its expressions carry real spans."""
    schema = _check_schema(schema)
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", ident):
        raise InvalidArgument(f"ident={ident!r} must be a dotted pack id such as 'generated.pack'")
    _check_int(max_criteria, "max_criteria", 0, 20)
    _check_int(max_rules, "max_rules", 0, 20)
    _check_int(max_depth, "max_depth", 0, 6)
    if max_criteria == 0 and max_rules == 0:
        raise InvalidArgument("max_criteria and max_rules are both 0: a pack needs a condition")
    if isinstance(kinds, str) or not kinds or any(k not in DECIDING_KINDS for k in kinds):
        raise InvalidArgument(
            f"kinds={kinds!r} must be a non-empty list of roles among {list(DECIDING_KINDS)}"
        )
    plain = expressions(Env(schema, parameters={"line": NUMBER, "cutoff": DATE}), max_depth=max_depth)
    shifting = {
        rule: expressions(
            Env(schema, parameters={"line": NUMBER, "cutoff": DATE}, missing_day=rule), max_depth=max_depth
        )
        for rule in MISSING_DAY_RULES
    }

    @st.composite
    def draw_pack(draw: st.DrawFn) -> CheckedPack:
        # sometimes a pack that shifts dates (`years_after`, `months_after`) under a declared rule
        missing_day = draw(st.none() | st.sampled_from(MISSING_DAY_RULES))
        conditions = plain if missing_day is None else shifting[missing_day]
        criteria = draw(st.lists(conditions, min_size=0 if max_rules else 1, max_size=max_criteria))
        rules = draw(st.lists(conditions, min_size=0 if criteria else 1, max_size=max_rules))
        applies = draw(st.none() | conditions)
        line = draw(st.integers(0, 10_000).map(Decimal))
        kind = draw(st.sampled_from(list(kinds)))
        # sometimes the document that approved it, issued before it took effect
        issued = draw(st.none() | st.dates(dt.date(2015, 1, 1), dt.date(2016, 1, 1)))
        # the measure rules grant: of any form, sometimes with a condition that ends it in the
        # buffer (one that reads what never ends a retention is drawn again without it)
        form = draw(st.sampled_from(list(FORMS)))
        lapses = draw(st.none() | conditions) if rules else None
        exclusive = len(rules) > 1 and draw(st.booleans())  # its rules declared exclusive
        text = _pack_text(
            ident, criteria, rules, applies, line, kind, issued, form, lapses, exclusive, missing_day
        )
        pack, problems = read_pack(Source(f"{ident}.yaml", text))
        errors = [d.render("en") for d in problems if d.is_error]
        assert pack is not None, (text, errors)
        assert not errors, (text, errors)
        checked, problems = check_pack(pack, schema)
        if (
            checked is None
            and lapses is not None
            and all(d.code == "pack/lapse-reads-status" for d in problems if d.is_error)
        ):
            text = _pack_text(
                ident, criteria, rules, applies, line, kind, issued, form, None, exclusive, missing_day
            )
            pack, problems = read_pack(Source(f"{ident}.yaml", text))
            assert pack is not None, (text, [d.render("en") for d in problems if d.is_error])
            checked, problems = check_pack(pack, schema)
        assert checked is not None, (text, [d.render("en") for d in problems if d.is_error])
        return checked

    options = [f"ident={ident!r}"] if ident != "generated.pack" else []
    options += [
        f"{k}={v}"
        for k, v, d in (
            ("max_criteria", max_criteria, 3),
            ("max_rules", max_rules, 2),
            ("max_depth", max_depth, 2),
        )
        if v != d
    ]
    if tuple(kinds) != DECIDING_KINDS:
        options.append(f"kinds={list(kinds)!r}")
    return _Named(draw_pack(), f"packs({', '.join([_schema_repr(schema), *options])})")
