"""A tiny schema of our own and hypothesis strategies for the expression language.

`expressions(kind)` draws *well-typed* syntax trees of a given type against `TINY_SCHEMA` with the
parameters and facts of `ENV`; `households()` draws schema-valid records with fields missing at
random.  Every node kind of `gspolicy.lang.ast` and every type is reachable (a test says so).
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from hypothesis import strategies as st

from gspolicy._location import Source, Span
from gspolicy.lang import DATE, NUMBER, Context, EnumT, Env, Interval, SetT, Type, check, parse_expression
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
from gspolicy.lang.typed import TypedExpr
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.model import Record, Schema

__all__ = [
    "AS_OF",
    "ENV",
    "FACTS",
    "KINDS",
    "PARAMETERS",
    "TINY",
    "TINY_SCHEMA",
    "context",
    "expressions",
    "households",
    "locate_in",
    "parse_text",
]

TINY = """\
schema: tiny
format: 1
version: "1"
title: {zh: 测试数据结构, en: Tiny test schema}
root: household
enums:
  cause:
    title: {zh: 致贫原因, en: Cause of poverty}
    values:
      illness: {zh: 因病, en: Illness}
      disability: {zh: 因残, en: Disability}
      other: {zh: 其他, en: Other}
  health:
    title: {zh: 健康状况, en: Health}
    values:
      healthy: {zh: 健康, en: Healthy}
      sick: {zh: 患病, en: Sick}
records:
  household:
    title: {zh: 农户, en: Household}
    fields:
      size: {type: int, title: {zh: 家庭人口数, en: Household size}, min: 0, max: 30}
      registered_on: {type: date, title: {zh: 建档日期, en: Registered on}}
      main_cause: {type: enum, enum: cause, title: {zh: 主要致贫原因, en: Main cause}}
      dibao: {type: bool, title: {zh: 低保户, en: Dibao household}}
      relocated: {type: bool, title: {zh: 易地搬迁, en: Relocated}}
      village: {type: string, title: {zh: 所在村, en: Village}}
      income: {type: record, record: income, title: {zh: 收入, en: Income}}
      members: {type: list, of: member, title: {zh: 家庭成员, en: Members}, role: members}
  income:
    title: {zh: 收入, en: Income}
    fields:
      per_capita: {type: money, title: {zh: 人均纯收入, en: Per-capita net income}}
      transfers: {type: money, title: {zh: 转移性收入, en: Transfer income}}
  member:
    title: {zh: 家庭成员, en: Member}
    fields:
      name: {type: string, title: {zh: 姓名, en: Name}}
      birth_date: {type: date, title: {zh: 出生日期, en: Birth date}, role: birth_date}
      age: {type: int, role: recorded_age, title: {zh: 登记年龄, en: Recorded age}, min: 0, max: 120}
      age_recorded_on: {type: date, role: age_recorded_on, title: {zh: 年龄登记日期, en: Age recorded on}}
      health: {type: enum, enum: health, title: {zh: 健康状况, en: Health}}
      insured: {type: bool, title: {zh: 参加医保, en: Insured}}
      income: {type: money, title: {zh: 个人收入, en: Personal income}}
