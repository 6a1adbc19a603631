"""Well-typed expressions (syntax trees) of the policy language, reaching every construct (`expressions`).

They are drawn against a schema, or an `Env` with parameters, facts and a missing-day rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy._location import Source, Span
from gspolicy.lang import BOOL, DATE, NUMBER, STRING, EnumT, Env, SetT, Type
from gspolicy.lang.ast import (
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
from gspolicy.lang.typed import AGE
from gspolicy.lang.types import field_type
from gspolicy.schema import roles
from gspolicy.schema.model import RecordSpec, Schema
from gspolicy.strategies.arguments import Named, check_int, schema_repr

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
        # the language's `age`: the item's age, read from the fields of the age roles
        birth = spec.fields.get(spec.roles.get(roles.BIRTH_DATE, ""))
        if t == NUMBER and birth is not None and (birth.kind == "date" or AGE in spec.fields):
            out.append(_n(AGE))
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
                paths += [_n(n) for n, f in spec.fields.items() if not f.required and n != AGE]
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
            # a history: its items' fields of the roles `support_start` and `support_end` are dates
            dates = [spec.roles.get(r, "") for r in (roles.SUPPORT_START, roles.SUPPORT_END)]
            dated = all(n in spec.fields and spec.fields[n].kind == "date" for n in dates)
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
    check_int(max_depth, "max_depth", 0, 8)
    generator = _Expressions(env, max_depth)
    inner = generator.draw(type, max_depth, _Scope())
    if isinstance(type, EnumT) and not generator.names(type, _Scope()):
        raise InvalidArgument(f"type={type!r}: no field of the subject has this enum type")
    head = schema_repr(env.schema) if isinstance(schema, Schema) else f"<env {schema_repr(env.schema)}>"
    shown = {BOOL: "BOOL", NUMBER: "NUMBER", DATE: "DATE", STRING: "STRING"}.get(type, repr(type))
    options = [] if type == BOOL else [f"type={shown}"]
    if max_depth != 3:
        options.append(f"max_depth={max_depth}")
    return Named(inner, f"expressions({', '.join([head, *options])})")
