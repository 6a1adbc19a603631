"""Named expressions of a pack lowered as one plan (`plan_expressions`): what a statistics pack's
indicators compute per household, read by the runner like a pack's conditions.

Besides what a pack's conditions read, such expressions may read a decision's outcome and a
built-in group key's row value; both become columns of the subject frame that the caller adds:
an outcome function (``buffer()``, ``rule("id")``…) the column `outcome` names for it, a
parameter in `bound` (``by_measure``) the text column named there — null where the value is
unknown, as any field's column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from gspolicy.columnar.plan import Field, Keys, Node, NotLowered, PackPlan, Planner, kind_of
from gspolicy.lang.ast import OUTCOME_FUNCTIONS
from gspolicy.lang.typed import TCall, TConst, TParam, TypedExpr
from gspolicy.pack.typecheck import CheckedPack

__all__ = ["plan_expressions"]


class _NamedPlanner(Planner):
    def __init__(
        self,
        pack: CheckedPack,
        as_of: dt.date,
        keys: Keys,
        bound: Mapping[str, str],
        outcome: Callable[[str, str], str] | None,
    ) -> None:
        super().__init__(pack, as_of, keys)
        self.bound = dict(bound)
        self.outcome = outcome

    def parameter(self, node: TParam) -> Node:
        column = self.bound.get(node.name)
        if column is None:
            return super().parameter(node)
        return Field("text", 0, (column,), self.keys.subject_key(column))

    def call(self, node: TCall) -> Node:
        if node.func not in OUTCOME_FUNCTIONS or self.outcome is None:
            return super().call(node)
        if node.args and not isinstance(node.args[0], TConst):
            raise NotLowered(f"`{node.func}()` of a name not written out")
        name = str(node.args[0].value) if node.args and isinstance(node.args[0], TConst) else ""
        column = self.outcome(node.func, name)
        return Field(kind_of(node.type), 0, (column,), self.keys.subject_key(column))


def plan_expressions(
    pack: CheckedPack,
    as_of: dt.date,
    keys: Keys,
    exprs: Mapping[str, TypedExpr],
    *,
    bound: Mapping[str, str] | None = None,
    outcome: Callable[[str, str], str] | None = None,
) -> PackPlan:
    """`exprs` of `pack` lowered as of `as_of`, numbering keys in `keys`: a plan whose `rules`
    slot holds each expression's node by its name (the runner computes them as it computes a
    pack's rules), or the reason they could not be lowered (`PackPlan.fallback`)."""
    planner = _NamedPlanner(pack, as_of, keys, bound or {}, outcome)
    try:
        lowered = {name: planner.lower(t) for name, t in exprs.items()}
    except NotLowered as why:
        return PackPlan(pack, as_of, str(why))
    return PackPlan(pack, as_of, None, planner.facts, rules=lowered)