"""


def _load() -> Schema:
    schema, problems = schema_from_source(Source("tiny.yaml", TINY))
    assert schema is not None, [p.render("en") for p in problems]
    return schema


TINY_SCHEMA = _load()
AS_OF = dt.date(2019, 6, 30)

PARAMETERS: dict[str, Type] = {
    "line": NUMBER,
    "range_line": NUMBER,
    "causes": SetT(EnumT("cause")),
    "cutoff": DATE,
}
FACTS_TEXT = {"stable": "income.per_capita - income.transfers", "all_insured": "all(members, insured)"}


def parse_text(text: str, name: str = "expr") -> tuple[Expr | None, list[object]]:
    source = Source(name, text)
    expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
    return expr, list(problems)


def locate_in(source: Source) -> object:
    return lambda s, e: Span(source, s, e)


def _check_facts() -> dict[str, TypedExpr]:
    env = Env(TINY_SCHEMA, parameters=PARAMETERS)
    out: dict[str, TypedExpr] = {}
    for name, text in FACTS_TEXT.items():
        expr, problems = parse_text(text, name)
        assert expr is not None, problems
        typed, diags = check(expr, env)
        assert typed is not None, [d.render("en") for d in diags]
        out[name] = typed
    return out


FACTS = _check_facts()
ENV = Env(TINY_SCHEMA, parameters=PARAMETERS, facts={k: v.type for k, v in FACTS.items()})
PARAM_VALUES = {
    "line": Decimal("3500"),
    "range_line": Interval(Decimal("3500"), Decimal("3815")),
    "causes": frozenset({"illness", "disability"}),
    # `cutoff` is deliberately absent: it evaluates to Unknown({"param:cutoff"})
}


def context(subject: Record, trace: object = None) -> Context:
    return Context(subject, AS_OF, PARAM_VALUES, FACTS, trace)  # type: ignore[arg-type]


# --- households ------------------------------------------------------------------------------------

_DATES = st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31))
_MONEY = st.decimals(-2000, 20000, places=2, allow_nan=False, allow_infinity=False)


def _optional(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, strategy in fields.items():
        if draw(st.booleans()):
            out[name] = draw(strategy)
    return out


@st.composite
def members(draw: st.DrawFn) -> Record:
    values = _optional(
        draw,
        {
            "name": st.sampled_from(["张三", "李四", "Wang", ""]),
            "birth_date": _DATES,
            "health": st.sampled_from(["healthy", "sick"]),
            "insured": st.booleans(),
            "income": _MONEY,
        },
    )
    if draw(st.booleans()):  # the schema gives `age` with the date it was recorded
        values["age"] = draw(st.integers(0, 100))
        values["age_recorded_on"] = draw(_DATES)
    return Record("member", values)


@st.composite
def households(draw: st.DrawFn, *, max_members: int = 3) -> Record:
    """Schema-valid households of the tiny schema; every field may be missing, lists may be empty."""
    values = _optional(
        draw,
        {
            "size": st.integers(0, 30),
            "registered_on": _DATES,
            "main_cause": st.sampled_from(["illness", "disability", "other"]),
            "dibao": st.booleans(),
            "relocated": st.booleans(),
            "village": st.sampled_from(["上川村", "Xiaohe", ""]),
            "income": st.builds(
                lambda v: Record("income", v),
                st.fixed_dictionaries({}, optional={"per_capita": _MONEY, "transfers": _MONEY}),
            ),
            "members": st.lists(members(), max_size=max_members).map(tuple),
        },
    )
    return Record("household", values)


# --- expressions -----------------------------------------------------------------------------------

_NOWHERE = Span(Source("generated", ""), 0, 0)
KINDS = ("bool", "number", "date", "string", "cause", "health")
"""The types `expressions` can draw: `cause` and `health` are the tiny schema's enums."""


def _n(name: str) -> Name:
    return Name(name, _NOWHERE)


def _path(*parts: str) -> Expr:
    node: Expr = _n(parts[0])
    for part in parts[1:]:
        node = Attribute(node, part, _NOWHERE, _NOWHERE)
    return node


def _call(func: str, *args: Expr) -> Call:
    return Call(func, args, _NOWHERE, _NOWHERE)


def _lit(value: bool | int | Decimal | str) -> Literal:
    return Literal(value, _NOWHERE)


_TEXTS = st.sampled_from(["上川村", "Xiaohe", "", 'say "hi"', "back\\slash", "tab\there", "两行\n文本"])
_NUMBERS = st.one_of(
    st.integers(0, 5000),
    st.decimals(0, 10000, places=2, allow_nan=False, allow_infinity=False),
)
_CAUSE_LABELS = st.sampled_from(["illness", "disability", "other", "因病", "因残", "其他", "Illness"])
_HEALTH_LABELS = st.sampled_from(["healthy", "sick", "健康", "患病"])


def _leaves(kind: str, in_member: bool) -> st.SearchStrategy[Expr]:
    if kind == "bool":
        options: list[st.SearchStrategy[Expr]] = [
            st.booleans().map(_lit),
            st.sampled_from([_n("dibao"), _n("relocated"), _n("all_insured")]),
            st.sampled_from(["size", "main_cause", "income", "members", "village"]).map(
                lambda f: _call("present", _n(f))
            ),
            st.just(_call("present", _path("household", "income", "per_capita"))),
        ]
        if in_member:
            options.append(st.just(_n("insured")))
            options.append(st.just(_call("present", _n("birth_date"))))
        return st.one_of(options)
    if kind == "number":
        options = [
            _NUMBERS.map(_lit),
            st.sampled_from(
                [
                    _n("size"),
                    # inside a member predicate `income` is the member's own income (scoping rule)
                    _path("household", "income", "per_capita")
                    if in_member
                    else _path("income", "per_capita"),
                    _path("household", "income", "transfers"),
                    _n("line"),
                    _n("range_line"),
                    _n("stable"),
                    _call("count", _n("members")),
                ]
            ),
        ]
        if in_member:
            options.append(st.sampled_from([_n("age"), _n("income")]))
        return st.one_of(options)
    if kind == "date":
        options = [
            _DATES.map(lambda d: DateLit(d, _NOWHERE)),
            st.sampled_from([_n("registered_on"), _n("as_of"), _n("cutoff")]),
        ]
        if in_member:
            options.append(st.just(_n("birth_date")))
        return st.one_of(options)
    if kind == "string":
        options = [_TEXTS.map(_lit), st.just(_n("village"))]
        if in_member:
            options.append(st.just(_n("name")))
        return st.one_of(options)
    if kind == "cause":
        return st.just(_n("main_cause"))
    assert kind == "health"
    return st.just(_n("health")) if in_member else st.nothing()


