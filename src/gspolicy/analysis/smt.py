"""The checked typed tree translated to SMT (z3): the interpreter's semantics as formulas.

`Translator(schema, …)` turns a checked expression (`gspolicy.lang.typed`) into a symbolic value
over a symbolic household: every value the interpreter can give has a state in the formula, so a
solver's answer about the formula is an answer about the interpreter.

* **Three-valued logic.** Every value carries ``known`` (false: the interpreter's `Unknown`); a
  condition is true, false or unknown, and ``and`` / ``or`` / ``not`` are Kleene's.
* **Missing fields.** Every field read has a presence boolean of its own; a nested record is
  present when any field under it is; a missing list is unknown, never empty.
* **Numbers** are exact rationals (z3 ``Real``) carried as a pair ``lo ≤ hi``: an exact number has
  ``lo = hi``, a range (a parameter known only within bounds, an age from a recorded age, a count
  over unknown items, a conditional on an unknown condition) ``lo < hi`` — the interpreter's
  `Interval`; comparisons are decided only when the bounds decide them, as there.  Division is
  exact here, where the interpreter rounds to 34 digits: every finding is confirmed by the
  interpreter before it is reported, so that difference can cost a proof, never give a wrong one.
* **Dates** are integers ``yyyymmdd``: order is the calendar's, ``years_between`` is a division by
  10,000, and every date variable is constrained to a real calendar day.
* **Texts and enum codes** are integers standing for the strings of a table; an enum field ranges
  over its codes.  A set field is one boolean per code of its enum.
* **Lists** (``members``, ``support``) hold up to `bound` items (default 8): a length variable and
  the items' fields.  A claim that no household does something holds for households whose lists
  have at most `bound` items — callers report the bound and never claim more.
* **Parameters** are the values in force on the as-of date as the engine reads them: an exact
  value a constant, a range an interval between its bounds, a value not established unknown.
* **The as-of date** is a date variable (within a range) or a constant.

What is not translated (a gathered list, a set compared for equality, a shift by a count that is
not a constant, the outcome functions ``granted`` and ``buffer``) raises `Unsupported` with the
reason; callers report the condition as not proved, never as consistent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import z3  # type: ignore[import-untyped]  # the solver ships no type information

from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TArith,
    TAsOf,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TField,
    TIf,
    TNeg,
    TNot,
    TParam,
    TPresent,
    TSet,
    TypedExpr,
)
from gspolicy.lang.types import BoolT, DateT, EnumT, NumberT, SetT, StringT, Type
from gspolicy.lang.values import Interval, Unknown, Value
from gspolicy.schema import roles
from gspolicy.schema.model import NUMERIC_KINDS, FieldSpec, Record, RecordSpec, Schema

__all__ = [
    "DEFAULT_BOUND",
    "SV",
    "UNKNOWN_BOOL",
    "Translator",
    "Unsupported",
    "Var",
    "any_true",
    "date_int",
    "int_date",
    "is_false",
    "is_true",
    "truth",
]

DEFAULT_BOUND = 8
"""How many items a list holds at most in a proof, unless told otherwise."""

_TRUE = z3.BoolVal(True)
_FALSE = z3.BoolVal(False)


class Unsupported(Exception):
    """A construct the translation does not cover: the condition is not proved (`reason` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def date_int(day: dt.date) -> int:
    """A date as the integer ``yyyymmdd``."""
    return day.year * 10000 + day.month * 100 + day.day


def int_date(value: int) -> dt.date:
    """The date of an integer ``yyyymmdd``."""
    return dt.date(value // 10000, value // 100 % 100, value % 100)


# --- dates as integers ------------------------------------------------------------------------


Ymd = tuple[Any, Any, Any]
"""A date as its year, month and day (z3 integer terms); its ``yyyymmdd`` is `_int_of`."""


def _int_of(day: Ymd) -> Any:
    y, m, d = day
    return y * 10000 + m * 100 + d


def _ymd_const(day: dt.date) -> Ymd:
    return (z3.IntVal(day.year), z3.IntVal(day.month), z3.IntVal(day.day))


def _leap(y: Any) -> Any:
    return z3.Or(z3.And(y % 4 == 0, y % 100 != 0), y % 400 == 0)


def _days_in(y: Any, m: Any) -> Any:
    thirty = z3.Or(m == 4, m == 6, m == 9, m == 11)
    return z3.If(m == 2, z3.If(_leap(y), 29, 28), z3.If(thirty, 30, 31))


def _date_vars(name: str) -> tuple[Ymd, Any]:
    """Three variables for a date, and that they make a calendar day of the years 1 to 9999."""
    y, m, d = z3.Int(f"{name}.y"), z3.Int(f"{name}.m"), z3.Int(f"{name}.d")
    valid = z3.And(y >= 1, y <= 9999, m >= 1, m <= 12, d >= 1, d <= _days_in(y, m))
    return (y, m, d), valid


def _years_between(a: Ymd, b: Ymd) -> Any:
    # whole years from a to b (negative when b is earlier): a year is complete on the same day
    ay, am, ad = a
    by, bm, bd = b
    b_reached = z3.Or(bm > am, z3.And(bm == am, bd >= ad))  # b's day of the year is not before a's
    a_reached = z3.Or(am > bm, z3.And(am == bm, ad >= bd))
    forward = z3.If(b_reached, by - ay, by - ay - 1)
    backward = -z3.If(a_reached, ay - by, ay - by - 1)
    return z3.If(_int_of(b) >= _int_of(a), forward, backward)


def _next_day(day: Ymd) -> Ymd:
    y, m, d = day
    last = d >= _days_in(y, m)
    return (
        z3.If(z3.And(last, m == 12), y + 1, y),
        z3.If(last, z3.If(m == 12, 1, m + 1), m),
        z3.If(last, 1, d + 1),
    )


def _shift_years(day: Ymd, k: Any) -> Ymd:
    y, m, d = day
    ny = y + k
    return (ny, m, z3.If(z3.And(m == 2, d == 29, z3.Not(_leap(ny))), 28, d))


def _shift_months(day: Ymd, months: int, missing_day: str) -> tuple[Ymd, Any]:
    y, m, d = day
    ny: Any = y
    nm: Any = m
    for month in range(12, 0, -1):  # the month's own shift, a constant for each month
        years, new_month = divmod(month - 1 + months, 12)
        ny = z3.If(m == month, y + years, ny) if month != 12 else y + years
        nm = z3.If(m == month, new_month + 1, nm) if month != 12 else z3.IntVal(new_month + 1)
    last = _days_in(ny, nm)
    fits = d <= last
    if missing_day == "first_day_of_next_month":
        after = _next_day((ny, nm, last))
        shifted = (z3.If(fits, ny, after[0]), z3.If(fits, nm, after[1]), z3.If(fits, d, after[2]))
    else:
        shifted = (ny, nm, z3.If(fits, d, last))
    return shifted, z3.And(shifted[0] >= 1, shifted[0] <= 9999)


# --- symbolic values ----------------------------------------------------------------------------


@attrs.frozen
class SV:
    """A symbolic value: `known` (false for the interpreter's `Unknown`) and, by `kind`:
    ``bool`` `val` (a Bool), ``num`` `lo` and `hi` (Reals; equal for an exact number), ``date``
    and ``str`` `val` (an Int: ``yyyymmdd``, or the text's number in the table), ``set``
    `members` (text number → Bool), ``list`` `items` ((in the list, item scope) pairs)."""

    kind: str
    known: Any
    val: Any = None
    lo: Any = None
    hi: Any = None
    members: tuple[tuple[int, Any], ...] = ()
    items: tuple[tuple[Any, tuple[object, ...]], ...] = ()
    ymd: Ymd | None = None


def _date(known: Any, day: Ymd) -> SV:
    return SV("date", known, _int_of(day), ymd=day)


def _bool(known: Any, val: Any) -> SV:
    return SV("bool", known, val)


def _num(known: Any, lo: Any, hi: Any | None = None) -> SV:
    return SV("num", known, lo=lo, hi=lo if hi is None else hi)


UNKNOWN_BOOL = _bool(_FALSE, _FALSE)


def is_true(v: SV) -> z3.BoolRef:
    """The condition is true."""
    return z3.And(v.known, v.val)


def is_false(v: SV) -> z3.BoolRef:
    """The condition is false."""
    return z3.And(v.known, z3.Not(v.val))


def _k_and(values: Sequence[SV]) -> SV:
    anyfalse = z3.Or(*[is_false(v) for v in values]) if values else _FALSE
    alltrue = z3.And(*[is_true(v) for v in values]) if values else _TRUE
    known = z3.Or(anyfalse, alltrue)
    return _bool(known, z3.Not(anyfalse))


def _k_or(values: Sequence[SV]) -> SV:
    anytrue = z3.Or(*[is_true(v) for v in values]) if values else _FALSE
    allfalse = z3.And(*[is_false(v) for v in values]) if values else _TRUE
    return _bool(z3.Or(anytrue, allfalse), anytrue)


def _k_not(v: SV) -> SV:
    return _bool(v.known, z3.Not(v.val))


def truth(known: Any, val: Any) -> SV:
    """A condition's symbolic value: known (true or false) when `known`, then `val`."""
    return _bool(known, val)


def any_true(values: Sequence[SV]) -> SV:
    """Kleene's ``or`` of conditions."""
    return _k_or(values)


def _min(values: Sequence[Any]) -> Any:
    out = values[0]
    for v in values[1:]:
        out = z3.If(v < out, v, out)
    return out


def _max(values: Sequence[Any]) -> Any:
    out = values[0]
    for v in values[1:]:
        out = z3.If(v > out, v, out)
    return out


def _real(value: int | Decimal | Fraction) -> z3.ArithRef:
    f = Fraction(value)
    return (
        z3.RealVal(f.numerator) / z3.RealVal(f.denominator) if f.denominator != 1 else z3.RealVal(f.numerator)
    )


@attrs.frozen
class Var:
    """One field of one record of the symbolic household: its presence and its value."""

    scope: tuple[object, ...]  # the record: () the subject, (list path, index, …) an item
    path: tuple[str, ...]
    spec: FieldSpec
    present: Any
    value: Any = None  # Bool, Real, Int; a set: code number → Bool; a list: its length (Int)
    members: tuple[tuple[int, Any], ...] = ()
    ymd: Ymd | None = None


class Translator:
    """Translates the checked expressions of one subject record type into z3 terms.

    `parameters` are the values in force (as `gspolicy.engine.run.parameter_values` gives
    them); `as_of` a constant date or a (low, high) range of dates for a symbolic as-of date.
    Variables are made as expressions read fields; `constraints` collects what the schema says of
    them.  Build a household from a model with `household`; pin the variables to a concrete
    household with `pin` (the differential property).
    """

    def __init__(
        self,
        schema: Schema,
        *,
        facts: Mapping[str, TypedExpr] | None = None,
        parameters: Mapping[str, Value] | None = None,
        as_of: dt.date | tuple[dt.date, dt.date],
        bound: int = DEFAULT_BOUND,
        subject: str | None = None,
        outcome: Callable[[str, str], SV] | None = None,
        prefix: str = "",
        free_parameters: bool = False,
    ) -> None:
        self.schema = schema
        self.facts = dict(facts or {})
        self.parameters = dict(parameters or {})
        self.bound = bound
        self.subject = subject or schema.root
        self.outcome = outcome
        self.prefix = prefix
        self.free_parameters = free_parameters
        self.free: dict[str, tuple[str, Any]] = {}  # a free parameter's name → (kind, variable)
        self.constraints: list[Any] = []
        self.vars: dict[tuple[tuple[object, ...], tuple[str, ...]], Var] = {}
        self.records: dict[tuple[tuple[object, ...], tuple[str, ...]], Any] = {}  # nested record presence
        self.texts: dict[str, int] = {}
        self.fact_memo: dict[str, SV] = {}
        if isinstance(as_of, dt.date):
            self.as_of_ymd: Ymd = _ymd_const(as_of)
            self.as_of: Any = z3.IntVal(date_int(as_of))
        else:
            self.as_of_ymd, valid = _date_vars(f"{prefix}as_of")
            self.as_of = _int_of(self.as_of_ymd)
            low, high = as_of
            self.constraints += [self.as_of >= date_int(low), self.as_of <= date_int(high), valid]

    def sibling(self, facts: Mapping[str, TypedExpr], parameters: Mapping[str, Value]) -> Translator:
        """A translator over the same household, as-of date and texts, for another pack (its own
        facts and parameters): what an invariant reads of several packs at once."""
        other = Translator.__new__(Translator)
        other.__dict__.update(self.__dict__)
        other.facts = dict(facts)
        other.parameters = dict(parameters)
        other.fact_memo = {}
        return other

    # --- texts -------------------------------------------------------------------------------
    def text(self, value: str) -> int:
        """The number standing for a text or code."""
        found = self.texts.get(value)
        if found is None:
            found = self.texts[value] = len(self.texts)
        return found

    def text_of(self, number: int) -> str | None:
        for k, v in self.texts.items():
            if v == number:
                return k
        return None

    # --- records and fields ------------------------------------------------------------------
    def spec_at(self, record: str, path: Sequence[str]) -> FieldSpec:
        spec = self.schema.records[record]
        field: FieldSpec | None = None
        for i, part in enumerate(path):
            field = spec.fields[part]
            if i < len(path) - 1:
                if field.kind != "record" or field.record is None:
                    raise Unsupported(f"path {'.'.join(path)} goes through a {field.kind}")
                spec = self.schema.records[field.record]
        assert field is not None
        return field

    def record_present(self, scope: tuple[object, ...], path: tuple[str, ...], holder: Any) -> Any:
        """The presence of the nested record at `path` (() is the record of the scope itself)."""
        if not path:
            return holder
        key = (scope, path)
        found = self.records.get(key)
        if found is None:
            found = self.records[key] = z3.Bool(f"{self.prefix}rec:{_name(scope, path)}")
            parent = self.record_present(scope, path[:-1], holder)
            self.constraints.append(z3.Implies(found, parent))
        return found

    def var(self, scope: tuple[object, ...], record: str, path: tuple[str, ...], holder: Any) -> Var:
        key = (scope, path)
        found = self.vars.get(key)
        if found is not None:
            return found
        spec = self.spec_at(record, path)
        name = _name(scope, path)
        present = z3.Bool(f"{self.prefix}has:{name}")
        self.constraints.append(z3.Implies(present, self.record_present(scope, path[:-1], holder)))
        kind = spec.kind
        value: Any = None
        ymd: Ymd | None = None
        members: tuple[tuple[int, Any], ...] = ()
        p = self.prefix
        if kind == "bool":
            value = z3.Bool(f"{p}{name}")
        elif kind in NUMERIC_KINDS:
            value = z3.Real(f"{p}{name}")
            if kind == "int":
                self.constraints.append(z3.IsInt(value))
            elif kind == "money":
                self.constraints.append(z3.IsInt(value * 100))
            if isinstance(spec.min, Decimal):
                self.constraints.append(value >= _real(spec.min))
            if isinstance(spec.max, Decimal):
                self.constraints.append(value <= _real(spec.max))
        elif kind == "date":
            day, valid = _date_vars(f"{p}{name}")
            value = _int_of(day)
            ymd = day
            self.constraints.append(valid)
            if isinstance(spec.min, dt.date):
                self.constraints.append(value >= date_int(spec.min))
            if isinstance(spec.max, dt.date):
                self.constraints.append(value <= date_int(spec.max))
        elif kind == "enum":
            value = z3.Int(f"{p}{name}")
            codes = self.schema.enums[spec.enum or ""].codes
            self.constraints.append(z3.Or(*[value == self.text(c) for c in codes]))
        elif kind == "string":
            value = z3.Int(f"{p}{name}")
        elif kind == "set":
            codes = self.schema.enums[spec.enum or ""].codes
            members = tuple((self.text(c), z3.Bool(f"{p}{name}∋{c}")) for c in codes)
        elif kind == "list":
            if spec.gather is not None:
                raise Unsupported(f"the list {'.'.join(path)} is gathered by the evaluator")
            value = z3.Int(f"{p}len:{name}")
            self.constraints += [value >= 0, value <= self.bound]
        else:
            raise Unsupported(f"a whole record ({'.'.join(path)}) as a value")
        if spec.required and not path[:-1]:
            self.constraints.append(present)  # a required field of the record itself
        found = self.vars[key] = Var(scope, path, spec, present, value, members, ymd)
        return found

    def scope_record(self, scope: tuple[object, ...]) -> tuple[str, Any]:
        """The record type of a scope and its presence (an item is there when its index is below
        the list's length)."""
        if not scope:
            return self.subject, _TRUE
        *outer, list_path, index = scope
        outer_scope = tuple(outer)
        record, holder = self.scope_record(outer_scope)
        assert isinstance(list_path, tuple)
        assert isinstance(index, int)
        lst = self.var(outer_scope, record, list_path, holder)
        spec = lst.spec
        assert spec.record is not None
        return spec.record, z3.And(lst.present, index < lst.value)

    def constrain(self) -> None:
        """Add the schema's constraints across fields of each record made so far: `requires`
        (a companion is there too) and `not_before` (a date not before another)."""
        for (scope, path), v in list(self.vars.items()):
            spec = v.spec
            for companion in spec.requires:
                other = self.vars.get((scope, (*path[:-1], companion)))
                if other is not None:
                    self.constraints.append(z3.Implies(v.present, other.present))
            for earlier in spec.not_before:
                other = self.vars.get((scope, (*path[:-1], earlier)))
                if other is not None:
                    both = z3.And(v.present, other.present)
                    self.constraints.append(z3.Implies(both, v.value >= other.value))
            if spec.required and path[:-1]:
                holder = self.records.get((scope, path[:-1]))
                if holder is not None:
                    self.constraints.append(z3.Implies(holder, v.present))
            if scope and spec.required and not path[:-1]:
                _, there = self.scope_record(scope)
                self.constraints.append(z3.Implies(there, v.present))
        self._implied_birth()

    def _implied_birth(self) -> None:
        # an age recorded on a date implies a birth date not before the earliest the schema allows
        for (scope, path), v in list(self.vars.items()):
            if path[:-1] or v.spec.role != roles.RECORDED_AGE:
                continue
            record, _ = self.scope_record(scope)
            spec = self.schema.records[record]
            on = self.vars.get((scope, (spec.roles.get(roles.AGE_RECORDED_ON, ""),)))
            birth = spec.fields.get(spec.roles.get(roles.BIRTH_DATE, ""))
            if on is None or birth is None:
                continue
            earliest = date_int(birth.min) if isinstance(birth.min, dt.date) else 10101
            both = z3.And(v.present, on.present)
            self.constraints.append(z3.Implies(both, on.value - z3.ToInt(v.value) * 10000 >= earliest))

    # --- translation -------------------------------------------------------------------------
    def tr(self, node: TypedExpr, scopes: tuple[tuple[object, ...], ...] = ((),)) -> SV:
        """The symbolic value of `node`; `scopes[k]` is the record scope ``k`` reads."""
        if isinstance(node, TConst):
            return self.const(node.value, node.type)
        if isinstance(node, TField):
            return self.field(node, scopes)
        if isinstance(node, TPresent):
            scope = scopes[node.field.scope]
            record, holder = self.scope_record(scope)
            spec = self.spec_at(record, node.field.path)
            if spec.kind == "record":
                return _bool(_TRUE, self.record_present(scope, node.field.path, holder))
            return _bool(_TRUE, self.var(scope, record, node.field.path, holder).present)
        if isinstance(node, TNot):
            return _k_not(self.tr(node.operand, scopes))
        if isinstance(node, TBool):
            parts = [self.tr(o, scopes) for o in node.operands]
            return _k_and(parts) if node.op == "and" else _k_or(parts)
        if isinstance(node, TCompare):
            return self.compare(node, scopes)
        if isinstance(node, TParam):
            return self.parameter(node)
        if isinstance(node, TFact):
            return self.fact(node)
        if isinstance(node, TAsOf):
            return _date(_TRUE, self.as_of_ymd)
        if isinstance(node, TNeg):
            v = self.tr(node.operand, scopes)
            return _num(v.known, -v.hi, -v.lo)
        if isinstance(node, TArith):
            return self.arith(node, scopes)
        if isinstance(node, TIf):
            return self.conditional(node, scopes)
        if isinstance(node, TAggregate):
            return self.aggregate(node, scopes)
        if isinstance(node, TAge):
            return self.age(node, scopes)
        if isinstance(node, TCall):
            return self.call(node, scopes)
        # a list literal is read by `in` (see `member`), never as a value of its own
        raise Unsupported("a list literal as a value")

    def const(self, value: object, t: Type) -> SV:
        if isinstance(value, bool):
            return _bool(_TRUE, z3.BoolVal(value))
        if isinstance(value, int | Decimal):
            return _num(_TRUE, _real(value))
        if isinstance(value, dt.date):
            return _date(_TRUE, _ymd_const(value))
        if isinstance(value, str):
            return SV("str", _TRUE, z3.IntVal(self.text(value)))
        if isinstance(value, frozenset):
            return SV("set", _TRUE, members=tuple((self.text(str(v)), _TRUE) for v in value))
        raise Unsupported(f"a constant of type {type(value).__name__}")

    def field(self, node: TField, scopes: tuple[tuple[object, ...], ...]) -> SV:
        scope = scopes[node.scope]
        record, holder = self.scope_record(scope)
        v = self.var(scope, record, node.path, holder)
        kind = v.spec.kind
        if kind == "bool":
            return _bool(v.present, v.value)
        if kind in NUMERIC_KINDS:
            return _num(v.present, v.value)
        if kind == "date":
            assert v.ymd is not None
            return _date(v.present, v.ymd)
        if kind in ("enum", "string"):
            return SV("str", v.present, v.value)
        if kind == "set":
            return SV("set", v.present, members=v.members)
        if kind == "list":
            items = tuple((z3.And(v.present, i < v.value), (*scope, node.path, i)) for i in range(self.bound))
            return SV("list", v.present, items=items)
        raise Unsupported(f"a field of kind {kind}")

    def parameter(self, node: TParam) -> SV:
        value = self.parameters.get(node.name)
        if self.free_parameters and (value is None or isinstance(value, Unknown | Interval)):
            return self.free_parameter(node, value)
        if value is None or isinstance(value, Unknown):
            kind = _kind_of(node.type)
            if kind == "date":
                return _date(_FALSE, _ymd_const(dt.date(1, 1, 1)))
            return SV(kind, _FALSE, _FALSE if kind == "bool" else z3.IntVal(0), z3.RealVal(0), z3.RealVal(0))
        if isinstance(value, Interval):
            return _num(_TRUE, _real(value.low), _real(value.high))
        return self.const(value, node.type)

    def free_parameter(self, node: TParam, value: Value | None) -> SV:
        """A parameter not established (or known only within bounds) as a free exact value:
        within its bounds when it has them, any value of its type when it has none."""
        kind = _kind_of(node.type)
        found = self.free.get(node.name)
        name = f"{self.prefix}param:{node.name}"
        if found is None:
            if kind == "bool":
                var: Any = z3.Bool(name)
            elif kind == "num":
                var = z3.Real(name)
                if isinstance(value, Interval):
                    self.constraints += [var >= _real(value.low), var <= _real(value.high)]
            elif kind == "date":
                day, valid = _date_vars(name)
                self.constraints.append(valid)
                var = day
            else:
                raise Unsupported(f"a free parameter of kind {kind} ({node.name})")
            found = self.free[node.name] = (kind, var)
        kind, var = found
        if kind == "bool":
            return _bool(_TRUE, var)
        if kind == "num":
            return _num(_TRUE, var)
        return _date(_TRUE, var)

    def free_values(self, model: z3.ModelRef) -> dict[str, Value]:
        """The free parameters' values in `model` (what a witness was found with)."""
        out: dict[str, Value] = {}
        for name, (kind, var) in self.free.items():
            if kind == "bool":
                out[name] = z3.is_true(model.eval(var, model_completion=True))
            elif kind == "num":
                number = model.eval(var, model_completion=True)
                out[name] = _decimal(Fraction(number.numerator_as_long(), number.denominator_as_long()))
            else:
                out[name] = int_date(model.eval(_int_of(var), model_completion=True).as_long())
        return out

    def fact(self, node: TFact) -> SV:
        found = self.fact_memo.get(node.name)
        if found is None:
            expr = self.facts.get(node.name)
            if expr is None:
                raise Unsupported(f"the fact {node.name} is not defined here")
            found = self.fact_memo[node.name] = self.tr(expr, ((),))
        return found

    def arith(self, node: TArith, scopes: tuple[tuple[object, ...], ...]) -> SV:
        a, b = self.tr(node.left, scopes), self.tr(node.right, scopes)
        known = z3.And(a.known, b.known)
        if node.op == "+":
            return _num(known, a.lo + b.lo, a.hi + b.hi)
        if node.op == "-":
            return _num(known, a.lo - b.hi, a.hi - b.lo)
        if node.op == "*":
            corners = [x * y for x in _ends(a) for y in _ends(b)]
            return _num(known, _min(corners), _max(corners))
        # division: unknown when the divisor's range holds zero
        safe = z3.Or(b.lo > 0, b.hi < 0)
        div_b_lo = z3.If(safe, b.lo, z3.RealVal(1))
        div_b_hi = z3.If(safe, b.hi, z3.RealVal(1))
        corners = [x / y for x in _ends(a) for y in (div_b_lo, div_b_hi)]
        return _num(z3.And(known, safe), _min(corners), _max(corners))

    def compare(self, node: TCompare, scopes: tuple[tuple[object, ...], ...]) -> SV:
        links: list[SV] = []
        left = self.tr(node.operands[0], scopes)
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            if op in ("in", "not in"):
                found = self.member(left, right_node, scopes)
                links.append(_k_not(found) if op == "not in" else found)
                continue
            right = self.tr(right_node, scopes)
            links.append(self.compare2(op, left, right))
            left = right
        return links[0] if len(links) == 1 else _k_and(links)

    def compare2(self, op: str, a: SV, b: SV) -> SV:
        known = z3.And(a.known, b.known)
        if a.kind == "num" and b.kind == "num":
            al, ah, bl, bh = a.lo, a.hi, b.lo, b.hi
            if op == "<":
                t, f = ah < bl, al >= bh
            elif op == "<=":
                t, f = ah <= bl, al > bh
            elif op == ">":
                t, f = al > bh, ah <= bl
            elif op == ">=":
                t, f = al >= bh, ah < bl
            else:
                t, f = z3.And(al == ah, ah == bl, bl == bh), z3.Or(ah < bl, bh < al)
                if op == "!=":
                    t, f = f, t
            return _bool(z3.And(known, z3.Or(t, f)), t)
        if a.kind != b.kind or a.kind in ("set", "list"):
            if op in ("==", "!=") and a.kind != b.kind and {a.kind, b.kind} <= {"bool", "num", "str", "date"}:
                return _bool(known, z3.BoolVal(op == "!="))
            raise Unsupported(f"a comparison of {a.kind} with {b.kind}")
        x, y = a.val, b.val
        if a.kind == "bool":
            if op not in ("==", "!="):
                raise Unsupported("an ordering of true and false")
            return _bool(known, (x == y) if op == "==" else (x != y))
        if a.kind == "str" and op not in ("==", "!="):
            raise Unsupported("an ordering of texts")
        table: dict[str, Callable[[Any, Any], Any]] = {
            "<": lambda p, q: p < q,
            "<=": lambda p, q: p <= q,
            ">": lambda p, q: p > q,
            ">=": lambda p, q: p >= q,
            "==": lambda p, q: p == q,
            "!=": lambda p, q: p != q,
        }
        return _bool(known, table[op](x, y))

    def member(self, left: SV, right_node: TypedExpr, scopes: tuple[tuple[object, ...], ...]) -> SV:
        if isinstance(right_node, TSet):
            items = [self.tr(i, scopes) for i in right_node.items]
            return _k_or([self.compare2("==", left, i) for i in items])
        pool = self.tr(right_node, scopes)
        if pool.kind != "set":
            raise Unsupported(f"`in` over a {pool.kind}")
        if left.kind == "bool":
            raise Unsupported("true or false in a set")
        if left.kind != "str":
            # a number or date in a set of codes is never there (but unknown with an unknown left)
            nonempty = z3.Or(*[m for _, m in pool.members]) if pool.members else _FALSE
            return _bool(z3.And(pool.known, z3.Or(left.known, z3.Not(nonempty))), _FALSE)
        inside = z3.Or(*[z3.And(left.val == code, m) for code, m in pool.members]) if pool.members else _FALSE
        nonempty = z3.Or(*[m for _, m in pool.members]) if pool.members else _FALSE
        known = z3.And(pool.known, z3.Or(left.known, z3.Not(nonempty)))
        return _bool(known, z3.And(left.known, inside))

    def conditional(self, node: TIf, scopes: tuple[tuple[object, ...], ...]) -> SV:
        c = self.tr(node.cond, scopes)
        a, b = self.tr(node.then, scopes), self.tr(node.orelse, scopes)
        if a.kind != b.kind:
            raise Unsupported("a conditional whose branches differ in kind")
        t, f = is_true(c), is_false(c)
        if a.kind == "num":
            both = z3.And(a.known, b.known)
            lo = z3.If(t, a.lo, z3.If(f, b.lo, z3.If(a.lo < b.lo, a.lo, b.lo)))
            hi = z3.If(t, a.hi, z3.If(f, b.hi, z3.If(a.hi > b.hi, a.hi, b.hi)))
            known = z3.If(t, a.known, z3.If(f, b.known, both))
            return _num(known, lo, hi)
        if a.kind in ("bool", "str", "date"):
            same = z3.And(a.known, b.known, a.val == b.val)
            known = z3.If(t, a.known, z3.If(f, b.known, same))
            if a.kind == "date" and a.ymd is not None and b.ymd is not None:
                ymd = tuple(z3.If(f, q, p) for p, q in zip(a.ymd, b.ymd, strict=True))
                return _date(known, (ymd[0], ymd[1], ymd[2]))
            return SV(a.kind, known, z3.If(f, b.val, a.val))
        raise Unsupported(f"a conditional over {a.kind} values")

    def aggregate(self, node: TAggregate, scopes: tuple[tuple[object, ...], ...]) -> SV:
        source = self.tr(node.source, scopes)
        if source.kind != "list":
            raise Unsupported("an aggregate over something that is not a list")
        if node.body is None:
            count = sum(
                (z3.If(active, z3.RealVal(1), z3.RealVal(0)) for active, _ in source.items), z3.RealVal(0)
            )
            return _num(source.known, count)
        inner = scopes + tuple(() for _ in range(node.scope + 1 - len(scopes)))
        bodies: list[tuple[Any, SV]] = []
        for active, item in source.items:
            scoped = list(inner)
            scoped[node.scope] = item
            bodies.append((active, self.tr(node.body, tuple(scoped))))
        func = node.func
        if func in ("any", "all"):
            parts = [
                _bool(z3.Or(z3.Not(act), v.known), z3.If(act, v.val, z3.BoolVal(func == "all")))
                for act, v in bodies
            ]
            result = _k_or(parts) if func == "any" else _k_and(parts)
            return _bool(z3.And(source.known, result.known), result.val)
        if func == "count":
            sure = sum(
                (z3.If(z3.And(a, is_true(v)), z3.RealVal(1), z3.RealVal(0)) for a, v in bodies), z3.RealVal(0)
            )
            maybe = sum(
                (z3.If(z3.And(a, z3.Not(v.known)), z3.RealVal(1), z3.RealVal(0)) for a, v in bodies),
                z3.RealVal(0),
            )
            return _num(source.known, sure, sure + maybe)
        all_known = z3.And(*[z3.Or(z3.Not(a), v.known) for a, v in bodies])
        if func == "sum":
            lo = sum((z3.If(a, v.lo, z3.RealVal(0)) for a, v in bodies), z3.RealVal(0))
            hi = sum((z3.If(a, v.hi, z3.RealVal(0)) for a, v in bodies), z3.RealVal(0))
            return _num(z3.And(source.known, all_known), lo, hi)
        # min / max: unknown for an empty list
        nonempty = z3.Or(*[a for a, _ in bodies]) if bodies else _FALSE
        if bodies and bodies[0][1].kind == "date":
            return self.extreme_date(func, bodies, z3.And(source.known, all_known, nonempty))
        if bodies and bodies[0][1].kind != "num":
            raise Unsupported(f"{func} over {bodies[0][1].kind} values")
        pick = _min if func == "min" else _max
        big = z3.RealVal(10**30) if func == "min" else z3.RealVal(-(10**30))
        lo = pick([z3.If(a, v.lo, big) for a, v in bodies])
        hi = pick([z3.If(a, v.hi, big) for a, v in bodies])
        return _num(z3.And(source.known, all_known, nonempty), lo, hi)

    def extreme_date(self, func: str, bodies: Sequence[tuple[Any, SV]], known: Any) -> SV:
        best: Ymd | None = None
        have: Any = _FALSE
        for active, v in bodies:
            day = _parts(v)
            if best is None:
                best, have = day, active
                continue
            better = _int_of(day) < _int_of(best) if func == "min" else _int_of(day) > _int_of(best)
            take = z3.And(active, z3.Or(z3.Not(have), better))
            best = (z3.If(take, day[0], best[0]), z3.If(take, day[1], best[1]), z3.If(take, day[2], best[2]))
            have = z3.Or(have, active)
        assert best is not None
        return _date(known, best)

    def age(self, node: TAge, scopes: tuple[tuple[object, ...], ...]) -> SV:
        scope = scopes[node.scope]
        record, holder = self.scope_record(scope)
        birth = self.var(scope, record, (node.birth,), holder)
        assert birth.ymd is not None
        exact = _years_between(birth.ymd, self.as_of_ymd)
        if not node.recorded or not node.recorded_on:
            return _num(birth.present, z3.ToReal(exact))
        age = self.var(scope, record, (node.recorded,), holder)
        on = self.var(scope, record, (node.recorded_on,), holder)
        years = z3.ToInt(age.value)
        assert on.ymd is not None
        on_year = on.ymd[0]
        latest = _shift_years(on.ymd, -years)
        earliest = _next_day(_shift_years(on.ymd, -(years + 1)))
        low, high = _years_between(latest, self.as_of_ymd), _years_between(earliest, self.as_of_ymd)
        a_lo, a_hi = z3.If(low < high, low, high), z3.If(low < high, high, low)
        in_calendar = z3.And(on_year - years - 1 >= 1, on_year - years <= 9999)
        ranged = z3.And(age.present, on.present, in_calendar)
        known = z3.Or(birth.present, ranged)
        lo = z3.If(birth.present, exact, a_lo)
        hi = z3.If(birth.present, exact, a_hi)
        return _num(known, z3.ToReal(lo), z3.ToReal(hi))

    def call(self, node: TCall, scopes: tuple[tuple[object, ...], ...]) -> SV:
        func = node.func
        if func in ("rule", "criterion", "verdict", "granted"):
            if self.outcome is None or func == "granted":
                raise Unsupported(f"the outcome function {func}")
            name = node.args[0] if node.args else None
            label = str(name.value) if isinstance(name, TConst) else ""
            return self.outcome(func, label)
        if func == "held_on":
            return self.held_on(node, scopes)
        args = [self.tr(a, scopes) for a in node.args]
        if func == "years_between":
            a, b = args
            return _num(z3.And(a.known, b.known), z3.ToReal(_years_between(_parts(a), _parts(b))))
        if func == "year":
            (d,) = args
            return _num(d.known, z3.ToReal(_parts(d)[0]))
        if func == "within":
            d, first, last = args
            return _k_and([self.compare2("<=", first, d), self.compare2("<=", d, last)])
        if func in ("years_after", "months_after"):
            count_node, _, rule_node = node.args
            if not isinstance(count_node, TConst) or not isinstance(count_node.value, int):
                raise Unsupported(f"{func} by a count that is not a constant")
            rule = rule_node.value if isinstance(rule_node, TConst) else "last_day_of_month"
            months = count_node.value * (12 if func == "years_after" else 1)
            d = args[1]
            shifted, ok = _shift_months(_parts(d), months, str(rule))
            return _date(z3.And(d.known, ok), shifted)
        raise Unsupported(f"the function {func}")

    def held_on(self, node: TCall, scopes: tuple[tuple[object, ...], ...]) -> SV:
        source = self.tr(node.args[0], scopes)
        day = self.tr(node.args[1], scopes)
        if source.kind != "list":
            raise Unsupported("held_on over something that is not a list")
        start_name, end_name = node.fields
        items = []
        starts_known = []
        for active, item in source.items:
            record, holder = self.scope_record(item)
            start = self.var(item, record, (start_name,), holder)
            end = self.var(item, record, (end_name,), holder)
            held = z3.And(start.value <= day.val, z3.Or(z3.Not(end.present), day.val <= end.value))
            items.append((z3.And(active, start.present, held), item))
            starts_known.append(z3.Or(z3.Not(active), start.present))
        known = z3.And(source.known, day.known, *starts_known)
        return SV("list", known, items=tuple(items))

    # --- households ------------------------------------------------------------------------------
    def household(self, model: z3.ModelRef) -> dict[str, Any]:
        """The household (plain record data) the model describes: every field made, at its value."""
        return self._record_data(model, (), self.subject)

    def _record_data(self, model: z3.ModelRef, scope: tuple[object, ...], record: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for (s, path), v in self.vars.items():
            if s != scope or not z3.is_true(model.eval(v.present, model_completion=True)):
                continue
            value = self._value(model, v, scope, path)
            if value is not None:
                _put(data, path, value)
        for (s, path), present in self.records.items():
            if s == scope and z3.is_true(model.eval(present, model_completion=True)):
                _put_record(data, path)
        self._fill_required(data, self.schema.records[record], scope)
        return data

    def _value(self, model: z3.ModelRef, v: Var, scope: tuple[object, ...], path: tuple[str, ...]) -> Any:
        kind = v.spec.kind
        ev = model.eval
        if kind == "bool":
            return z3.is_true(ev(v.value, model_completion=True))
        if kind in NUMERIC_KINDS:
            number = ev(v.value, model_completion=True)
            assert isinstance(number, z3.RatNumRef)
            f = Fraction(number.numerator_as_long(), number.denominator_as_long())
            if f.denominator == 1:
                return f.numerator if kind == "int" else Decimal(f.numerator)
            return _decimal(f)
        if kind == "date":
            return int_date(ev(v.value, model_completion=True).as_long()).isoformat()  # y, m, d in range
        if kind in ("enum", "string"):
            number = ev(v.value, model_completion=True).as_long()
            text = self.text_of(number)
            return text if text is not None else _fresh_text(v.spec, number)
        if kind == "set":
            return sorted(
                t
                for code, m in v.members
                if z3.is_true(ev(m, model_completion=True)) and (t := self.text_of(code))
            )
        # a list: its items
        length = ev(v.value, model_completion=True).as_long()
        assert v.spec.record is not None
        items = [self._record_data(model, (*scope, path, i), v.spec.record) for i in range(length)]
        key = self.schema.records[v.spec.record].key
        if key:
            for i, item in enumerate(items):
                if ((*scope, path, i), (key,)) not in self.vars:
                    item[key] = f"{path[-1][:1]}{i + 1}"  # distinct keys
        return items

    def _fill_required(self, data: dict[str, Any], spec: RecordSpec, scope: tuple[object, ...]) -> None:
        for name, f in spec.fields.items():
            if f.required and name not in data:
                data[name] = _placeholder(self.schema, f, scope)
        for name in list(data):
            given = spec.fields.get(name)
            if given is None:
                continue
            f = given
            for companion in f.requires:
                if companion not in data:
                    data[companion] = _placeholder(self.schema, spec.fields[companion], scope)
            if f.kind == "record" and f.record is not None and isinstance(data[name], dict):
                self._fill_required(data[name], self.schema.records[f.record], scope)

    def pin(self, record: Record) -> list[Any]:
        """Constraints fixing every variable made to the values of `record` (a list to at most
        `bound` items; a longer one cannot be pinned: ValueError)."""
        return [c for constraints in self.pins(record).values() for c in constraints]

    def pins(self, record: Record) -> dict[tuple[tuple[object, ...], tuple[str, ...]], list[Any]]:
        """`pin`, field by field (the key of `vars`; a nested record's presence under its own
        path): what fixes each to the value `record` gives it."""
        out: dict[tuple[tuple[object, ...], tuple[str, ...]], list[Any]] = {}
        for (scope, path), v in self.vars.items():
            raw = _lookup(record, scope, path)
            if raw is _ABSENT_SCOPE:
                continue
            if raw is None:
                out[(scope, path)] = [z3.Not(v.present)]
                continue
            here = out[(scope, path)] = [v.present]
            kind = v.spec.kind
            if kind == "bool":
                here.append(v.value == z3.BoolVal(bool(raw)))
            elif kind in NUMERIC_KINDS:
                here.append(v.value == _real(raw))  # type: ignore[arg-type]
            elif kind == "date":
                assert isinstance(raw, dt.date)
                here.append(v.value == date_int(raw))
            elif kind in ("enum", "string"):
                here.append(v.value == self.text(str(raw)))
            elif kind == "set":
                assert isinstance(raw, frozenset)
                here.extend(m == z3.BoolVal(self.text_of(code) in raw) for code, m in v.members)
            elif kind == "list":
                assert isinstance(raw, tuple)
                if len(raw) > self.bound:
                    raise ValueError(
                        f"{'.'.join(path)} has {len(raw)} items, more than the bound {self.bound}"
                    )
                here.append(v.value == len(raw))
        for (scope, path), present in self.records.items():
            raw = _lookup(record, scope, path)
            if raw is not _ABSENT_SCOPE:
                out.setdefault((scope, path), []).append(present == z3.BoolVal(raw is not None))
        return out

    def value_of(self, model: z3.ModelRef, var: Var) -> Any:
        """A scalar field's value in `model`, as record data (a list's items are not built here)."""
        return self._value(model, var, var.scope, var.path)


_ABSENT_SCOPE = object()


def _lookup(record: Record, scope: tuple[object, ...], path: tuple[str, ...]) -> object:
    current: object = record
    parts = list(scope)
    while parts:
        list_path, index = parts[0], parts[1]
        parts = parts[2:]
        assert isinstance(list_path, tuple)
        assert isinstance(index, int)
        for part in list_path:
            current = current.get(part) if isinstance(current, Record) else None
        if not isinstance(current, tuple) or index >= len(current):
            return _ABSENT_SCOPE
        current = current[index]
    for part in path:
        if not isinstance(current, Record):
            return None
        current = current.get(part)
    return current


def _parts(v: SV) -> Ymd:
    if v.ymd is not None:
        return v.ymd
    raise Unsupported("a date that is not a field, a constant or the as-of date")


def _ends(v: SV) -> list[Any]:
    return [v.lo, v.hi]


def _kind_of(t: Type) -> str:
    if isinstance(t, BoolT):
        return "bool"
    if isinstance(t, NumberT):
        return "num"
    if isinstance(t, DateT):
        return "date"
    if isinstance(t, StringT | EnumT):
        return "str"
    if isinstance(t, SetT):
        return "set"
    return "list"


def _name(scope: tuple[object, ...], path: tuple[str, ...]) -> str:
    parts: list[str] = []
    items = list(scope)
    while items:
        list_path, index = items[0], items[1]
        items = items[2:]
        assert isinstance(list_path, tuple)
        parts.append(f"{'.'.join(list_path)}[{index}]")
    parts.append(".".join(path))
    return ".".join(p for p in parts if p)


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    current = data
    for part in path[:-1]:
        current = current.setdefault(part, {})
    current[path[-1]] = value


def _put_record(data: dict[str, Any], path: tuple[str, ...]) -> None:
    current = data
    for part in path:
        current = current.setdefault(part, {})


def _decimal(f: Fraction) -> Decimal:
    """An exact decimal for a fraction whose denominator has only the factors 2 and 5; else the
    nearest with 12 places (the interpreter's confirmation then decides)."""
    den = f.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        return Decimal(f.numerator) / Decimal(f.denominator)
    return (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("1e-12"))


def _fresh_text(spec: FieldSpec, number: int) -> str:
    """A text for a free text variable the table does not name (distinct per number)."""
    if spec.pattern is not None:
        digits = re.fullmatch(r"\[0-9\]\{(\d+)\}", spec.pattern)
        if digits:
            return str(number).zfill(int(digits.group(1)))[-int(digits.group(1)) :]
    return f"t{number}"


def _placeholder(schema: Schema, f: FieldSpec, scope: tuple[object, ...]) -> Any:
    """A valid value for a field no condition reads but the schema requires."""
    if f.kind == "bool":
        return False
    if f.kind in NUMERIC_KINDS:
        low = f.min if isinstance(f.min, Decimal) else Decimal(0)
        high = f.max if isinstance(f.max, Decimal) else None
        value = max(low, Decimal(0)) if high is None or high >= 0 else low
        return int(value) if f.kind == "int" else value
    if f.kind == "date":
        day = f.min if isinstance(f.min, dt.date) else dt.date(2000, 1, 1)
        return day.isoformat()
    if f.kind == "enum":
        return schema.enums[f.enum or ""].codes[0]
    if f.kind == "set":
        return []
    if f.kind == "string":
        return _fresh_text(f, len(scope) + 1)
    if f.kind == "list":
        return []
    return {}
