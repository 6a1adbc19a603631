"""The reference interpreter: evaluate a checked expression against one record, with a trace.

`evaluate(texpr, ctx)` never raises for a checked expression and a schema-valid record: missing
data gives `Unknown`, ranges give `Interval`, and a division by zero gives an `Unknown` holding an
``eval/division-by-zero`` diagnostic.  Facts are evaluated lazily, once per evaluation.  When
`Context.trace` is set, it receives a `TraceEvent` for every field, parameter and fact read,
every comparison, boolean operator, aggregate and function call; without it nothing is built.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Literal as Lit

import attrs

from gspolicy._location import Span, join_path
from gspolicy._numbers import is_number
from gspolicy.errors import Diagnostic
from gspolicy.lang.ast import OUTCOME_FUNCTIONS
from gspolicy.lang.typed import (
    AGE,
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
from gspolicy.lang.values import (
    Interval,
    Truth,
    Unknown,
    Value,
    add,
    compare,
    count_of,
    divide,
    kleene_and,
    kleene_not,
    kleene_or,
    make_interval,
    maximum,
    minimum,
    multiply,
    negate,
    subtract,
    total,
    unknown_of,
)
from gspolicy.schema.model import Record

__all__ = [
    "Context",
    "TraceEvent",
    "TraceKind",
    "age_range",
    "evaluate",
    "fact_values",
    "shift_months",
    "years_between",
]

TraceKind = Lit[
    "field", "age", "present", "parameter", "fact", "compare", "chain", "bool", "aggregate", "item", "call"
]


@attrs.frozen
class TraceEvent:
    """One step of an evaluation: what was evaluated (`kind`, `name`), to what (`value`), where.

    `name` is the concrete data path for ``field``/``age``/``present`` (``members[2].health``),
    the name for ``parameter``/``fact``, the operator for ``compare``/``bool``, the function
    for ``aggregate``/``call`` and the item's data path for ``item`` (one per item of an
    aggregate, with the value of the aggregate's second argument for it, at the aggregate's
    span); `operands` holds a comparison's left and right values.

    `node` is the typed expression the event reports on, so a reader takes a node's value from
    the events whose `node` *is* that node (never by matching source spans): a ``field``,
    ``present``, ``age``, ``parameter``, ``fact``, ``bool``, ``aggregate`` or ``call`` event
    carries the node it is the value of; ``item`` events carry their aggregate.  A comparison of
    one operator gives one ``compare`` event, its value the node's.  A chained comparison
    (``a < b <= c``) gives one ``compare`` event per link it evaluated (`span` covering the
    link, `node` the whole chain) and then one ``chain`` event with the chain's value — also
    when a false link ended it early — so no reader restates the chain's semantics.
    """

    kind: TraceKind
    name: str
    value: Value
    span: Span
    operands: tuple[Value, ...] = ()
    node: TypedExpr | None = attrs.field(default=None, eq=False, repr=False)


Trace = Callable[[TraceEvent], None]


@attrs.frozen
class Context:
    """What an evaluation reads: the subject record, the as-of date, parameters and facts.

    A parameter's value is a plain value, an `Interval` (a value known as a range) or absent
    (then it is ``Unknown({"param:<name>"})``).  `facts` maps names to checked expressions.
    """

    subject: Record
    as_of: dt.date
    parameters: Mapping[str, Value] = attrs.field(factory=dict)
    facts: Mapping[str, TypedExpr] = attrs.field(factory=dict)
    trace: Trace | None = attrs.field(default=None, eq=False)
    # facts already evaluated on this subject by earlier evaluations (with the same as-of date,
    # parameters and facts), each with the steps it traced: `fact` replays them, so the trace is
    # the one a fresh evaluation gives, without evaluating the fact again
    shared: dict[str, tuple[Value, list[TraceEvent | TFact]]] | None = attrs.field(default=None, eq=False)
    # what an invariant's outcome functions read: (function, name) → value, e.g.
    # ("rule", "housing.repair") → True; a name not there is unknown (never silently false)
    outcome: Mapping[tuple[str, str], Value] | None = attrs.field(default=None, eq=False)


def evaluate(texpr: TypedExpr, ctx: Context) -> Value:
    """Evaluate a checked expression; never raises for a checked expression on a valid record."""
    run = Interpreter(ctx)
    try:
        return run.eval(texpr)
    except RecursionError:
        problem = Diagnostic("eval/fact-cycle", texpr.span, {"name": "…"})
        return Unknown(frozenset(), frozenset({problem}))


def fact_values(ctx: Context) -> dict[str, Value]:
    """The value of every fact of `ctx`, each evaluated once (a fact another reads is not
    evaluated again), as evaluating each fact's expression on its own would give them."""
    run = Interpreter(ctx)
    out: dict[str, Value] = {}
    for name, expr in ctx.facts.items():
        try:
            out[name] = run.fact(TFact(expr.type, expr.span, name))
        except RecursionError:
            problem = Diagnostic("eval/fact-cycle", expr.span, {"name": "…"})
            out[name] = Unknown(frozenset(), frozenset({problem}))
    return out


