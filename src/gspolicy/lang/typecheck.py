"""Type-check an expression against the household schema; resolve every name.

`check(expr, env)` never raises: it returns the checked tree (`gspolicy.lang.typed`) or None,
and the diagnostics.  The scoping rule for a bare name ``x``:

1. inside the second argument of an aggregate (``any(members, x > 1)``), the fields of the
   item (innermost aggregate first, then the enclosing ones), and ``age`` when the item's record
   type has a ``birth_date`` date field (the item's age in whole years at the as-of date);
2. then the parameters, 3. then the facts, 4. then the top-level fields of the subject;
5. then ``as_of`` (the as-of date) and the subject's record type name (``household``), which
   makes the subject's fields always reachable as ``household.<field>``.

A name found in more than one of these places uses the first and gets a ``type/ambiguous-name``
warning, except an item field shadowing a subject field (write ``household.<field>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal as Lit

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Span
from gspolicy.errors import Diagnostic, suggest
from gspolicy.lang.ast import (
    AGGREGATES,
    FUNCTIONS,
    OUTCOME_FUNCTIONS,
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
    children,
)
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
    typed_children,
)
from gspolicy.lang.types import (
    BOOL,
    DATE,
    NUMBER,
    STRING,
    DateT,
    EnumT,
    ListT,
    NumberT,
    RecordT,
    SetT,
    Type,
    describe_type,
    field_type,
)
from gspolicy.schema import roles
from gspolicy.schema.model import RecordSpec, Schema

__all__ = ["AGE", "AS_OF", "Env", "check", "references"]

AS_OF = "as_of"
"""The name of the as-of date."""


def _root_default(env: Env) -> str:
    return env.schema.root


@attrs.frozen
class Env:
    """What names mean: the schema, the subject's record type, parameters and facts with their types."""

    schema: Schema
    root: str = attrs.field(default=attrs.Factory(_root_default, takes_self=True))
    parameters: Mapping[str, Type] = attrs.field(factory=dict)
    facts: Mapping[str, Type] = attrs.field(factory=dict)
    # an invariant's scope: the functions that read a decision's outcome (`OUTCOME_FUNCTIONS`)
    outcome: bool = False
    # the pack's rule for a day the month reached lacks (`MISSING_DAY_RULES`), when it declares one
    missing_day: str | None = None


def check(expr: Expr, env: Env, *, expect: Type | None = None) -> tuple[TypedExpr | None, list[Diagnostic]]:
    """Check `expr` in `env`; return the checked tree (None on any error) and the diagnostics.

    With `expect`, the expression's type must be `expect` (``type/mismatch`` otherwise).
    """
    checker = _Checker(env)
    typed = checker.expr(expr)
    if typed is not None and expect is not None and typed.type != expect:
        checker.mismatch(Text(zh="此表达式", en="this expression"), expect, typed)
        typed = None
    failed = any(d.is_error for d in checker.diagnostics)
    return (None if failed else typed), checker.diagnostics


