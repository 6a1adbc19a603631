"""Why a condition came out true or false: the parts of the expression that decide it.

`why(texpr, ctx, want)` walks a checked condition whose value is `want` (a definite true or
false) and returns the `Reason`: the smallest set of comparisons and readings that, on their own
values, give the condition that value — through ``not``, ``and``/``or`` (the operand that decides,
or all of them when every one is needed), facts (their own expressions, about the subject) and
``if``.  A quantifier is explained by its **witness**: ``any(list, p)`` is true because of the
first item for which ``p`` holds, ``all(list, p)`` is false because of the first item for which it
does not, and the reason names that item (``members[2]``) with the parts of ``p`` that decide it
*for that item*.  ``any`` false and ``all`` true are explained as a whole (no item, every item).

It re-evaluates the parts it names with the reference interpreter (no trace), so it is meant for
the few decisions someone reads, never for a bulk run.
"""

from __future__ import annotations

import attrs

from gspolicy.lang.interpret import Context, Interpreter
from gspolicy.lang.typed import (
    TAggregate,
    TBool,
    TCompare,
    TFact,
    TField,
    TIf,
    TNot,
    TParam,
    TPresent,
    TypedExpr,
)
from gspolicy.lang.values import Unknown, Value

__all__ = ["Part", "Reason", "why"]

_MAX_PARTS = 6  # a reason names at most this many parts, then says how many more there are


@attrs.frozen
class Part:
    """One part of a reason: a comparison (`op` and `operands`, the values compared, a chain
    giving one operand more than it has operators), a reading of a true/false field (`path`), a
    quantifier as a whole (`op` ``any``/``all``, `count` items) or any other condition (`text`),
    with the value it has (`value`) and the item it was evaluated for (`item`, "" for the subject).
    """

    text: str  # the source text of the part, on one line
    value: bool
    item: str = ""
    op: tuple[str, ...] = ()
    operands: tuple[Value, ...] = ()
    path: str = ""
    count: int | None = None
    # what each operand is, for showing its value in its unit: ``field:<data path>``,
    # ``fact:<name>``, ``param:<name>`` or "" (anything else)
    names: tuple[str, ...] = ()


@attrs.frozen
class Reason:
    """The parts that decide a condition, and the witness items of its quantifiers (outermost
    first: ``("members[2]",)``); `more` counts the parts left out of a long reason."""

    parts: tuple[Part, ...]
    witnesses: tuple[str, ...] = ()
    more: int = 0
    # the facts the reason goes through, outermost first, each with the value it has
    facts: tuple[tuple[str, bool], ...] = ()


def why(texpr: TypedExpr, ctx: Context, want: bool) -> Reason:
    """The parts of `texpr` that make it `want` on `ctx` (see the module's docstring).

    Evaluated with `ctx` but never traced; a part that is not definitely `want` is not named (an
    unknown operand never explains a definite value).
    """
    walk = _Walk(ctx)
    walk.explain(texpr, want, "")
    parts = walk.parts
    return Reason(
        tuple(parts[:_MAX_PARTS]),
        tuple(walk.witnesses),
        max(0, len(parts) - _MAX_PARTS),
        tuple(walk.facts),
    )


def _line(texpr: TypedExpr) -> str:
    return " ".join(texpr.span.text.split())


class _Walk:
    def __init__(self, ctx: Context) -> None:
        self.run = Interpreter(attrs.evolve(ctx, trace=None))
        self.parts: list[Part] = []
        self.witnesses: list[str] = []
        self.facts: list[tuple[str, bool]] = []

    def value(self, node: TypedExpr) -> Value:
        return self.run.eval(node)

    def explain(self, node: TypedExpr, want: bool, item: str) -> None:
        if isinstance(node, TNot):
            self.explain(node.operand, not want, item)
        elif isinstance(node, TBool):
            self.boolean(node, want, item)
        elif isinstance(node, TFact):
            self.fact(node, want)
        elif isinstance(node, TIf):
            cond = self.value(node.cond)
            if isinstance(cond, bool):
                self.explain(node.then if cond else node.orelse, want, item)
            else:
                self.parts.append(Part(_line(node), want, item))
        elif isinstance(node, TAggregate) and node.func in ("any", "all") and node.body is not None:
            self.quantifier(node, want, item)
        elif isinstance(node, TCompare):
            self.compare(node, want, item)
        elif isinstance(node, TField):
            _raw, path = self.run.walk(node)
            self.parts.append(Part(_line(node), want, item, path=path))
        elif isinstance(node, TPresent):
            _, path = self.run.walk(node.field)
            self.parts.append(Part(_line(node), want, item, path=path))
        else:
            self.parts.append(Part(_line(node), want, item))

    def boolean(self, node: TBool, want: bool, item: str) -> None:
        # `and` false / `or` true: the first operand that decides; else every operand is needed
        decisive = node.op == "or"
        if want is decisive:
            for operand in node.operands:
                if self.value(operand) is want:
                    self.explain(operand, want, item)
                    return
        for operand in node.operands:
            self.explain(operand, want, item)

    def fact(self, node: TFact, want: bool) -> None:
        expr = self.run.ctx.facts.get(node.name)
        if expr is None or node.name in self.run.active:
            self.parts.append(Part(node.name, want))
            return
        self.facts.append((node.name, want))
        saved = self.run.scopes
        self.run.scopes = saved[:1]  # a fact is about the subject, wherever it is used
        self.run.active.add(node.name)
        try:
            self.explain(expr, want, "")
        finally:
            self.run.active.discard(node.name)
            self.run.scopes = saved

    def quantifier(self, node: TAggregate, want: bool, item: str) -> None:
        assert node.body is not None
        records, path = self.run.items(node)
        if isinstance(records, Unknown):
            self.parts.append(Part(_line(node), want, item))
            return
        # any() true and all() false have a witness: the first item that decides it
        witness = (node.func == "any") is want
        saved = self.run.scopes
        try:
            for index, record in enumerate(records):
                where = self.run.item_path(path, index, record)
                self.run.scopes = [*saved[: node.scope], (record, where)]
                if witness and self.value(node.body) is want:
                    self.witnesses.append(where)
                    self.explain(node.body, want, where)
                    return
        finally:
            self.run.scopes = saved
        self.parts.append(Part(_line(node), want, item, op=(node.func,), count=len(records)))

    def name(self, node: TypedExpr) -> str:
        if isinstance(node, TField):
            return "field:" + self.run.walk(node)[1]
        if isinstance(node, TFact):
            return "fact:" + node.name
        if isinstance(node, TParam):
            return "param:" + node.name
        return ""

    def compare(self, node: TCompare, want: bool, item: str) -> None:
        left = self.value(node.operands[0])
        values: list[Value] = [left]
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            right = self.value(right_node)
            values.append(right)
            link = TCompare(node.type, node.span, (node.operands[len(values) - 2], right_node), (op,))
            if not want and self.run.eval(link) is False:
                # a chain is a conjunction: the first link that fails is the reason
                start = node.operands[len(values) - 2].span
                text = " ".join(start.cover(right_node.span).text.split())
                names: tuple[str, ...] = (self.name(node.operands[len(values) - 2]), self.name(right_node))
                self.parts.append(Part(text, False, item, (op,), (values[-2], right), names=names))
                return
        names = tuple(self.name(n) for n in node.operands)
        self.parts.append(Part(_line(node), want, item, tuple(node.ops), tuple(values), names=names))
