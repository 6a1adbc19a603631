"""The watched lowering, for coverage: a pack lowered for one date with chosen expressions watched,
giving every evaluation of each (its value and its conditions' values), with no trace."""

import datetime as dt
from collections.abc import Callable, Sequence

from gspolicy.engine.frame import Fn, Frame
from gspolicy.engine.lowering import Builder
from gspolicy.lang.typed import TypedExpr
from gspolicy.lang.values import Unknown, Value
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = ["NOT_EVALUATED", "Evaluation", "lower_watched"]

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
    reach (an and stopped at a false operand).  A node is matched by identity (the very node of
    the pack's checked tree), as a trace event names its node; only the evaluations within the first condition that evaluates a watched
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
        frame = Frame(record)
        for condition in conditions:
            condition(frame)
            builder.condition_done()
        return builder.found

    return run


class _Watching(Builder):
    """A `Builder` whose lowered watched nodes (by identity) record their values (the
    state of one record's run: `start` resets it)."""

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

        def watched(f: Frame) -> Value:
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