def years_between(start: dt.date, end: dt.date) -> int:
    """Whole years from `start` to `end` (negative when `end` is earlier).

    A year is complete on the same month and day; someone born on 29 February completes a year
    on 1 March in a common year.
    """
    if end < start:
        return -years_between(end, start)
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def shift_months(day: dt.date, months: int, missing_day: str) -> dt.date | None:
    """The day `months` whole months after `day` (before, when negative). A day the month
    reached lacks (29 February in a common year, the 31st of a month of 30 days) is the last day
    of that month (``last_day_of_month``) or the first of the next (``first_day_of_next_month``).
    None beyond the calendar's range."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    last = calendar.monthrange(year, month)[1]
    if day.day <= last:
        return day.replace(year=year, month=month, day=day.day)
    if missing_day == "first_day_of_next_month":
        end = dt.date(year, month, last)
        return end + dt.timedelta(days=1) if end < dt.date.max else None
    return dt.date(year, month, last)


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        if not dt.MINYEAR <= day.year + years <= dt.MAXYEAR:
            raise
        return day.replace(year=day.year + years, day=28)  # 29 February in a common year


def age_range(recorded_age: int, recorded_on: dt.date, as_of: dt.date) -> tuple[int, int] | None:
    """The ages on `as_of` of someone `recorded_age` years old on `recorded_on`: born at the latest
    `recorded_age` years before the recording, at the earliest a year less a day before that.
    None when those birth dates fall outside the calendar (year 1 to 9999)."""
    try:
        latest = _shift_years(recorded_on, -recorded_age)
        earliest = _shift_years(recorded_on, -(recorded_age + 1)) + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None
    low, high = years_between(latest, as_of), years_between(earliest, as_of)
    return min(low, high), max(low, high)


class Interpreter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.trace = ctx.trace
        self.memo: dict[str, Value] = {}
        self.active: set[str] = set()
        # (record, its data path) of each scope: 0 is the subject, k the k-th aggregate's item
        # each scope's data path is text (`members[2]`; "" for the subject): see `join_path`
        self.scopes: list[tuple[Record, str]] = [(ctx.subject, "")]
        # the data path of each record a `held_on` filter let through (by identity), so that an
        # aggregate over the filtered list names `support[3].amount`, not a position in the filter
        self.item_paths: dict[int, str] = {}
        # while a fact is evaluated for `ctx.shared`: its steps, a nested fact as its reference
        self.recording: list[list[TraceEvent | TFact]] = []

    def emit(
        self,
        kind: TraceKind,
        name: str,
        value: Value,
        node: TypedExpr,
        operands: tuple[Value, ...] = (),
        span: Span | None = None,
    ) -> None:
        if self.trace is not None or self.recording:
            where = node.span if span is None else span
            self.step(TraceEvent(kind, name, value, where, operands, node))

    def step(self, event: TraceEvent) -> None:
        if self.trace is not None:
            self.trace(event)
        if self.recording:
            self.recording[-1].append(event)

    def eval(self, node: TypedExpr) -> Value:
        if isinstance(node, TConst):
            return node.value
        if isinstance(node, TField):
            return self.field(node)
        if isinstance(node, TCompare):
            return self.compare(node)
        if isinstance(node, TBool):
            return self.boolean(node)
        if isinstance(node, TNot):
            return kleene_not(self.truth(node.operand))
        if isinstance(node, TParam):
            return self.parameter(node)
        if isinstance(node, TFact):
            return self.fact(node)
        if isinstance(node, TArith):
            return self.arith(node)
        if isinstance(node, TNeg):
            return negate(self.eval(node.operand))
        if isinstance(node, TAggregate):
            return self.aggregate(node)
        if isinstance(node, TAge):
            return self.age(node)
        if isinstance(node, TAsOf):
            return self.ctx.as_of
        if isinstance(node, TCall):
            return self.call(node)
        if isinstance(node, TPresent):
            return self.present(node)
        if isinstance(node, TIf):
            return self.conditional(node)
        assert isinstance(node, TSet)
        items = [self.eval(i) for i in node.items]
        if any(isinstance(i, Unknown | Interval) for i in items):
            return unknown_of(*items)
        return frozenset(items)  # type: ignore[arg-type]

    def truth(self, node: TypedExpr) -> Truth:
        value = self.eval(node)
        assert isinstance(value, bool | Unknown)
        return value

    # --- reads ----------------------------------------------------------------------------------
    def walk(self, node: TField) -> tuple[object, str]:
        """The value at the field's path (None when missing) and its data path as text."""
        record, base = self.scopes[node.scope]
        current: object = record
        for part in node.path:
            if not isinstance(current, Record):
                return None, join_path(base, node.path)
            current = current.get(part)
            if current is None:
                return None, join_path(base, node.path)
        return current, join_path(base, node.path)

    def field(self, node: TField) -> Value:
        raw, path = self.walk(node)
        value: Value = Unknown(frozenset({path})) if raw is None else raw  # type: ignore[assignment]
        self.emit("field", path, value, node)
        return value

    def present(self, node: TPresent) -> Value:
        raw, path = self.walk(node.field)
        result = raw is not None
        self.emit("present", path, result, node)
        return result

    def parameter(self, node: TParam) -> Value:
        key = f"param:{node.name}"
        if node.name not in self.ctx.parameters:
            value: Value = Unknown(frozenset({key}))
        else:
            value = self.ctx.parameters[node.name]
            if isinstance(value, Interval) and not value.because:
                value = Interval(value.low, value.high, frozenset({key}))
        self.emit("parameter", node.name, value, node)
        return value

    def fact(self, node: TFact) -> Value:
        name = node.name
        if self.recording:
            self.recording[-1].append(node)  # replayed as a reference: it may be memoized then
        if name in self.memo:
            return self.memo[name]
        expr = self.ctx.facts.get(name)
        if expr is None:
            problem = Diagnostic("eval/unknown-fact", node.span, {"name": name})
            return Unknown(frozenset(), frozenset({problem}))
        if name in self.active:
            problem = Diagnostic("eval/fact-cycle", node.span, {"name": name})
            return Unknown(frozenset(), frozenset({problem}))
        shared = self.ctx.shared
        known = shared.get(name) if shared is not None else None
        if known is not None:
            value, steps = known
            self.recording.append([])  # its steps are its own, not its caller's
            try:
                for item in steps:
                    if isinstance(item, TFact):
                        self.fact(item)
                    else:
                        self.step(item)
            finally:
                self.recording.pop()
        else:
            self.active.add(name)
            saved = self.scopes
            self.scopes = saved[:1]  # a fact is about the subject, wherever it is used
            steps = []
            if shared is not None:
                self.recording.append(steps)
            try:
                value = self.eval(expr)
            finally:
                if shared is not None:
                    self.recording.pop()
                self.scopes = saved
                self.active.discard(name)
            if shared is not None:
                shared[name] = (value, steps)
        self.memo[name] = value
        if self.trace is not None:
            self.trace(TraceEvent("fact", name, value, node.span, (), node))
        return value

    def age(self, node: TAge) -> Value:
        record, base = self.scopes[node.scope]
        birth_path = join_path(base, (node.birth,))
        as_of = self.ctx.as_of
        birth = record.get(node.birth)
        value: Value
        if isinstance(birth, dt.date):
            value = years_between(birth, as_of)
        else:
            recorded_age = record.get(node.recorded or "")
            recorded_on = record.get(node.recorded_on or "")
            if is_number(recorded_age) and isinstance(recorded_on, dt.date):
                ages = age_range(int(recorded_age), recorded_on, as_of)  # type: ignore[call-overload]
                if ages is None:
                    problem = Diagnostic(
                        "eval/date-out-of-range",
                        node.span,
                        {
                            "path": join_path(base, (node.recorded or node.birth,)),
                            "age": recorded_age,
                            "on": recorded_on.isoformat(),
                        },
                    )
                    value = Unknown(frozenset({birth_path}), frozenset({problem}))
                else:
                    value = make_interval(ages[0], ages[1], frozenset({birth_path}))
            else:
                value = Unknown(frozenset({birth_path}))
        self.emit("age", join_path(base, (AGE,)), value, node)
        return value

    # --- operators ------------------------------------------------------------------------------
    def arith(self, node: TArith) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        try:
            if node.op == "+":
                return add(left, right)
            if node.op == "-":
                return subtract(left, right)
            if node.op == "*":
                return multiply(left, right)
            result = divide(left, right)
        except (decimal.Overflow, decimal.InvalidOperation, decimal.DivisionByZero):
            problem = Diagnostic("eval/overflow", node.span, {"op": node.op})
            return Unknown(unknown_of(left, right).missing, frozenset({problem}))
        if result is None:
            problem = Diagnostic("eval/division-by-zero", node.right.span)
            return Unknown(unknown_of(left).missing, frozenset({problem}))
        return result

    def boolean(self, node: TBool) -> Value:
        # Kleene: a definite false (and) or true (or) decides; unknowns never stop the scan
        decisive = node.op == "or"
        seen: list[Truth] = []
        for operand in node.operands:
            value = self.truth(operand)
            seen.append(value)
            if value is decisive:
                break
        result = kleene_and(seen) if node.op == "and" else kleene_or(seen)
        self.emit("bool", node.op, result, node)
        return result

    def compare(self, node: TCompare) -> Value:
        results: list[Truth] = []
        left = self.eval(node.operands[0])
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            if op in ("in", "not in"):
                found = self.member(left, right_node)
                result = kleene_not(found) if op == "not in" else found
                right: Value = frozenset() if isinstance(right_node, TSet) else Unknown()
                if self.trace is not None:
                    right = self.eval(right_node)
            else:
                right = self.eval(right_node)
                result = compare(op, left, right)
            results.append(result)
            if self.trace is not None:
                start = node.operands[len(results) - 1].span
                link = start.cover(right_node.span)
                self.emit("compare", op, result, node, (left, right), link)
            if result is False:
                break  # a chain is a conjunction
            left = right if op not in ("in", "not in") else left
        value = kleene_and(results)
        if self.trace is not None and len(node.ops) > 1:
            self.emit("chain", " ".join(node.ops), value, node)
        return value

    def member(self, left: Value, right_node: TypedExpr) -> Truth:
        if isinstance(right_node, TSet):
            items = [self.eval(i) for i in right_node.items]
        else:
            pool = self.eval(right_node)
            if isinstance(pool, Unknown):
                return pool
            assert isinstance(pool, frozenset)
            if not isinstance(left, Unknown | Interval):
                return left in pool and not _bool_mix(left, pool)
            items = list(pool)
        return kleene_or(compare("==", left, item) for item in items)

    def conditional(self, node: TIf) -> Value:
        cond = self.truth(node.cond)
        if cond is True:
            return self.eval(node.then)
        if cond is False:
            return self.eval(node.orelse)
        then, orelse = self.eval(node.then), self.eval(node.orelse)
        if not isinstance(then, Unknown | Interval) and compare("==", then, orelse) is True:
            return then
        numbers = [
            v for v in (then, orelse) if isinstance(v, int | Decimal | Interval) and not isinstance(v, bool)
        ]
        if len(numbers) == 2:
            # an unknown condition between two numbers: the number lies between the branches
            low = min(_low(v) for v in numbers)
            high = max(_high(v) for v in numbers)
            return make_interval(low, high, unknown_of(cond, then, orelse).missing)
        return unknown_of(cond, then, orelse)

    # --- aggregates and calls -------------------------------------------------------------------
    def list_value(self, source: TypedExpr) -> tuple[tuple[Record, ...] | Unknown, str]:
        """A list-valued expression and the data path of the list (for item paths)."""
        if isinstance(source, TField):
            raw, path = self.walk(source)
            value: Value = Unknown(frozenset({path})) if raw is None else raw  # type: ignore[assignment]
            self.emit("field", path, value, source)
            if isinstance(value, Unknown):
                return value, path
            assert isinstance(raw, tuple)
            return raw, path
        other = self.eval(source)
        path = "(list)"
        if isinstance(other, Unknown):
            return other, path
        assert isinstance(other, tuple)
        return other, path

    def items(self, node: TAggregate) -> tuple[tuple[Record, ...] | Unknown, str]:
        return self.list_value(node.source)

    def item_path(self, path: str, index: int, record: Record) -> str:
        return self.item_paths.get(id(record)) or f"{path}[{index}]"

    def each(self, node: TAggregate, records: tuple[Record, ...], path: str) -> Iterator[Value]:
        assert node.body is not None
        for index, record in enumerate(records):
            where = self.item_path(path, index, record)
            self.scopes.append((record, where))
            try:
                value = self.eval(node.body)
            finally:
                self.scopes.pop()
            self.emit("item", where, value, node)
            yield value

    def aggregate(self, node: TAggregate) -> Value:
        records, path = self.items(node)
        result: Value
        if isinstance(records, Unknown):
            result = records  # a missing list is unknown, never empty
        elif node.body is None:
            result = len(records)
        elif node.func == "any":
            result = kleene_or(self.each(node, records, path))  # type: ignore[arg-type]
        elif node.func == "all":
            result = kleene_and(self.each(node, records, path))  # type: ignore[arg-type]
        elif node.func == "count":
            result = count_of(list(self.each(node, records, path)))  # type: ignore[arg-type]
        elif node.func == "sum":
            result = total(list(self.each(node, records, path)))
        elif node.func == "min":
            result = minimum(list(self.each(node, records, path)), Unknown(frozenset({path})))
        else:
            result = maximum(list(self.each(node, records, path)), Unknown(frozenset({path})))
        self.emit("aggregate", node.func, result, node)
        return result

    def held_on(self, node: TCall) -> Value:
        """The items of a history list held on a date: ``start <= d`` and (``end`` missing or
        ``d <= end``); an item whose start is missing makes the result unknown."""
        records, path = self.list_value(node.args[0])
        day = self.eval(node.args[1])
        result: Value
        if isinstance(records, Unknown) or not isinstance(day, dt.date):
            result = unknown_of(records, day)
            self.emit("call", node.func, result, node)
            return result
        held: list[Record] = []
        missing: set[str] = set()
        for index, record in enumerate(records):
            where = self.item_path(path, index, record)
            start_name, end_name = node.fields
            start, end = record.get(start_name), record.get(end_name)
            for name, raw in ((start_name, start), (end_name, end)):
                seen: Value = raw if isinstance(raw, dt.date) else Unknown(frozenset({f"{where}.{name}"}))
                self.emit("field", f"{where}.{name}", seen, node)
            if not isinstance(start, dt.date):
                missing.add(f"{where}.{start_name}")
            elif start <= day and (not isinstance(end, dt.date) or day <= end):
                self.item_paths[id(record)] = where
                held.append(record)
        result = Unknown(frozenset(missing)) if missing else tuple(held)
        self.emit("call", node.func, result, node)
        return result

    def call(self, node: TCall) -> Value:
        if node.func == "held_on":
            return self.held_on(node)
        args = [self.eval(a) for a in node.args]
        result: Value
        if node.func in OUTCOME_FUNCTIONS:
            name = str(args[0]) if args else ""
            known = self.ctx.outcome or {}
            found = known.get((node.func, name))
            label = f"{node.func}({name})" if name else f"{node.func}()"
            result = found if found is not None else Unknown(frozenset({label}))
            self.emit("call", label, result, node)
            return result
        if node.func in ("years_after", "months_after"):
            count, day, rule = args
            assert isinstance(count, int)
            assert isinstance(rule, str)
            months = count * 12 if node.func == "years_after" else count
            shifted = shift_months(day, months, rule) if isinstance(day, dt.date) else None
            result = shifted if shifted is not None else unknown_of(day)
        elif node.func == "years_between":
            start, end = args
            if isinstance(start, dt.date) and isinstance(end, dt.date):
                result = years_between(start, end)
            else:
                result = unknown_of(start, end)
        elif node.func == "year":
            (day,) = args
            result = day.year if isinstance(day, dt.date) else unknown_of(day)
        else:
            day, first, last = args
            result = kleene_and([compare("<=", first, day), compare("<=", day, last)])
        self.emit("call", node.func, result, node)
        return result


def _bool_mix(left: Value, pool: frozenset[object]) -> bool:
    # `True in {1}` is true in Python; a boolean never equals a number here
    return isinstance(left, bool) != all(isinstance(p, bool) for p in pool) and bool(pool)


def _low(v: Value) -> Decimal | int:
    return v.low if isinstance(v, Interval) else v  # type: ignore[return-value]


def _high(v: Value) -> Decimal | int:
    return v.high if isinstance(v, Interval) else v  # type: ignore[return-value]
