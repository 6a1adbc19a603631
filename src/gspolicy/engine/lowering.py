"""A checked pack's expressions lowered into Python closures, node by node (`Builder`): the per-record
evaluator's lowering, the closures running over one record's `Frame` (`gspolicy.engine.frame`).

Every node becomes a closure that calls its children directly — no dispatch on node kinds, no
trace events, and nothing of Python's `exec` or `compile`.  The semantics are the reference
interpreter's (`gspolicy.lang.interpret`), statement for statement, minus the trace: the same
values, the same `Unknown` naming the same data paths and parameters, the same problems.
"""

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal

from gspolicy._numbers import is_number
from gspolicy.engine.frame import Fn, Frame, joined_path, quantify, scope_path
from gspolicy.engine.run import parameter_values
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
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = ["Builder"]


_ORDER: dict[str, Callable[[object, object], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


class Builder:
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

        def a_set(f: Frame) -> Value:
            values = [i(f) for i in items]
            if any(isinstance(v, Unknown | Interval) for v in values):
                return unknown_of(*values)
            return frozenset(values)  # type: ignore[arg-type]

        return a_set

    # -- reads ----------------------------------------------------------------------------------
    def walker(self, node: TField) -> Callable[[Frame], object]:
        """The value at the field's path in its scope (None when missing)."""
        scope, path = node.scope, node.path
        if len(path) == 1:
            (name,) = path
            return lambda f: f.scopes[scope][0].get(name)
        if len(path) == 2:
            outer, inner = path

            def walk_two(f: Frame) -> object:
                record = f.scopes[scope][0].get(outer)
                return record._values.get(inner) if type(record) is Record else None

            return walk_two

        def walk(f: Frame) -> object:
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
            missing = Unknown(frozenset({joined_path("", path)}))
            if len(path) == 1:
                (name,) = path

                def field_of_subject(f: Frame) -> Value:
                    value = f.scopes[0][0].get(name)
                    return missing if value is None else value  # type: ignore[return-value]

                return field_of_subject

            def deep_field_of_subject(f: Frame) -> Value:
                value = walk(f)
                return missing if value is None else value  # type: ignore[return-value]

            return deep_field_of_subject

        def field(f: Frame) -> Value:
            value = walk(f)
            if value is None:
                return Unknown(frozenset({joined_path(scope_path(f.scopes[scope]), path)}))
            return value  # type: ignore[return-value]

        return field

    def present(self, node: TPresent) -> Fn:
        walk = self.walker(node.field)
        return lambda f: walk(f) is not None

    def parameter(self, node: TParam) -> Fn:
        key = f"param:{node.name}"
        if self.as_of is None:
            name, unknown = node.name, Unknown(frozenset({key}))

            def given(f: Frame) -> Value:
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

        def fact(f: Frame) -> Value:
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
        # the fields of the roles, as the type checker found them in the item's record type
        birth_name, recorded_name, on_name = node.birth, node.recorded or "", node.recorded_on or ""

        def age(f: Frame) -> Value:
            as_of = fixed or f.as_of
            assert as_of is not None
            values = f.scopes[scope][0]
            birth = values.get(birth_name)
            if isinstance(birth, dt.date):
                return years_between(birth, as_of)
            base = scope_path(f.scopes[scope])
            birth_path = joined_path(base, (birth_name,))
            recorded_age, recorded_on = values.get(recorded_name), values.get(on_name)
            if is_number(recorded_age) and isinstance(recorded_on, dt.date):
                ages = age_range(int(recorded_age), recorded_on, as_of)  # type: ignore[call-overload]
                if ages is None:
                    args = {
                        "path": joined_path(base, (recorded_name or birth_name,)),
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

        def arith(f: Frame) -> Value:
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

            def conjunction(f: Frame) -> Value:
                unknowns: list[Value] = []
                for operand in operands:
                    value = operand(f)
                    if value is False:
                        return False
                    if value is not True:
                        unknowns.append(value)
                return unknown_of(*unknowns) if unknowns else True

            return conjunction

        def disjunction(f: Frame) -> Value:
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
        links: list[tuple[str, Fn | None, Callable[[Frame, Value], Truth] | None]] = []
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            if op in ("in", "not in"):
                links.append((op, None, self.member(right_node)))
            else:
                links.append((op, self.lower(right_node), None))

        def chain(f: Frame) -> Value:
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

            def against_number(f: Frame) -> Value:
                value = left(f)
                if type(value) is int or type(value) is Decimal:
                    return order(value, bound)
                return compare(op, value, bound)

            return against_number
        if isinstance(constant, str) and op in ("==", "!="):
            text, equal = constant, op == "=="

            def against_text(f: Frame) -> Value:
                value = left(f)
                if type(value) is str:
                    return (value == text) is equal
                return compare(op, value, text)

            return against_text
        right = self.lower(right_node)
        return lambda f: compare(op, left(f), right(f))

    def member(self, right_node: TypedExpr) -> Callable[[Frame, Value], Truth]:
        if isinstance(right_node, TSet):
            items = [self.lower(i) for i in right_node.items]
            constants = [i.value for i in right_node.items if isinstance(i, TConst)]
            if len(constants) == len(items) and all(isinstance(c, str) for c in constants):
                codes = frozenset(constants)

                def in_codes(f: Frame, left: Value) -> Truth:
                    if isinstance(left, str):
                        return left in codes  # what comparing with each code gives, without the loop
                    return kleene_or(compare("==", left, c) for c in codes)

                return in_codes

            return lambda f, left: kleene_or(compare("==", left, i(f)) for i in items)
        pool_fn = self.lower(right_node)

        def in_pool(f: Frame, left: Value) -> Truth:
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

        def conditional(f: Frame) -> Value:
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
    def list_value(self, source: TypedExpr) -> Callable[[Frame], tuple[tuple[Record, ...] | Unknown, str]]:
        """A list-valued expression and the data path of the list, as text (for item paths)."""
        if isinstance(source, TField):
            scope, path = source.scope, source.path
            walk = self.walker(source)

            if scope == 0:  # a list of the subject: its path is known when lowering
                where0 = joined_path("", path)
                missing0 = Unknown(frozenset({where0}))

                def listed0(f: Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
                    value = walk(f)
                    if value is None:
                        return missing0, where0
                    return value, where0  # type: ignore[return-value]

                return listed0

            def listed(f: Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
                value = walk(f)
                where = joined_path(scope_path(f.scopes[scope]), path)
                if value is None:
                    return Unknown(frozenset({where})), where
                assert isinstance(value, tuple)
                return value, where

            return listed
        other = self.lower(source)

        def computed(f: Frame) -> tuple[tuple[Record, ...] | Unknown, str]:
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

        def each(f: Frame, records: tuple[Record, ...], path: str) -> list[Value]:
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

        def aggregate(f: Frame) -> Value:
            records, path = items(f)
            if isinstance(records, Unknown):
                return records  # a missing list is unknown, never empty
            if body is None:
                return len(records)
            if func in ("any", "all"):
                return quantify(f, records, path, body, func == "any")
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
        start_name, end_name = node.fields  # the fields of `support_start` and `support_end`

        def held_on(f: Frame) -> Value:
            records, path = items(f)
            day = day_fn(f)
            if isinstance(records, Unknown) or not isinstance(day, dt.date):
                return unknown_of(records, day)
            held: list[Record] = []
            missing: set[str] = set()
            paths = f.item_paths
            for index, record in enumerate(records):
                where = paths.get(id(record)) or f"{path}[{index}]"
                start, end = record.get(start_name), record.get(end_name)
                if not isinstance(start, dt.date):
                    missing.add(f"{where}.{start_name}")
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

            def shifted(f: Frame) -> Value:
                day = shifted_fn(f)
                found = shift_months(day, months, rule) if isinstance(day, dt.date) else None
                return found if found is not None else unknown_of(day)

            return shifted
        args = [self.lower(a) for a in node.args]
        if node.func == "years_between":
            start_fn, end_fn = args

            def between(f: Frame) -> Value:
                start, end = start_fn(f), end_fn(f)
                if isinstance(start, dt.date) and isinstance(end, dt.date):
                    return years_between(start, end)
                return unknown_of(start, end)

            return between
        if node.func == "year":
            (day_fn,) = args

            def year(f: Frame) -> Value:
                day = day_fn(f)
                return day.year if isinstance(day, dt.date) else unknown_of(day)

            return year
        day_fn, first_fn, last_fn = args

        def within(f: Frame) -> Value:
            day, first, last = day_fn(f), first_fn(f), last_fn(f)
            return kleene_and([compare("<=", first, day), compare("<=", day, last)])

        return within
