"""The columnar plan's second back end: the compact table of a run computed by Spark `Column`
expressions in the JVM, with no Python worker (`spark_table`).

The table is the Polars run's (`gspolicy.columnar.polars_backend.run_plans`), column for column:
per plan index ``k`` and condition, ``k|<condition>`` (the value; null: unknown), ``k|<condition>|s<n>``
and ``|i<n>`` (what would settle it, as 64-bit words: a Spark ``LongType`` holds the bits of the
Polars ``UInt64``), a retained list's ``k|br`` and ``k|br|sel``, a named number's ``|lo`` and
``|hi``; and ``__fallback``, true for a household the columns cannot hold exactly.  The
households' id column (the schema's key field) stands for the Polars table's ``__row``.

Households come as a DataFrame in the nested layout (one row a household, its lists as arrays of
structs: `gspolicy.spark.lower_read` reads their cells).  A node of the household is a column
computed once, in the projection of its level; an aggregate's body is an expression inside a
``transform`` over the list's array, folded by ``exists``, ``forall``, ``filter`` and
``aggregate`` (`gspolicy.spark.lower_aggregates`).  Bits of an item field are laid out as the
Polars run lays them out (`item_width`: the longest list, rounded up to a power of two), so the
column names and words are the same.

A pack whose plan did not lower, or holds a construct this back end does not carry, is listed by
`spark_fallback` (without running Spark) and has no columns here; a construct found only while
lowering (a field held in a Spark type that cannot hold it) raises `SparkNotLowered` naming the
pack and the construct."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gspolicy.columnar.frames import MAX_ITEMS, SCALES, children
from gspolicy.columnar.plan import (
    WORD_BITS,
    Aggregate,
    Arith,
    Const,
    FactRef,
    Field,
    If,
    Neg,
    Node,
    NotLowered,
    PackPlan,
    Range,
    Unknowable,
)
from gspolicy.columnar.polars_backend import condition_roots
from gspolicy.columnar.run import Run
from gspolicy.spark.lower_aggregates import Lowering
from gspolicy.spark.lower_columns import DIGITS, any_of, decimal_type, scale_of
from gspolicy.spark.lower_nodes import FACTOR

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["FALLBACK", "SparkNotLowered", "item_width", "spark_fallback", "spark_table"]

FALLBACK = "__fallback"


class SparkNotLowered(Exception):
    """A construct the Spark lowering does not carry, in `pack` (None: the households' columns)."""

    def __init__(self, pack: str | None, reason: str) -> None:
        super().__init__(f"{pack or 'the households'}: {reason}")
        self.pack = pack
        self.reason = reason


# -- what falls back, without Spark ----------------------------------------------------------------


class _Check:
    """The constructs of one plan the Spark lowering refuses, found by a walk over its nodes."""

    def __init__(self, plan: PackPlan) -> None:
        self.plan = plan
        self.scales: dict[Node, int] = {}

    def scale(self, node: Node) -> int:
        """The decimal places of a number node, as the lowering gives them."""
        found = self.scales.get(node)
        if found is not None:
            return found
        out = 0
        if isinstance(node, Const) and isinstance(node.value, int | Decimal) and node.kind == "num":
            out = scale_of(node.value)
        elif isinstance(node, Range):
            out = max((scale_of(x) for x in (node.low, node.high) if x.is_finite()), default=0)
        elif isinstance(node, Field) and node.kind == "num":
            out = self._field_scale(node)
        elif isinstance(node, Arith):
            a, b = self.scale(node.left), self.scale(node.right)
            out = a + b if node.op == "*" else max(a, b)
        elif isinstance(node, Neg):
            out = self.scale(node.operand)
        elif isinstance(node, If):
            out = max(self.scale(node.then), self.scale(node.orelse))
        elif isinstance(node, Aggregate) and node.func in ("sum", "min", "max") and node.body is not None:
            out = self.scale(node.body)
        elif isinstance(node, FactRef):
            out = self.scale(self.plan.facts[node.name])
        self.scales[node] = out
        return out

    def _field_scale(self, node: Field) -> int:
        schema = self.plan.pack.schema
        record = schema.records[self.plan.pack.subject]
        if node.scope == 1:
            return max(
                (SCALES.get(s.kind, 0) for s in _item_specs(schema, record, node.path)),
                default=0,
            )
        spec = schema.field_at(record, node.path)
        return SCALES.get(spec.kind, 0) if spec is not None else 0

    def reason(self, node: Node) -> str | None:
        if isinstance(node, Unknowable) and node.kind not in ("bool", "num", "date", "text", "set"):
            return f"an unknown value of kind {node.kind}"
        if isinstance(node, Const) and node.kind not in ("bool", "num", "date", "text", "set"):
            return f"a constant of kind {node.kind}"
        if isinstance(node, Arith):
            for side in (node.left, node.right):
                if isinstance(side, Range) and (side.low.is_infinite() or side.high.is_infinite()):
                    return "arithmetic on an open range"
            if node.op == "*":
                a, b = self.scale(node.left), self.scale(node.right)
                if a + b > DIGITS or DIGITS - 1 - max(FACTOR, a + 1) < b + 1:
                    return "a product with more decimal places than a decimal column holds"
        return None

    def first(self) -> str | None:
        roots = [n for _name, n in condition_roots(self.plan)] + list(self.plan.facts.values())
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            why = self.reason(node)
            if why is not None:
                return why
            stack.extend(children(node))
        return None


def _item_specs(schema: Any, record: Any, path: tuple[str, ...]) -> Iterable[Any]:
    """The specs of item field `path` in every list of `record` (a body's list is not in its
    `Field`: every list with such a field is looked at, the largest scale taken)."""
    for spec in record.fields.values():
        if spec.kind == "list" and spec.record in schema.records:
            found = schema.field_at(schema.records[spec.record], path)
            if found is not None:
                yield found


def spark_fallback(run: Run) -> tuple[tuple[str, str], ...]:
    """The packs of `run` the Spark lowering leaves to the per-batch runner, each with why: those
    whose plan did not lower (`Run.fallback_packs`) and those holding a construct this back end
    does not carry.  No Spark is started."""
    out = list(run.fallback_packs)
    for plan in run.plans:
        if plan.fallback is None:
            why = _Check(plan).first()
            if why is not None:
                out.append((plan.pack.key, why))
    return tuple(out)


# -- the table ---------------------------------------------------------------------------------------


def item_width(run: Run, households: DataFrame) -> int:
    """Bits an item field takes in a word, as the Polars run lays them out on these households:
    the longest list the run reads (of at most `MAX_ITEMS` items), rounded up to a power of two
    (one Spark job)."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    lists = [p for p in run.columns.lists if p[0] in households.columns]
    if not lists:
        return 1
    sizes = []
    for path in lists:
        column = f.col(path[0])
        for part in path[1:]:
            column = column.getField(part)
        size = f.coalesce(f.size(column), f.lit(0))
        sizes.append(f.max(f.when(size <= MAX_ITEMS, size).otherwise(f.lit(0))))
    longest = households.agg(
        f.greatest(*sizes, f.lit(1)) if len(sizes) > 1 else f.greatest(sizes[0], f.lit(1))
    )
    found = longest.first()
    most = int(found[0]) if found is not None and found[0] is not None else 1
    width = 1
    while width < max(most, 1):
        width *= 2
    return width


def spark_table(run: Run, households: DataFrame, *, width: int | None = None) -> DataFrame:
    """The compact table of `run` on `households` (see the module doc): the id column,
    `FALLBACK` and every condition's columns of every pack not in `spark_fallback`.  `width`:
    the item bits' layout (`item_width`, computed by a Spark job when not given)."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    if width is None:
        width = item_width(run, households)
    if WORD_BITS % width:
        raise ValueError(f"an item width of {width} bits does not divide a {WORD_BITS}-bit word")
    schema = run.schema
    key = schema.records[run.record_type].key or "id"
    if key not in households.columns:
        raise SparkNotLowered(None, f"the households have no id column `{key}`")
    left = {k for k, _why in spark_fallback(run)}
    lowering = Lowering(run.plans, run.keys, schema, run.record_type, width)
    lowering.bind(households, run.columns)
    try:
        unfit = lowering.unfit(run.columns)
    except NotLowered as why:
        raise SparkNotLowered(None, str(why)) from None
    outputs: list[Column] = []
    for index, plan in enumerate(run.plans):
        if plan.fallback is not None or plan.pack.key in left:
            continue
        try:
            outputs += _outputs(lowering, index, plan)
        except NotLowered as why:
            raise SparkNotLowered(plan.pack.key, str(why)) from None
    frame = lowering.flush(households)
    flags = [*unfit, *(g for g, _depth in lowering.guards)]
    fallback = any_of(flags)
    flag = f.coalesce(fallback, f.lit(False)) if fallback is not None else f.lit(False)
    return frame.select(f.col(key), flag.alias(FALLBACK), *outputs)


def _outputs(lowering: Lowering, index: int, plan: PackPlan) -> list[Column]:
    from pyspark.sql import functions as f  # noqa: PLC0415

    out: list[Column] = []
    for name, root in condition_roots(plan):
        col = lowering.compile(root)
        base = f"{index}|{name}"
        if col.kind == "list":
            assert col.v is not None
            assert col.sel is not None
            out += [col.v.alias(base), col.sel.alias(f"{base}|sel")]
        elif col.kind == "num":
            for end, bound in (("lo", col.lo), ("hi", col.hi)):
                value = (
                    f.lit(None).cast(decimal_type(0))
                    if isinstance(bound, Decimal) or bound is None
                    else bound
                )
                out.append(value.alias(f"{base}|{end}"))
        else:
            assert col.v is not None, f"{base} is not a condition"
            out.append(col.v.alias(base))
        out += [e.alias(f"{base}|{c}") for c, e in col.bits.items()]
    return out