def references(expr: Expr | TypedExpr, env: Env | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """The facts and the parameters `expr` refers to (for ordering facts and finding cycles).

    A checked tree is walked directly.  A syntax tree is resolved by the scoping rule when `env`
    is given (the names of its facts and parameters matter, their types do not); without `env`
    every bare name is returned in both sets (a superset: intersect with the names you know).
    """
    facts: set[str] = set()
    params: set[str] = set()
    if isinstance(expr, _SYNTAX):
        if env is not None:
            checker = _Checker(env)
            checker.expr(expr)
            return frozenset(checker.facts_seen), frozenset(checker.params_seen)
        pending: list[Expr] = [expr]
        while pending:
            current = pending.pop()
            if isinstance(current, Name):
                facts.add(current.id)
            pending.extend(children(current))
        return frozenset(facts), frozenset(facts)
    stack: list[TypedExpr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, TFact):
            facts.add(node.name)
        elif isinstance(node, TParam):
            params.add(node.name)
        stack.extend(typed_children(node))
    return frozenset(facts), frozenset(params)


_SYNTAX = (Literal, DateLit, Name, Attribute, ListLit, Unary, BinOp, BoolOp, Compare, Call, IfExp)


def _q(name: str) -> Text:
    return Text(zh=f"`{name}`", en=f"`{name}`")


_ORDERED = (NumberT, DateT)
_MEANINGS = {
    "item": Text(zh="列表项的字段", en="a field of the item"),
    "parameter": Text(zh="参数", en="a parameter"),
    "fact": Text(zh="派生事实", en="a fact"),
    "field": Text(zh="农户的字段", en="a field of the subject"),
}


class _Checker:
    def __init__(self, env: Env) -> None:
        self.env = env
        self.schema = env.schema
        self.diagnostics: list[Diagnostic] = []
        # record type of each scope: 0 is the subject; k the item of the k-th enclosing aggregate
        self.scopes: list[str] = [env.root]
        self.facts_seen: set[str] = set()
        self.params_seen: set[str] = set()

    # --- reporting ------------------------------------------------------------------------------
    def report(
        self,
        code: str,
        span: Span,
        args: Mapping[str, object] | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, span, args or {}, suggestions=suggestions))

    def mismatch(self, what: Text, expected: Type | Text, found: TypedExpr) -> None:
        exp = expected if isinstance(expected, Text) else describe_type(expected)
        self.report(
            "type/mismatch", found.span, {"what": what, "expected": exp, "found": describe_type(found.type)}
        )

    def record(self, name: str) -> RecordSpec | None:
        return self.schema.records.get(name)

    # --- dispatch -------------------------------------------------------------------------------
    def expr(self, e: Expr) -> TypedExpr | None:
        if isinstance(e, Literal):
            v = e.value
            t: Type = BOOL if isinstance(v, bool) else STRING if isinstance(v, str) else NUMBER
            return TConst(t, e.span, v)
        if isinstance(e, DateLit):
            return TConst(DATE, e.span, e.value)
        if isinstance(e, Name):
            return self.name(e)
        if isinstance(e, Attribute):
            return self.attribute(e)
        if isinstance(e, ListLit):
            self.report("type/list-outside-in", e.span)
            for item in e.items:
                self.expr(item)
            return None
        if isinstance(e, Unary):
            operand = self.expr(e.operand)
            if operand is None:
                return None
            if e.op == "not":
                if not self.want(operand, BOOL, _q("not")):
                    return None
                return TNot(BOOL, e.span, operand)
            if not self.want(operand, NUMBER, _q("-")):
                return None
            return TNeg(NUMBER, e.span, operand)
        if isinstance(e, BinOp):
            left, right = self.expr(e.left), self.expr(e.right)
            ok = left is not None and self.want(left, NUMBER, _q(e.op))
            ok = right is not None and self.want(right, NUMBER, _q(e.op)) and ok
            if not ok or left is None or right is None:
                return None
            return TArith(NUMBER, e.span, e.op, left, right)
        if isinstance(e, BoolOp):
            operands = [self.expr(o) for o in e.operands]
            good = [o for o in operands if o is not None and self.want(o, BOOL, _q(e.op))]
            if len(good) != len(operands):
                return None
            return TBool(BOOL, e.span, e.op, tuple(good))
        if isinstance(e, Compare):
            return self.compare(e)
        if isinstance(e, Call):
            return self.call(e)
        return self.ifexp(e)

    def want(self, node: TypedExpr, t: Type, what: Text) -> bool:
        if node.type == t:
            return True
        self.mismatch(what, t, node)
        return False

    # --- names ----------------------------------------------------------------------------------
    def name(self, e: Name) -> TypedExpr | None:
        name = e.id
        chosen: TypedExpr | None = None
        kinds: list[str] = []
        for scope in range(len(self.scopes) - 1, 0, -1):
            spec = self.record(self.scopes[scope])
            if spec is None:
                continue
            if name == AGE and self._has_birth(spec):
                names = spec.roles
                birth = names[roles.BIRTH_DATE]
                age = TAge(
                    NUMBER,
                    e.span,
                    scope,
                    birth,
                    names.get(roles.RECORDED_AGE),
                    names.get(roles.AGE_RECORDED_ON),
                )
                chosen = chosen or age
                kinds.append("item")
                break
            field = spec.fields.get(name)
            if field is not None:
                chosen = chosen or TField(field_type(field), e.span, scope, (name,))
                kinds.append("item")
                break
        if name in self.env.parameters:
            if chosen is None:
                chosen = TParam(self.env.parameters[name], e.span, name)
                self.params_seen.add(name)
            kinds.append("parameter")
        if name in self.env.facts:
            if chosen is None:
                chosen = TFact(self.env.facts[name], e.span, name)
                self.facts_seen.add(name)
            kinds.append("fact")
        root = self.record(self.env.root)
        if root is not None and name in root.fields:
            if chosen is None:
                chosen = TField(field_type(root.fields[name]), e.span, 0, (name,))
            if kinds != ["item"]:
                kinds.append("field")
        if chosen is None and name == AS_OF:
            chosen = TAsOf(DATE, e.span)
        if chosen is None and name == self.env.root:
            chosen = TField(RecordT(self.env.root), e.span, 0, ())
        if chosen is None:
            self.unknown_name(e)
            return None
        if len(kinds) > 1 and kinds[:2] != ["item", "field"]:
            self.report(
                "type/ambiguous-name",
                e.span,
                {
                    "name": name,
                    "chosen": _MEANINGS[kinds[0]],
                    "other": _MEANINGS[kinds[1]],
                    "root": self.env.root,
                },
            )
        return chosen

    @staticmethod
    def _has_birth(spec: RecordSpec) -> bool:
        birth = spec.fields.get(spec.roles.get(roles.BIRTH_DATE, ""))
        return birth is not None and birth.kind == "date"

    def visible_names(self) -> list[str]:
        names: list[str] = []
        for scope in range(len(self.scopes) - 1, 0, -1):
            spec = self.record(self.scopes[scope])
            if spec is not None:
                names.extend(spec.fields)
                if self._has_birth(spec):
                    names.append(AGE)
        names.extend(self.env.parameters)
        names.extend(self.env.facts)
        root = self.record(self.env.root)
        if root is not None:
            names.extend(root.fields)
        names.extend((AS_OF, self.env.root))
        return names

    def title_matches(self, name: str) -> list[str]:
        """Field paths whose zh or en title is (close to) `name`: ``人均纯收入`` → ``income.per_capita``."""
        titles: dict[str, str] = {}
        records = [(self.env.root, "")]
        records.extend((self.scopes[k], "") for k in range(len(self.scopes) - 1, 0, -1))
        for record, prefix in records:
            if record not in self.schema.records:
                continue
            for path, spec in self.schema.field_paths(record, prefix):
                for title in (spec.title.zh, spec.title.en):
                    titles.setdefault(title, path)
                    titles.setdefault(title.casefold(), path)
        folded = name.casefold()
        if folded in titles:
            return [titles[folded]]
        return [titles[t] for t in suggest(name, titles, limit=2)]

    def unknown_name(self, e: Name) -> None:
        suggestions = list(suggest(e.id, self.visible_names()))
        for path in self.title_matches(e.id):
            if path not in suggestions:
                suggestions.insert(0, path)
        if len(self.scopes) > 1:
            item = self.scopes[-1]
            scope = Text(
                zh=f"列表项（`{item}`）的字段、参数、派生事实、农户的字段或 `{AS_OF}`",
                en=f"a field of the item (`{item}`), a parameter, a fact, a field of `{self.env.root}` or `{AS_OF}`",
            )
        else:
            scope = Text(
                zh=f"`{self.env.root}` 的字段、参数、派生事实或 `{AS_OF}`",
                en=f"a field of `{self.env.root}`, a parameter, a fact or `{AS_OF}`",
            )
        self.report("type/unknown-name", e.span, {"name": e.id, "scope": scope}, tuple(suggestions[:3]))

    def attribute(self, e: Attribute) -> TypedExpr | None:
        base = self.expr(e.value)
        if base is None:
            return None
        if not (isinstance(base, TField) and isinstance(base.type, RecordT)):
            self.report(
                "type/mismatch",
                base.span,
                {
                    "what": _q("." + e.attr),
                    "expected": Text(zh="记录", en="a record"),
                    "found": describe_type(base.type),
                },
            )
            return None
        spec = self.record(base.type.name)
        if spec is None:
            return None
        field = spec.fields.get(e.attr)
        if field is None:
            suggestions = list(suggest(e.attr, spec.fields))
            for path in self._titles_in(spec, e.attr):
                if path not in suggestions:
                    suggestions.insert(0, path)
            self.report(
                "type/unknown-field",
                e.attr_span,
                {"record": spec.name, "field": e.attr},
                tuple(suggestions[:3]),
            )
            return None
        return TField(field_type(field), e.span, base.scope, (*base.path, e.attr))

    @staticmethod
    def _titles_in(spec: RecordSpec, name: str) -> list[str]:
        folded = name.casefold()
        return [f for f, s in spec.fields.items() if folded in (s.title.zh.casefold(), s.title.en.casefold())]

    # --- comparisons ----------------------------------------------------------------------------
    def coerce(self, node: TypedExpr, to: Type) -> TypedExpr | None:
        """`node` as a value of `to` when it already is one, or is a text literal naming an enum value."""
        if node.type == to:
            return node
        if isinstance(to, EnumT) and isinstance(node, TConst) and node.type == STRING:
            enum = self.schema.enums.get(to.name)
            if enum is None:
                return None
            code = enum.canonical(str(node.value))
            if code is None:
                values = ", ".join(f"`{c}` ({enum.value(c).title.zh})" for c in enum.codes)
                labels = [*enum.codes, *(v.title.zh for v in enum.values), *(v.title.en for v in enum.values)]
                self.report(
                    "type/unknown-enum-value",
                    node.span,
                    {"value": node.value, "enum": to.name, "values": values},
                    tuple(dict.fromkeys(enum.canonical(s) or s for s in suggest(str(node.value), labels))),
                )
                return None
            return TConst(to, node.span, code)
        return None

    def compare(self, e: Compare) -> TypedExpr | None:
        typed: list[TypedExpr | None] = []
        for i, operand in enumerate(e.operands):
            if isinstance(operand, ListLit) and i > 0 and e.ops[i - 1] in ("in", "not in"):
                typed.append(None)  # checked with its left operand below
            else:
                typed.append(self.expr(operand))
        ok = True
        for i, op in enumerate(e.ops):
            left, right = typed[i], typed[i + 1]
            raw_right = e.operands[i + 1]
            if op in ("in", "not in"):
                if left is None:
                    ok = False
                    continue
                if isinstance(raw_right, ListLit):
                    tset = self.list_literal(raw_right, left)
                    if tset is None:
                        ok = False
                        continue
                    typed[i + 1] = tset
                    continue
                if right is None:
                    ok = False
                    continue
                if not isinstance(right.type, SetT):
                    self.report(
                        "type/mismatch",
                        right.span,
                        {
                            "what": _q(op),
                            "expected": Text(zh="列表或集合", en="a list or a set"),
                            "found": describe_type(right.type),
                        },
                    )
                    ok = False
                    continue
                new_left = self.coerce(left, right.type.element)
                if new_left is None:
                    if not any(d.location == left.span for d in self.diagnostics):
                        self.incomparable(op, left, right.type.element, left.span)
                    ok = False
                    continue
                typed[i] = new_left
                continue
            if left is None or right is None:
                ok = False
                continue
            if op in ("<", "<=", ">", ">="):
                if left.type != right.type or not isinstance(left.type, _ORDERED):
                    self.incomparable(op, left, right.type, e.span, ordering=True)
                    ok = False
                continue
            if isinstance(left.type, RecordT | ListT | SetT) or isinstance(
                right.type, RecordT | ListT | SetT
            ):
                self.incomparable(op, left, right.type, e.span)
                ok = False
                continue
            new_right = self.coerce(right, left.type)
            if new_right is not None:
                typed[i + 1] = new_right
                continue
            new_left = self.coerce(left, right.type)
            if new_left is not None:
                typed[i] = new_left
                continue
            if not self.diagnostics or self.diagnostics[-1].code != "type/unknown-enum-value":
                self.incomparable(op, left, right.type, e.span)
            ok = False
        if not ok:
            return None
        operands = tuple(t for t in typed if t is not None)
        return TCompare(BOOL, e.span, operands, e.ops)

    def incomparable(
        self, op: str, left: TypedExpr, right: Type, span: Span, *, ordering: bool = False
    ) -> None:
        if ordering:
            hint = Text(
                zh="`<`、`<=`、`>`、`>=` 只用于两个数字或两个日期",
                en="`<`, `<=`, `>` and `>=` compare two numbers or two dates",
            )
        else:
            hint = Text(zh="比较的两边应为同一类型", en="both sides of a comparison must have the same type")
        self.report(
            "type/incomparable",
            span,
            {"op": op, "left": describe_type(left.type), "right": describe_type(right), "hint": hint},
        )

    def list_literal(self, lit: ListLit, left: TypedExpr) -> TSet | None:
        element = left.type
        if isinstance(element, RecordT | ListT | SetT):
            self.incomparable("in", left, SetT(STRING), lit.span)
            return None
        items: list[TypedExpr] = []
        ok = True
        for raw in lit.items:
            item = self.expr(raw)
            if item is None:
                ok = False
                continue
            coerced = self.coerce(item, element)
            if coerced is None:
                if not self.diagnostics or self.diagnostics[-1].code != "type/unknown-enum-value":
                    self.mismatch(Text(zh="`in` 后的列表", en="the list after `in`"), element, item)
                ok = False
                continue
            items.append(coerced)
        return TSet(SetT(element), lit.span, tuple(items)) if ok else None

    # --- calls ----------------------------------------------------------------------------------
    def arity(self, e: Call, low: int, high: int) -> bool:
        if low <= len(e.args) <= high:
            return True
        expected = (
            Text(zh=f"{low} 个参数", en=f"{low} argument{'s' * (low != 1)}")
            if low == high
            else Text(zh=f"{low} 或 {high} 个参数", en=f"{low} or {high} arguments")
        )
        self.report("type/bad-arity", e.span, {"func": e.func, "expected": expected, "found": len(e.args)})
        return False

    def call(self, e: Call) -> TypedExpr | None:
        func = e.func
        if func in OUTCOME_FUNCTIONS:
            return self.outcome_call(e)
        if func not in FUNCTIONS:
            known = (*FUNCTIONS, "date", *(OUTCOME_FUNCTIONS if self.env.outcome else ()))
            self.report("type/unknown-function", e.func_span, {"name": func}, suggest(func, known))
            return None
        if func in AGGREGATES:
            return self.aggregate(e)
        if func == "present":
            if not self.arity(e, 1, 1):
                return None
            arg = self.expr(e.args[0])
            if arg is None:
                return None
            if not isinstance(arg, TField) or not arg.path:
                self.report("type/not-a-field", arg.span, {"found": describe_type(arg.type)})
                return None
            return TPresent(BOOL, e.span, arg)
        if func == "years_between":
            if not self.arity(e, 2, 2):
                return None
            args = [self.expr(a) for a in e.args]
            good = [a for a in args if a is not None and self.want(a, DATE, _q(func))]
            if len(good) != 2:
                return None
            return TCall(NUMBER, e.span, "years_between", tuple(good))
        if func == "held_on":
            return self.held_on(e)
        if func in ("years_after", "months_after"):
            return self.shift(e)
        if func == "year":
            if not self.arity(e, 1, 1):
                return None
            arg = self.expr(e.args[0])
            if arg is None or not self.want(arg, DATE, _q(func)):
                return None
            return TCall(NUMBER, e.span, "year", (arg,))
        # within(d, start, end)
        if not self.arity(e, 3, 3):
            return None
        args = [self.expr(a) for a in e.args]
        if any(a is None for a in args):
            return None
        present = [a for a in args if a is not None]
        first = present[0].type
        if not isinstance(first, _ORDERED):
            self.mismatch(_q(func), Text(zh="日期或数字", en="a date or a number"), present[0])
            return None
        if not all(self.want(a, first, _q(func)) for a in present[1:]):
            return None
        return TCall(BOOL, e.span, "within", tuple(present))

    def shift(self, e: Call) -> TypedExpr | None:
        """``years_after(n, d)``, ``months_after(n, d)``: the day `n` whole years or months after
        date `d`, typed with the pack's `missing_day` rule as a third argument."""
        func = e.func
        if not self.arity(e, 2, 2):
            return None
        count, day = e.args
        unit = Text(
            zh="年" if func == "years_after" else "月", en="years" if func == "years_after" else "months"
        )
        if not (
            isinstance(count, Literal) and isinstance(count.value, int) and not isinstance(count.value, bool)
        ):
            self.report("type/whole-number", count.span, {"name": func, "unit": unit})
            return None
        typed_day = self.expr(day)
        if typed_day is None or not self.want(typed_day, DATE, _q(func)):
            return None
        rule = self.env.missing_day
        if rule is None:
            self.report("type/missing-day-rule", e.func_span, {"name": func})
            return None
        return TCall(
            DATE,
            e.span,
            func,  # type: ignore[arg-type]  # years_after or months_after
            (TConst(NUMBER, count.span, count.value), typed_day, TConst(STRING, e.func_span, rule)),
        )

    def outcome_call(self, e: Call) -> TypedExpr | None:
        """``rule("id")``, ``criterion("id")``, ``granted("measure")`` (true, false or unknown)
        ``verdict()`` / ``verdict("pack")`` (a verdict as text) and ``buffer()`` (the buffer's
        state as text), in an invariant or a statistics indicator only."""
        func = e.func
        if not self.env.outcome:
            self.report("type/outcome-function", e.func_span, {"name": func})
            return None
        low, high = (0, 0) if func == "buffer" else (0 if func == "verdict" else 1, 1)
        if not self.arity(e, low, high):
            return None
        args = []
        for arg in e.args:
            if not (isinstance(arg, Literal) and isinstance(arg.value, str)):
                self.report("type/outcome-name", arg.span, {"name": func})
                return None
            args.append(TConst(STRING, arg.span, arg.value))
        text = func in ("verdict", "buffer")
        return TCall(STRING if text else BOOL, e.span, func, tuple(args))  # type: ignore[arg-type]  # one of OUTCOME_FUNCTIONS

    def held_on(self, e: Call) -> TypedExpr | None:
        """``held_on(list, d)``: the items of a history list held on date `d`."""
        if not self.arity(e, 2, 2):
            return None
        source = self.expr(e.args[0])
        day = self.expr(e.args[1])
        if source is None or day is None:
            return None
        spec = self.env.schema.records.get(source.type.name) if isinstance(source.type, ListT) else None
        dates = (
            ()
            if spec is None
            else tuple(spec.roles.get(r, "") for r in (roles.SUPPORT_START, roles.SUPPORT_END))
        )
        dated = spec is not None and all(
            name in spec.fields and spec.fields[name].kind == "date" for name in dates
        )
        if not dated:
            self.report("type/not-a-history", source.span, {"found": describe_type(source.type)})
            return None
        if not self.want(day, DATE, _q("held_on")):
            return None
        return TCall(source.type, e.span, "held_on", (source, day), dates)

    def aggregate(self, e: Call) -> TypedExpr | None:
        func: Lit["any", "all", "count", "sum", "min", "max"] = e.func  # type: ignore[assignment]
        low = 1 if func == "count" else 2
        if not self.arity(e, low, 2):
            return None
        source = self.expr(e.args[0])
        if source is None:
            return None
        if not isinstance(source.type, ListT):
            self.report("type/not-a-list", source.span, {"func": func, "found": describe_type(source.type)})
            return None
        if len(e.args) == 1:
            return TAggregate(NUMBER, e.span, func, source, None, 0)
        self.scopes.append(source.type.name)
        scope = len(self.scopes) - 1
        try:
            body = self.expr(e.args[1])
        finally:
            self.scopes.pop()
        if body is None:
            return None
        if func in ("any", "all", "count"):
            if not self.want(body, BOOL, _q(func)):
                return None
            return TAggregate(NUMBER if func == "count" else BOOL, e.span, func, source, body, scope)
        if func == "sum":
            if not self.want(body, NUMBER, _q(func)):
                return None
            return TAggregate(NUMBER, e.span, func, source, body, scope)
        if not isinstance(body.type, _ORDERED):
            self.mismatch(_q(func), Text(zh="数字或日期", en="a number or a date"), body)
            return None
        return TAggregate(body.type, e.span, func, source, body, scope)

    def ifexp(self, e: IfExp) -> TypedExpr | None:
        cond = self.expr(e.cond)
        then = self.expr(e.then)
        orelse = self.expr(e.orelse)
        if cond is not None and not self.want(cond, BOOL, Text(zh="`if` 的条件", en="the condition of `if`")):
            cond = None
        if then is None or orelse is None or cond is None:
            return None
        new_else = self.coerce(orelse, then.type)
        if new_else is not None:
            return TIf(then.type, e.span, cond, then, new_else)
        new_then = self.coerce(then, orelse.type)
        if new_then is not None:
            return TIf(orelse.type, e.span, cond, new_then, orelse)
        if not self.diagnostics or self.diagnostics[-1].code != "type/unknown-enum-value":
            self.mismatch(Text(zh="`else` 分支", en="the `else` branch"), then.type, orelse)
        return None
