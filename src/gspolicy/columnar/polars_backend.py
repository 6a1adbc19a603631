"""The Polars back end of the columnar plan (`gspolicy.columnar.plan`).

Every value of a plan node is a few columns (`Col`): a value column with null for unknown (a
number: a low and a high column, equal when the number is exact), what would settle it as 64-bit
sets (`Bits`: ``s0``, ``s1``… over the run's subject keys, ``i<k>`` over the items of item field
``k``), and the evaluation problems that made it unknown (another bitset).  Polars' ``&``, ``|``
and ``~`` are Kleene's, as the language's are; everything else is spelled out so that unknowns are
never skipped: ``any`` over items is unknown when an item is unknown and none is true.

The run: facts and the days of ``held_on`` filters are added to the subject frame as columns;
aggregates are computed per list in one ``group_by`` per dependency level (an aggregate whose body
reads a fact that holds an aggregate comes after it), joined back by the subject's row, so a
subject without items keeps its row; then every condition of every pack becomes output columns.

A record the columns cannot decide exactly — a number beyond what a decimal column holds, a
result past the interpreter's 34 significant digits — is flagged in ``__fallback`` and decided
by the per-record evaluator instead.

Here the run is put together (`run_plans`: the aggregates' levels, the outputs, the compact
result); the columns and where they go are `gspolicy.columnar.polars_columns`, the nodes' lowering
`gspolicy.columnar.polars_lower`, the lists and aggregates `gspolicy.columnar.polars_aggregates`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs
import polars as pl

from gspolicy.columnar.frames import Frames, children
from gspolicy.columnar.plan import Aggregate, FactRef, Keys, ListValue, Node, PackPlan
from gspolicy.columnar.polars_aggregates import Compiler
from gspolicy.columnar.polars_columns import Bound, Col, any_of

__all__ = ["Col", "Result", "condition_roots", "run_plans"]


def condition_roots(plan: PackPlan) -> list[tuple[str, Node]]:
    """Every condition of a plan with the name of its output columns."""
    out: list[tuple[str, Node]] = []
    if plan.applies is not None:
        out.append(("a", plan.applies))
    out += [(f"g|{k}", n) for k, n in plan.givens.items()]
    out += [(f"c|{k}", n) for k, n in plan.criteria.items()]
    out += [(f"r|{k}", n) for k, n in plan.rules.items()]
    if plan.buffer is not None:
        retained, active, until = plan.buffer
        out.append(("br", retained))
        out += [(f"ba|{k}", n) for k, n in active.items()]
        out += [(f"bu|{k}", n) for k, n in until.items()]
    return out


class _Levels:
    """The order aggregates are computed in: an aggregate whose list filter or body reads (through
    facts) another aggregate comes a level after it."""

    def __init__(self, facts: Mapping[tuple[str, str], Node]) -> None:
        self.facts = facts
        self.level: dict[Node, int] = {}

    def reached(self, node: Node, inside: bool = False) -> Iterable[Node]:
        """The aggregates `node` reads, not looking into them."""
        stack = [node]
        seen: set[int] = set()
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if isinstance(current, (Aggregate, ListValue)) and (current is not node or inside):
                yield current
                continue
            if isinstance(current, FactRef):
                stack.append(self.facts[(current.pack, current.name)])
                continue
            stack.extend(children(current))

    def of(self, node: Aggregate | ListValue) -> int:
        found = self.level.get(node)
        if found is None:
            deps = list(self.reached(node))
            found = 1 + max((self.of(d) for d in deps), default=0)  # type: ignore[arg-type]
            self.level[node] = found
        return found


def _bound(bound: Bound | None) -> pl.Expr:
    """A number's bound as a column: an infinite end (known when planning) is null."""
    if isinstance(bound, Decimal) or bound is None:
        return pl.lit(None, dtype=pl.Decimal(38, 0))
    return bound


@attrs.frozen
class Result:
    """The compact result of a run, and how item bits are laid out in it (`width` bits per item
    field, as many fields to a 64-bit word ``i<n>`` as fit)."""

    table: pl.DataFrame
    width: int


def run_plans(plans: Sequence[PackPlan], keys: Keys, frames: Frames) -> Result:
    """Every condition of every plan that lowered, for every subject of `frames`: a frame with
    ``__row``, ``__fallback`` and, per plan index ``k`` and condition, the columns
    ``k|<condition>`` (value), ``k|<condition>|<component>`` (what would settle it) and
    ``k|<condition>|p`` (problems); a retained list has ``k|br|sel`` (its items) instead."""
    compiler = Compiler(plans, keys, frames)
    levels = _Levels(compiler.facts)
    found: set[Node] = set()
    for plan in compiler.plans:
        for _name, root in condition_roots(plan):
            found.update(levels.reached(root, inside=True))
    # aggregates inside facts are reached through the facts
    by_level: dict[int, list[Aggregate | ListValue]] = {}
    pending = list(found)
    seen: set[Node] = set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        assert isinstance(node, (Aggregate, ListValue))
        by_level.setdefault(levels.of(node), []).append(node)
        pending.extend(levels.reached(node))
    for level in sorted(by_level):
        compiler.run_aggregates(by_level[level])
    outputs: list[pl.Expr] = []
    for index, plan in enumerate(plans):
        if plan.fallback is not None:
            continue
        for name, root in condition_roots(plan):
            col = compiler.compile(root)
            base = f"{index}|{name}"
            if col.kind == "list":
                assert col.v is not None
                assert col.sel is not None
                outputs += [col.v.alias(base), col.sel.alias(f"{base}|sel")]
            elif col.kind == "num":  # a named value of `plan_expressions`: its bounds (an open end null)
                outputs += [_bound(col.lo).alias(f"{base}|lo"), _bound(col.hi).alias(f"{base}|hi")]
            else:
                assert col.v is not None, f"{base} is not a condition"
                outputs.append(col.v.alias(base))
            outputs += [e.alias(f"{base}|{c}") for c, e in col.bits.items()]
    compiler.flush()
    fallback = any_of([pl.col("__unfit"), *compiler.guards])
    assert fallback is not None
    result = compiler.hh.with_columns(outputs).with_columns(fallback.fill_null(False).alias("__fallback"))
    names = ["__row", "__fallback", *(e.meta.output_name() for e in outputs)]
    # the in-memory engine: this plan is many columns over a frame that fits in memory
    table = result.select(names).sort("__row").collect(engine="in-memory")
    return Result(table, compiler.width)