def expressions(kind: str = "bool", *, depth: int = 3, in_member: bool = False) -> st.SearchStrategy[Expr]:
    """Well-typed syntax trees of type `kind` (one of `KINDS`) against `ENV`.

    `in_member` draws the predicate of an aggregate over ``members`` (item fields and ``age`` are
    in scope).  `depth` bounds the nesting.  Strategies are built once per (kind, depth, scope).
    """
    return _expressions(kind, depth, in_member)


@functools.cache
def _expressions(kind: str, depth: int, in_member: bool) -> st.SearchStrategy[Expr]:
    leaves = _leaves(kind, in_member)
    if depth <= 0:
        return leaves
    return st.one_of(leaves, _composites(kind, depth - 1, in_member))


def _composites(kind: str, depth: int, in_member: bool) -> st.SearchStrategy[Expr]:
    def sub(k: str, *, member: bool = in_member) -> st.SearchStrategy[Expr]:
        return expressions(k, depth=depth, in_member=member)

    if_exp = st.builds(lambda c, a, b: IfExp(c, a, b, _NOWHERE), sub("bool"), sub(kind), sub(kind))
    if kind == "bool":
        ordered = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
        equality = st.sampled_from(["==", "!="])
        options: list[st.SearchStrategy[Expr]] = [
            sub("bool").map(lambda e: Unary("not", e, _NOWHERE)),
            st.builds(
                lambda op, xs: BoolOp(op, tuple(xs), _NOWHERE),
                st.sampled_from(["and", "or"]),
                st.lists(sub("bool"), min_size=2, max_size=3),
            ),
            st.builds(
                lambda xs, ops: Compare(tuple(xs[: len(ops) + 1]), tuple(ops), _NOWHERE),
                st.lists(sub("number"), min_size=3, max_size=3),
                st.lists(ordered, min_size=1, max_size=2),
            ),
            st.builds(lambda a, op, b: Compare((a, b), (op,), _NOWHERE), sub("date"), ordered, sub("date")),
            st.builds(
                lambda a, op, b: Compare((a, b), (op,), _NOWHERE), sub("string"), equality, sub("string")
            ),
            st.builds(lambda a, op, b: Compare((a, b), (op,), _NOWHERE), sub("bool"), equality, sub("bool")),
            st.builds(
                lambda op, label: Compare((_n("main_cause"), _lit(label)), (op,), _NOWHERE),
                equality,
                _CAUSE_LABELS,
            ),
            st.builds(
                lambda op, labels: Compare(
                    (_n("main_cause"), ListLit(tuple(_lit(x) for x in labels), _NOWHERE)), (op,), _NOWHERE
                ),
                st.sampled_from(["in", "not in"]),
                st.lists(_CAUSE_LABELS, max_size=3),
            ),
            st.builds(
                lambda op: Compare((_n("main_cause"), _n("causes")), (op,), _NOWHERE),
                st.sampled_from(["in", "not in"]),
            ),
            st.builds(
                lambda f, p: _call(f, _n("members"), p),
                st.sampled_from(["any", "all"]),
                sub("bool", member=True),
            ),
            st.builds(lambda a, b, c: _call("within", a, b, c), sub("date"), sub("date"), sub("date")),
            if_exp,
        ]
        if in_member:
            options.append(
                st.builds(
                    lambda op, labels: Compare(
                        (_n("health"), ListLit(tuple(_lit(x) for x in labels), _NOWHERE)), (op,), _NOWHERE
                    ),
                    st.sampled_from(["in", "not in"]),
                    st.lists(_HEALTH_LABELS, min_size=1, max_size=2),
                )
            )
        return st.one_of(options)
    if kind == "number":
        return st.one_of(
            st.builds(
                lambda op, a, b: BinOp(op, a, b, _NOWHERE),
                st.sampled_from(["+", "-", "*", "/"]),
                sub("number"),
                sub("number"),
            ),
            sub("number").map(lambda e: Unary("-", e, _NOWHERE)),
            sub("bool", member=True).map(lambda p: _call("count", _n("members"), p)),
            st.builds(
                lambda f, e: _call(f, _n("members"), e),
                st.sampled_from(["sum", "min", "max"]),
                sub("number", member=True),
            ),
            st.builds(lambda a, b: _call("years_between", a, b), sub("date"), sub("date")),
            sub("date").map(lambda d: _call("year", d)),
            if_exp,
        )
    if kind == "date":
        return st.one_of(
            st.builds(
                lambda f, e: _call(f, _n("members"), e),
                st.sampled_from(["min", "max"]),
                sub("date", member=True),
            ),
            if_exp,
        )
    return if_exp


def node_kinds(expr: Expr) -> set[str]:
    """The class names of every node in `expr`."""
    from gspolicy.lang.ast import children

    found = {type(expr).__name__}
    for child in children(expr):
        found |= node_kinds(child)
    return found


def checked(expr: Expr) -> TypedExpr:
    typed, problems = check(expr, ENV)
    assert typed is not None, [p.render("en") for p in problems]
    return typed
