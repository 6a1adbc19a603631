"""The per-record evaluator: a checked pack lowered once per as-of date into closures.

`lower(pack, as_of)` turns every condition of a pack version (applicability, data preconditions,
criteria, rules, buffer) into Python closures over the checked tree: the parameters in force on
the date become constants (a range an `Interval`, a value not established an `Unknown` naming it),
every node a closure that calls its children directly — no dispatch on node kinds, no trace
events, and nothing of Python's `exec` or `compile`.  `Lowered.run(record)` gives the pack's
`PackValues` for one record; facts are evaluated once per record and pack.

The semantics are the reference interpreter's (`gspolicy.lang.interpret`), statement for
statement, minus the trace: the same values, the same `Unknown` naming the same data paths and
parameters, the same problems.  A differential property test holds the two equal on generated
packs and records, and on the bundled packs.

Lowerings are kept per pack version and date (bounded, `gspolicy._memo`), so a run over many
records lowers each pack once.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs

from gspolicy._memo import Memo
from gspolicy.engine.run import BufferValues, PackValues, parameter_values
from gspolicy.errors import Diagnostic
from gspolicy.lang.ast import OUTCOME_FUNCTIONS
from gspolicy.lang.interpret import age_range, shift_months, years_between
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
from gspolicy.lang.values import (
    Interval,
    Truth,
    Unknown,
    Value,
    add,
    compare,
    count_of,
    divide,
    is_number,
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
from gspolicy.pack.check import CheckedPack
from gspolicy.schema.model import AGE_RECORDED_ON, BIRTH_DATE, RECORDED_AGE, Record

__all__ = ["NOT_EVALUATED", "Lowered", "lower", "lower_terms", "lower_watched"]

Values = Mapping[str, object]
Scope = tuple[Values, str, int]


class _Frame:
    """What one record's evaluation of one pack keeps: the scopes (the subject, then the item of
    each enclosing aggregate), the facts evaluated so far, and the data path of each record a
    `held_on` filter let through.

    A scope is ``(values, base, index)``: the record's field values, the data path of its list
    (or of the record itself, with index -1) as text, and its index in the list.  A path is
    written out only when a missing value needs it, as `DataPath` writes it (``members[2].age``).
    Records are read through their own value mapping (`Record._values`): this evaluator is the
    one hot loop of the library, and a method call per field read is most of its time.
    """

    __slots__ = ("active", "as_of", "item_paths", "memo", "params", "scopes")

    def __init__(
        self, subject: Record, as_of: dt.date | None = None, params: Mapping[str, Value] | None = None
    ) -> None:
        self.scopes: list[Scope] = [(subject._values, "", -1)]
        self.memo: dict[str, Value] = {}
        self.active: set[str] = set()
        self.item_paths: dict[int, str] = {}
        self.as_of = as_of  # read by terms lowered for any date (`lower_terms`)
        self.params = params


def _base(scope: Scope) -> str:
    _, base, index = scope
    return base if index < 0 else f"{base}[{index}]"


def _join(base: str, path: tuple[str, ...]) -> str:
    """``str(DataPath((*base, *path)))`` for a base path written as text."""
    if not path:
        return base or "(record)"
    tail = ".".join(path)
    return f"{base}.{tail}" if base else tail


Fn = Callable[[_Frame], Value]


@attrs.frozen
class Lowered:
    """A pack version lowered for one as-of date: a closure per condition."""

    pack: CheckedPack
    as_of: dt.date
    parameters: Mapping[str, Value]
    applies: Fn | None
    givens: Mapping[str, Fn]
    criteria: Mapping[str, Fn]
    rules: Mapping[str, Fn]
    buffer: tuple[Fn, Mapping[str, Fn], Mapping[str, Fn]] | None
    lapses: Mapping[str, Fn] = attrs.field(factory=dict)  # measure id → its `lapses_when`

    def lapse(self, measure: str, record: Record) -> Value:
        """Whether a retained item of `measure` has lapsed for `record` (`lapses_when`)."""
        return self.lapses[measure](_Frame(record))

    def run(self, record: Record) -> PackValues:
        """Every condition of the pack on `record` (the values the interpreter would give)."""
        frame = _Frame(record)
        buffer = None
        if self.buffer is not None:
            retained, active, until = self.buffer
            buffer = BufferValues(
                retained(frame),
                {k: f(frame) for k, f in active.items()},
                {k: f(frame) for k, f in until.items()},
            )
        return PackValues(
            self.pack,
            record,
            self.as_of,
            self.parameters,
            self.applies(frame) if self.applies is not None else None,
            {k: f(frame) for k, f in self.givens.items()},
            {k: f(frame) for k, f in self.criteria.items()},
            {k: f(frame) for k, f in self.rules.items()},
            buffer,
        )


_LOWERED: Memo[tuple[int, dt.date], Lowered] = Memo(2048)


def lower(pack: CheckedPack, as_of: dt.date) -> Lowered:
    """The pack lowered for `as_of` (built once per pack version and date, then reused)."""
    key = (id(pack), as_of)
    found = _LOWERED.get(key)
    if found is not None and found.pack is pack:
        return found
    builder = _Builder(pack, as_of)
    buffer = None
    if pack.buffer is not None:
        buffer = (
            builder.lower(pack.buffer.retained),
            {k: builder.lower(t) for k, t in pack.buffer.active.items()},
            {k: builder.lower(t) for k, t in pack.buffer.until.items()},
        )
    lowered = Lowered(
        pack,
        as_of,
        builder.params,
        builder.lower(pack.applies) if pack.applies is not None else None,
        {k: builder.lower(t) for k, t in pack.givens.items()},
        {k: builder.lower(t) for k, t in pack.criteria.items()},
        {k: builder.lower(t) for k, t in pack.rules.items()},
        buffer,
        {k: builder.lower(t) for k, t in pack.lapses.items()},
    )
    return _LOWERED.put(key, lowered)


def lower_terms(
    pack: CheckedPack, exprs: Sequence[TypedExpr]
) -> Callable[[Record, dt.date, Mapping[str, Value]], list[Value]]:
    """Expressions of a pack lowered for any date and any parameter values: the returned
    function gives their values on a record as of a date with the parameters given (as the
    interpreter would with a `Context` holding them)."""
    builder = _Builder(pack, None)
    lowered = [builder.lower(e) for e in exprs]

    def run(record: Record, as_of: dt.date, parameters: Mapping[str, Value]) -> list[Value]:
        frame = _Frame(record, as_of, parameters)
        return [fn(frame) for fn in lowered]

    return run


_ORDER: dict[str, Callable[[object, object], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


class _Builder:
    """Lowers the expressions of one pack.  With an `as_of` date the parameters in force on it are
    constants; without one (`lower_terms`) the date and the parameters are read from the frame of
    each call, for callers whose parameters vary by record (the monitor's event values)."""

    def __init__(self, pack: CheckedPack, as_of: dt.date | None) -> None:
        self.pack = pack
        self.as_of = as_of
        self.params: dict[str, Value] = parameter_values(pack, as_of) if as_of is not None else {}
        self.facts: dict[str, Fn] = {}

    # -- the dispatch happens here, once per node, never per record ------------------------------
    def lower(self, node: TypedExpr) -> Fn:  # one branch per node kind
        if isinstance(node, TConst):
            value = node.value
            return lambda f: value
        if isinstance(node, TField):
            return self.field(node)
        if isinstance(node, TCompare):
            return self.compare(node)
        if isinstance(node, TBool):
            return self.boolean(node)
        if isinstance(node, TNot):
            operand = self.lower(node.operand)
            return lambda f: kleene_not(operand(f))  # type: ignore[arg-type]
        if isinstance(node, TParam):
            return self.parameter(node)
        if isinstance(node, TFact):
            return self.fact(node)
        if isinstance(node, TArith):
            return self.arith(node)
        if isinstance(node, TNeg):
            negated = self.lower(node.operand)
            return lambda f: negate(negated(f))
        if isinstance(node, TAggregate):
            return self.aggregate(node)
        if isinstance(node, TAge):
            return self.age(node)
        if isinstance(node, TAsOf):
            as_of = self.as_of
            if as_of is None:
                return lambda f: f.as_of  # type: ignore[return-value]
            return lambda f: as_of
        if isinstance(node, TCall):
            return self.call(node)
        if isinstance(node, TPresent):
            return self.present(node)
        if isinstance(node, TIf):
            return self.conditional(node)
        assert isinstance(node, TSet)
        items = [self.lower(i) for i in node.items]

        def a_set(f: _Frame) -> Value:
            values = [i(f) for i in items]
            if any(isinstance(v, Unknown | Interval) for v in values):
                return unknown_of(*values)
            return frozenset(values)  # type: ignore[arg-type]

        return a_set

    # -- reads ----------------------------------------------------------------------------------
    def walker(self, node: TField) -> Callable[[_Frame], object]:
        """The value at the field's path in its scope (None when missing)."""
        scope, path = node.scope, node.path
        if len(path) == 1:
            (name,) = path
            return lambda f: f.scopes[scope][0].get(name)
        if len(path) == 2:
            outer, inner = path

            def walk_two(f: _Frame) -> object:
                record = f.scopes[scope][0].get(outer)
                return record._values.get(inner) if type(record) is Record else None

            return walk_two

        def walk(f: _Frame) -> object:
            current: object = f.scopes[scope][0]
            for part in path:
                if isinstance(current, Record):
                    current = current._values
                elif not isinstance(current, dict):
                    return None
                current = current.get(part)
                if current is None:
                    return None
            return current

        return walk

    def field(self, node: TField) -> Fn:
        scope, path = node.scope, node.path
        walk = self.walker(node)
        if scope == 0:
            missing = Unknown(frozenset({_join("", path)}))
            if len(path) == 1:
                (name,) = path

                def field_of_subject(f: _Frame) -> Value:
                    value = f.scopes[0][0].get(name)
                    return missing if value is None else value  # type: ignore[return-value]

                return field_of_subject

            def deep_field_of_subject(f: _Frame) -> Value:
                value = walk(f)
                return missing if value is None else value  # type: ignore[return-value]

            return deep_field_of_subject

        def field(f: _Frame) -> Value:
            value = walk(f)
            if value is None:
                return Unknown(frozenset({_join(_base(f.scopes[scope]), path)}))
            return value  # type: ignore[return-value]

        return field

    def present(self, node: TPresent) -> Fn:
        walk = self.walker(node.field)
        return lambda f: walk(f) is not None

    def parameter(self, node: TParam) -> Fn:
        key = f"param:{node.name}"
        if self.as_of is None:
            name, unknown = node.name, Unknown(frozenset({key}))

            def given(f: _Frame) -> Value:
                value = f.params.get(name) if f.params is not None else None
                if value is None:
                    return unknown
                if isinstance(value, Interval) and not value.because:
                    return Interval(value.low, value.high, frozenset({key}))
                return value

            return given
        if node.name not in self.params:
            value: Value = Unknown(frozenset({key}))
        else:
            value = self.params[node.name]
            if isinstance(value, Interval) and not value.because:
                value = Interval(value.low, value.high, frozenset({key}))
        return lambda f: value

    def fact(self, node: TFact) -> Fn:
        name = node.name
        expr = self.pack.facts.get(name)
        if expr is None:
            problem = Diagnostic("eval/unknown-fact", node.span, {"name": name})
            unknown = Unknown(frozenset(), frozenset({problem}))
            return lambda f: unknown
        cycle = Unknown(frozenset(), frozenset({Diagnostic("eval/fact-cycle", node.span, {"name": name})}))
        facts = self.facts

        def fact(f: _Frame) -> Value:
            memo = f.memo
            if name in memo:
                return memo[name]
            if name in f.active:
                return cycle
            body = facts.get(name)
            if body is None:  # lowered on first use: a fact nothing reads is never lowered
                body = facts[name] = self.lower(expr)
            f.active.add(name)
            saved = f.scopes
            f.scopes = saved[:1]  # a fact is about the subject, wherever it is used
            try:
                value = body(f)
            finally:
                f.scopes = saved
                f.active.discard(name)
            memo[name] = value
            return value

        return fact

    def age(self, node: TAge) -> Fn:
        scope, span, fixed = node.scope, node.span, self.as_of

        def age(f: _Frame) -> Value:
            as_of = fixed or f.as_of
            assert as_of is not None
            values = f.scopes[scope][0]
            birth = values.get(BIRTH_DATE)
            if isinstance(birth, dt.date):
                return years_between(birth, as_of)
            base = _base(f.scopes[scope])
            birth_path = _join(base, (BIRTH_DATE,))
            recorded_age, recorded_on = values.get(RECORDED_AGE), values.get(AGE_RECORDED_ON)
            if is_number(recorded_age) and isinstance(recorded_on, dt.date):
                ages = age_range(int(recorded_age), recorded_on, as_of)  # type: ignore[call-overload]
                if ages is None:
                    args = {
                        "path": _join(base, (RECORDED_AGE,)),
                        "age": recorded_age,
                        "on": recorded_on.isoformat(),
                    }
                    problem = Diagnostic("eval/date-out-of-range", span, args)
                    return Unknown(frozenset({birth_path}), frozenset({problem}))
                return make_interval(ages[0], ages[1], frozenset({birth_path}))
            return Unknown(frozenset({birth_path}))

        return age

    # -- operators ------------------------------------------------------------------------------
    def arith(self, node: TArith) -> Fn:
        left, right = self.lower(node.left), self.lower(node.right)
        op, span, right_span = node.op, node.span, node.right.span
        apply = {"+": add, "-": subtract, "*": multiply}.get(op)

        def arith(f: _Frame) -> Value:
            a, b = left(f), right(f)
            try:
                if apply is not None:
                    return apply(a, b)
                result = divide(a, b)
            except (decimal.Overflow, decimal.InvalidOperation, decimal.DivisionByZero):
                problem = Diagnostic("eval/overflow", span, {"op": op})
                return Unknown(unknown_of(a, b).missing, frozenset({problem}))
            if result is None:
                problem = Diagnostic("eval/division-by-zero", right_span)
                return Unknown(unknown_of(a).missing, frozenset({problem}))
            return result

        return arith

    def boolean(self, node: TBool) -> Fn:
        operands = [self.lower(o) for o in node.operands]
        if node.op == "and":

            def conjunction(f: _Frame) -> Value:
                unknowns: list[Value] = []
                for operand in operands:
                    value = operand(f)
                    if value is False:
                        return False
                    if value is not True:
                        unknowns.append(value)
                return unknown_of(*unknowns) if unknowns else True

            return conjunction

        def disjunction(f: _Frame) -> Value:
            unknowns: list[Value] = []
            for operand in operands:
                value = operand(f)
                if value is True:
                    return True
                if value is not False:
                    unknowns.append(value)
            return unknown_of(*unknowns) if unknowns else False

        return disjunction

    def compare(self, node: TCompare) -> Fn:
        if len(node.ops) == 1 and node.ops[0] not in ("in", "not in"):
            return self.comparison(node.ops[0], node.operands[0], node.operands[1])
        if len(node.ops) == 1:
            subject, member = self.lower(node.operands[0]), self.member(node.operands[1])
            if node.ops[0] == "in":
                return lambda f: member(f, subject(f))
            return lambda f: kleene_not(member(f, subject(f)))
        first = self.lower(node.operands[0])
        links: list[tuple[str, Fn | None, Callable[[_Frame, Value], Truth] | None]] = []
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            if op in ("in", "not in"):
                links.append((op, None, self.member(right_node)))
            else:
                links.append((op, self.lower(right_node), None))

        def chain(f: _Frame) -> Value:
            results: list[Truth] = []
            left = first(f)
            for op, right_fn, member in links:
                if member is not None:
                    found = member(f, left)
                    result = kleene_not(found) if op == "not in" else found
                else:
                    assert right_fn is not None
                    right = right_fn(f)
                    result = compare(op, left, right)
                    left = right
                results.append(result)
                if result is False:
                    return False  # a chain is a conjunction
            return kleene_and(results)

        return chain

    def comparison(self, op: str, left_node: TypedExpr, right_node: TypedExpr) -> Fn:
        """One comparison; against a number or a text known when lowering (a constant, or a
        parameter in force as an exact value) plain values are compared directly, everything
        else (an unknown, a range, a boolean) as the interpreter's `compare` does."""
        left = self.lower(left_node)
        constant: object = None
        if isinstance(right_node, TConst):
            constant = right_node.value
        elif isinstance(right_node, TParam) and self.as_of is not None:
            value = self.params.get(right_node.name)
            if isinstance(value, int | Decimal | str) and not isinstance(value, bool):
                constant = value
        if isinstance(constant, int | Decimal) and not isinstance(constant, bool) and op in _ORDER:
            order, bound = _ORDER[op], constant

            def against_number(f: _Frame) -> Value:
                value = left(f)
                if type(value) is int or type(value) is Decimal:
                    return order(value, bound)
                return compare(op, value, bound)

            return against_number
        if isinstance(constant, str) and op in ("==", "!="):
            text, equal = constant, op == "=="

            def against_text(f: _Frame) -> Value:
                value = left(f)
                if type(value) is str:
                    return (value == text) is equal
                return compare(op, value, text)

            return against_text
        right = self.lower(right_node)
        return lambda f: compare(op, left(f), right(f))

    def member(self, right_node: TypedExpr) -> Callable[[_Frame, Value], Truth]:
        if isinstance(right_node, TSet):
            items = [self.lower(i) for i in right_node.items]
            constants = [i.value for i in right_node.items if isinstance(i, TConst)]
            if len(constants) == len(items) and all(isinstance(c, str) for c in constants):
                codes = frozenset(constants)

                def in_codes(f: _Frame, left: Value) -> Truth:
                    if isinstance(left, str):
                        return left in codes  # what comparing with each code gives, without the loop
                    return kleene_or(compare("==", left, c) for c in codes)

                return in_codes

            return lambda f, left: kleene_or(compare("==", left, i(f)) for i in items)
        pool_fn = self.lower(right_node)

        def in_pool(f: _Frame, left: Value) -> Truth:
            pool = pool_fn(f)
            if isinstance(pool, Unknown):
                return pool
            assert isinstance(pool, frozenset)
            if not isinstance(left, Unknown | Interval):
                mixed = isinstance(left, bool) != all(isinstance(p, bool) for p in pool) and bool(pool)
                return left in pool and not mixed
            return kleene_or(compare("==", left, item) for item in pool)

        return in_pool

    def conditional(self, node: TIf) -> Fn:
        cond, then, orelse = self.lower(node.cond), self.lower(node.then), self.lower(node.orelse)

        def conditional(f: _Frame) -> Value:
            test = cond(f)
            if test is True:
                return then(f)
            if test is False:
                return orelse(f)
            a, b = then(f), orelse(f)
            if not isinstance(a, Unknown | Interval) and compare("==", a, b) is True:
                return a
            numbers = [
                v for v in (a, b) if isinstance(v, int | Decimal | Interval) and not isinstance(v, bool)
            ]
            if len(numbers) == 2:
                low = min(v.low if isinstance(v, Interval) else v for v in numbers)
                high = max(v.high if isinstance(v, Interval) else v for v in numbers)
                return make_interval(low, high, unknown_of(test, a, b).missing)
            return unknown_of(test, a, b)

        return conditional

    # -- aggregates and calls ---------------------------------------------------------------------
    def list_value(self, source: TypedExpr) -> Callable[[_Frame], tuple[tuple[Record, ...] | Unknown, str]]:
        """A list-valued expression and the data path of the list, as text (for item paths)."""
        if isinstance(source, TField):
            scope, path = source.scope, source.path
            walk = self.walker(source)

            if scope == 0:  # a list of the subject: its path is known when lowering
                where0 = _join("", path)
                missing0 = Unknown(frozenset({where0}))

                def listed0(f: _Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
                    value = walk(f)
                    if value is None:
                        return missing0, where0
                    return value, where0  # type: ignore[return-value]

                return listed0

            def listed(f: _Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
                value = walk(f)
                where = _join(_base(f.scopes[scope]), path)
                if value is None:
                    return Unknown(frozenset({where})), where
                assert isinstance(value, tuple)
                return value, where

            return listed
        other = self.lower(source)

        def computed(f: _Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
            value = other(f)
            if isinstance(value, Unknown):
                return value, "(list)"
            assert isinstance(value, tuple)
            return value, "(list)"

        return computed

    def aggregate(self, node: TAggregate) -> Fn:
        items = self.list_value(node.source)
        func = node.func
        body = self.lower(node.body) if node.body is not None else None

        def each(f: _Frame, records: tuple[Record, ...], path: str) -> list[Value]:
            assert body is not None
            out: list[Value] = []
            scopes, paths = f.scopes, f.item_paths
            for index, record in enumerate(records):
                held = paths.get(id(record))
                scopes.append((record._values, held, -1) if held else (record._values, path, index))
                try:
                    out.append(body(f))
                finally:
                    scopes.pop()
            return out

        def aggregate(f: _Frame) -> Value:
            records, path = items(f)
            if isinstance(records, Unknown):
                return records  # a missing list is unknown, never empty
            if body is None:
                return len(records)
            if func in ("any", "all"):
                return _quantify(f, records, path, body, func == "any")
            values = each(f, records, path)
            if func == "count":
                return count_of(values)  # type: ignore[arg-type]
            if func == "sum":
                return total(values)
            empty = Unknown(frozenset({path}))
            return minimum(values, empty) if func == "min" else maximum(values, empty)

        return aggregate

    def held_on(self, node: TCall) -> Fn:
        items = self.list_value(node.args[0])
        day_fn = self.lower(node.args[1])

        def held_on(f: _Frame) -> Value:
            records, path = items(f)
            day = day_fn(f)
            if isinstance(records, Unknown) or not isinstance(day, dt.date):
                return unknown_of(records, day)
            held: list[Record] = []
            missing: set[str] = set()
            paths = f.item_paths
            for index, record in enumerate(records):
                where = paths.get(id(record)) or f"{path}[{index}]"
                start, end = record.get("start"), record.get("end")
                if not isinstance(start, dt.date):
                    missing.add(f"{where}.start")
                elif start <= day and (not isinstance(end, dt.date) or day <= end):
                    paths[id(record)] = where
                    held.append(record)
            return Unknown(frozenset(missing)) if missing else tuple(held)

        return held_on

    def call(self, node: TCall) -> Fn:
        if node.func == "held_on":
            return self.held_on(node)
        if node.func in OUTCOME_FUNCTIONS:  # an invariant reads an outcome, never a record
            raise ValueError(f"`{node.func}()` reads a decision's outcome: invariants are not lowered")
        if node.func in ("years_after", "months_after"):
            count, day_node, rule_node = node.args
            assert isinstance(count, TConst)
            assert isinstance(count.value, int)
            assert isinstance(rule_node, TConst)
            months = count.value * (12 if node.func == "years_after" else 1)
            rule = str(rule_node.value)
            shifted_fn = self.lower(day_node)

            def shifted(f: _Frame) -> Value:
                day = shifted_fn(f)
                found = shift_months(day, months, rule) if isinstance(day, dt.date) else None
                return found if found is not None else unknown_of(day)

            return shifted
        args = [self.lower(a) for a in node.args]
        if node.func == "years_between":
            start_fn, end_fn = args

            def between(f: _Frame) -> Value:
                start, end = start_fn(f), end_fn(f)
                if isinstance(start, dt.date) and isinstance(end, dt.date):
                    return years_between(start, end)
                return unknown_of(start, end)

            return between
        if node.func == "year":
            (day_fn,) = args

            def year(f: _Frame) -> Value:
                day = day_fn(f)
                return day.year if isinstance(day, dt.date) else unknown_of(day)

            return year
        day_fn, first_fn, last_fn = args

        def within(f: _Frame) -> Value:
            day, first, last = day_fn(f), first_fn(f), last_fn(f)
            return kleene_and([compare("<=", first, day), compare("<=", day, last)])

        return within


def _quantify(f: _Frame, records: tuple[Record, ...], path: str, body: Fn, decisive: bool) -> Value:
    """``any`` (`decisive` true) or ``all`` (false): decided at the first item whose value is
    `decisive`; else unknown, naming every unknown item, when some are; else not `decisive`."""
    unknowns: list[Value] = []
    scopes, paths = f.scopes, f.item_paths
    for index, record in enumerate(records):
        held = paths.get(id(record))
        scopes.append((record._values, held, -1) if held else (record._values, path, index))
        try:
            value = body(f)
        finally:
            scopes.pop()
        if value is decisive:
            return decisive
        if value is not (not decisive):
            unknowns.append(value)
    return unknown_of(*unknowns) if unknowns else not decisive


# -- watched lowering (coverage) ------------------------------------------------------------------

NOT_EVALUATED = Unknown(frozenset({"(not evaluated)"}))
"""A watched condition's value in an evaluation that never reached it (`lower_watched`)."""

Evaluation = tuple[Value, tuple[Value, ...]]
"""One evaluation of a watched expression: its value and each of its conditions' values."""


def lower_watched(
    pack: CheckedPack, as_of: dt.date, watched: Sequence[tuple[TypedExpr, Sequence[TypedExpr]]]
) -> Callable[[Record], list[list[Evaluation]]]:
    """The pack lowered for `as_of` with expressions watched, each with its conditions (e.g. the
    operands of its and/or): the returned function evaluates the pack's conditions on a record
    in the reference order (applicability, data preconditions, criteria, rules, the buffer's
    bases, then its retained items) and gives, for each watched expression, every evaluation of
    it — its value and its conditions' values, `NOT_EVALUATED` for those the evaluation did not
    reach (an and stopped at a false operand).  A node is matched by its kind and span, as a
    trace event is; only the evaluations within the first condition that evaluates a watched
    expression count (a fact's are then those of the fact itself, evaluated once per record).
    For coverage measurement and its searches: the values are the interpreter's, by the lowering
    the per-record evaluator runs, with no trace.  The function keeps the state of the record it
    runs on: one caller (one thread) at a time."""
    builder = _Watching(pack, as_of, watched)
    conditions: list[Fn] = []
    if pack.applies is not None:
        conditions.append(builder.lower(pack.applies))
    conditions.extend(builder.lower(t) for t in pack.givens.values())
    conditions.extend(builder.lower(t) for t in pack.criteria.values())
    conditions.extend(builder.lower(t) for t in pack.rules.values())
    if pack.buffer is not None:
        conditions.extend(builder.lower(t) for t in pack.buffer.active.values())
        conditions.append(builder.lower(pack.buffer.retained))

    def run(record: Record) -> list[list[Evaluation]]:
        builder.start()
        frame = _Frame(record)
        for condition in conditions:
            condition(frame)
            builder.condition_done()
        return builder.found

    return run


class _Watching(_Builder):
    """A `_Builder` whose lowered watched nodes (by identity: the very nodes of the pack's checked
    tree) record their values (the state of one record's run: `start` resets it)."""

    def __init__(
        self, pack: CheckedPack, as_of: dt.date, watched: Sequence[tuple[TypedExpr, Sequence[TypedExpr]]]
    ) -> None:
        super().__init__(pack, as_of)
        self.roots: dict[int, list[int]] = {}
        self.leaves: dict[int, list[tuple[int, int]]] = {}
        self.sizes = [len(leaves) for _root, leaves in watched]
        for index, (root, leaves) in enumerate(watched):
            self.roots.setdefault(id(root), []).append(index)
            for slot, leaf in enumerate(leaves):
                self.leaves.setdefault(id(leaf), []).append((index, slot))
        self.start()

    def start(self) -> None:
        self.open: list[list[list[Value]]] = [[] for _ in self.sizes]
        self.found: list[list[Evaluation]] = [[] for _ in self.sizes]
        self.settled = [False] * len(self.sizes)

    def condition_done(self) -> None:
        self.settled = [s or bool(f) for s, f in zip(self.settled, self.found, strict=True)]

    def lower(self, node: TypedExpr) -> Fn:
        fn = super().lower(node)
        key = id(node)
        roots = self.roots.get(key, [])
        leaves = self.leaves.get(key, [])
        if not roots and not leaves:
            return fn
        sizes = self.sizes

        def watched(f: _Frame) -> Value:
            opened = self.open
            for index in roots:
                opened[index].append([NOT_EVALUATED] * sizes[index])
            value = fn(f)
            for index, slot in leaves:
                if opened[index]:
                    opened[index][-1][slot] = value
            for index in roots:
                values = opened[index].pop()
                if not self.settled[index]:
                    self.found[index].append((value, tuple(values)))
            return value

        return watched
