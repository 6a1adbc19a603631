"""Where the Spark columns of a plan's nodes go (`NodeLowering`): a value of the households' row
is computed once into a column, in the projection of its level (`SCol.depth`: one
``withColumns`` per level, so that no expression is copied into another); a value of a list's
item is a field of the item's struct, computed in a ``transform`` over the list's array per
level (`ItemScope`: a stage per level), where the row's own columns are read directly.  The
households' cells are read once each (`gspolicy.spark.lower_read`), a list's items with their
read fields typed once.  The nodes themselves are `gspolicy.spark.lower_operators` and
`gspolicy.spark.lower_aggregates`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING, Any

import attrs

from gspolicy.columnar.frames import MAX_ITEMS, Columns
from gspolicy.columnar.plan import (
    WORD_BITS,
    Age,
    Aggregate,
    Arith,
    Compare,
    DateCall,
    DateShift,
    FactRef,
    If,
    InPool,
    Keys,
    Logic,
    Member,
    Neg,
    Node,
    Not,
    NotLowered,
    PackPlan,
)
from gspolicy.schema.model import Schema
from gspolicy.spark.lower_columns import (
    Bits,
    SCol,
    item_bit,
    long_word,
)
from gspolicy.spark.lower_read import Cell, read_cell, spark_type_at, target_type

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["COMPUTED", "ItemScope", "NodeLowering"]

COMPUTED = (Not, Logic, Compare, Member, InPool, Arith, Neg, If, Age, DateCall, DateShift)
FACTOR = 18
"""Digits (with its places) a factor of a product is held in, so that a product of two never
exceeds a decimal's 38 digits (a larger factor flags its record: `NodeLowering.arith`)."""


@attrs.define(eq=False)
class ItemScope:
    """An aggregate's body being lowered: the list, the item (a lambda variable of the stages'
    ``transform``: a struct of the item's typed fields and of those computed by earlier stages)
    and its index, and what the body reads of the row."""

    path: tuple[str, ...]
    item: Column
    index: Column
    dtype: Any
    memo: dict[Node, SCol] = attrs.field(factory=dict)
    pending: dict[int, list[tuple[str, Column]]] = attrs.field(factory=dict)  # fields by stage
    depth: int = 0  # the deepest row column the body reads
    guards: list[Column] = attrs.field(factory=list)


class NodeLowering:
    """The state of a lowering: the row's values computed once each (`materialize`), in
    projections added level by level (`flush`); the node cache; the guards that flag a record."""

    def __init__(
        self, plans: Sequence[PackPlan], keys: Keys, schema: Schema, record_type: str, width: int
    ) -> None:
        self.plans = [p for p in plans if p.fallback is None]
        self.keys = keys
        self.schema = schema
        self.spec = schema.records[record_type]
        self.width = width
        self.facts: dict[tuple[str, str], Node] = {}
        for plan in self.plans:
            for name, node in plan.facts.items():
                self.facts[(plan.pack.key, name)] = node
        self.columns: dict[Node, SCol] = {}  # facts, aggregates, held_on days, row values in bodies
        self.memo: dict[Node, SCol] = {}
        self.count = 0
        self.pending: dict[int, list[tuple[str, Column]]] = {}
        self.refs: dict[int, Column] = {}  # columns that only read a materialized column
        self.guards: list[tuple[Column, int]] = []
        self.item: ItemScope | None = None
        self.inputs: dict[tuple[str, ...], SCol] = {}
        self.cells: dict[tuple[str, ...], Cell] = {}
        self.lists: dict[tuple[str, ...], SCol] = {}
        self.item_names: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
        self.read = Columns(frozenset(), {})  # the columns the run reads (`bind`)
        self.input_type: Any = None  # the households' Spark schema (`bind`)

    def bind(self, frame: DataFrame, read: Columns) -> None:
        self.input_type = frame.schema
        self.read = read

    # -- materializing --------------------------------------------------------------------------
    def name(self) -> str:
        self.count += 1
        return f"__n{self.count}"

    def _ref(self, name: str) -> Column:
        from pyspark.sql import functions as f  # noqa: PLC0415

        ref = f.col(name)
        self.refs[id(ref)] = ref
        return ref

    def put(self, expr: Column, level: int, name: str | None = None) -> Column:
        """`expr` computed into a column of projection `level`; a column that reads it.  In an
        item scope: a field of the items' structs, computed in the ``transform`` of stage
        `level` (`gspolicy.spark.lower_aggregates`)."""
        if id(expr) in self.refs:
            return expr
        if self.item is not None:
            name = f"t{self.count}"
            self.count += 1
            self.item.pending.setdefault(level, []).append((name, expr))
            ref = self.item.item.getField(name)
            self.refs[id(ref)] = ref
            return ref
        name = name or self.name()
        self.pending.setdefault(level, []).append((name, expr))
        return self._ref(name)

    def materialize(self, col: SCol) -> SCol:
        """`col` computed into columns of the row (in an item scope: fields of the item)."""
        level = col.depth + 1
        name = self.name()
        out: dict[str, Any] = {"kind": col.kind, "scale": col.scale, "exact": col.exact, "depth": level}
        if col.kind == "num":
            same = col.lo is col.hi
            for end in ("lo",) if same else ("lo", "hi"):
                bound = getattr(col, end)
                out[end] = bound if isinstance(bound, Decimal) else self.put(bound, level, f"{name}|{end}")
            if same:
                out["hi"] = out["lo"]
        elif col.v is not None:
            out["v"] = self.put(col.v, level, f"{name}|v")
        if col.sel is not None:
            out["sel"] = self.put(col.sel, level, f"{name}|sel")
        out["bits"] = {c: self.put(e, level, f"{name}|{c}") for c, e in col.bits.items()}
        return SCol(**out)

    def temp(self, expr: Column, depth: int) -> tuple[Column, int]:
        """`expr` computed once (for a value its node reads several times)."""
        return self.put(expr, depth + 1), depth + 1

    def flush(self, frame: DataFrame) -> DataFrame:
        for level in sorted(self.pending):
            frame = frame.withColumns(dict(self.pending[level]))
        self.pending.clear()
        return frame

    def guard(self, flag: Column, depth: int) -> None:
        if self.item is not None:
            self.item.guards.append(flag)
        else:
            self.guards.append((flag, depth))

    # -- keys -----------------------------------------------------------------------------------
    @staticmethod
    def subject_bits(keys: Any) -> Bits:
        words: dict[str, int] = {}
        for key in keys:
            comp = f"s{key // WORD_BITS}"
            words[comp] = words.get(comp, 0) | (1 << (key % WORD_BITS))
        return {comp: long_word(word) for comp, word in words.items()}

    def item_place(self, component: int) -> tuple[str, int]:
        per = WORD_BITS // self.width
        return f"i{component // per}", (component % per) * self.width

    def item_bits(self, component: int) -> Bits:
        assert self.item is not None
        word, shift = self.item_place(component)
        return {word: item_bit(self.item.index, shift)}

    # -- reading the input ----------------------------------------------------------------------
    def cell(self, path: tuple[str, ...], raw: Column, dtype: Any, record: str) -> Cell:
        spec = self.schema.field_at(self.schema.records[record], path)
        if spec is None:
            raise NotLowered(f"the field `{'.'.join(path)}`, which the schema does not have")
        return read_cell(self.schema, spec, raw, dtype, ".".join(path))

    @staticmethod
    def raw(base: Column | None, path: tuple[str, ...]) -> Column:
        from pyspark.sql import functions as f  # noqa: PLC0415

        column = f.col(path[0]) if base is None else base.getField(path[0])
        for part in path[1:]:
            column = column.getField(part)
        return column

    def subject_cell(self, path: tuple[str, ...]) -> Cell:
        found = self.cells.get(path)
        if found is None:
            dtype = spark_type_at(self.input_type, path)
            found = self.cells[path] = self.cell(path, self.raw(None, path), dtype, self.spec.name)
        return found

    def item_record(self, list_path: tuple[str, ...]) -> str:
        spec = self.schema.field_at(self.spec, list_path)
        assert spec is not None
        return spec.record or ""

    def unfit(self, columns: Columns) -> list[Column]:
        """Whether each record holds a cell of `columns` its column cannot hold exactly."""
        from pyspark.sql import functions as f  # noqa: PLC0415

        out = [
            c.unfit for c in (self.subject_cell(p) for p in sorted(columns.subject)) if c.unfit is not None
        ]
        for path, fields in sorted(columns.lists.items()):
            array = self.raw(None, path)
            element = spark_type_at(self.input_type, path)
            item_type = getattr(element, "elementType", None)
            record = self.item_record(path)

            if item_type is not None:
                # more items than a word has bits (an empty list: see `lower_read`)
                size = f.size(array)
                out.append(f.coalesce((size > MAX_ITEMS) | (size == 0), f.lit(False)))
                out.append(
                    f.coalesce(f.exists(array, self._item_unfit(fields, item_type, record)), f.lit(False))
                )
        return out

    def _item_unfit(self, fields: Any, item_type: Any, record: str) -> Any:
        """Whether an item holds a cell of `fields` its column cannot hold exactly (a lambda)."""
        from pyspark.sql import functions as f  # noqa: PLC0415

        def bad(item: Column) -> Column:
            flags = [
                c.unfit
                for c in (
                    self.cell(p, self.raw(item, p), spark_type_at(item_type, p), record)
                    for p in sorted(fields)
                )
                if c.unfit is not None
            ]
            return reduce(lambda a, b: a | b, flags) if flags else f.lit(False)

        return bad

    def field_column(self, path: tuple[str, ...]) -> SCol:
        """A field of the row, read once (level 1)."""
        found = self.inputs.get(path)
        if found is None:
            cell = self.subject_cell(path)
            found = self.inputs[path] = SCol("?", v=self.put(cell.value, 1), depth=1)
        return found

    def item_column(self, path: tuple[str, ...]) -> Column:
        """An item field of the aggregate being lowered: a field of its list's typed structs."""
        scope = self.item
        assert scope is not None
        names = self.item_names[scope.path]
        if path not in names:
            raise NotLowered(
                f"the item field `{'.'.join(path)}` of `{'.'.join(scope.path)}`, which is not read"
            )
        return scope.item.getField(names[path])

    def typed_list(self, path: tuple[str, ...]) -> SCol:
        """The list at `path` with each item's read fields typed once (level 1): an array of
        structs whose fields ``f0``, ``f1``… are the item fields the run reads."""
        found = self.lists.get(path)
        if found is not None:
            return found
        from pyspark.sql import functions as f  # noqa: PLC0415

        given = spark_type_at(self.input_type, path)
        element = getattr(given, "elementType", None)
        record = self.item_record(path)
        fields = sorted(self.read.lists.get(path, frozenset()))
        names = self.item_names[path] = {p: f"f{i}" for i, p in enumerate(fields)}
        if given is None:  # no such column: no household gives the list
            specs = self.schema.records[record]
            parts = [f"{names[p]}: {target_type(self.schema.field_at(specs, p))}" for p in fields] or [
                "f: boolean"
            ]
            none = f.lit(None).cast(f"array<struct<{', '.join(parts)}>>")
            found = self.lists[path] = SCol("list", v=none, depth=0)
            return found
        if element is None:
            raise NotLowered(f"the list `{'.'.join(path)}` is not an array of structs here")

        def typed(item: Column) -> Column:
            parts = [
                self.cell(p, self.raw(item, p), spark_type_at(element, p), record).value.alias(names[p])
                for p in fields
            ]
            return f.struct(*parts) if parts else f.struct(f.lit(True).alias("f"))

        found = self.lists[path] = SCol(
            "list", v=self.put(f.transform(self.raw(None, path), typed), 1), depth=1
        )
        return found

    # -- nodes ----------------------------------------------------------------------------------
    def subject_level(self, node: Node) -> SCol:
        """A value of the row read inside an aggregate's body: computed once into row columns."""
        found = self.columns.get(node)
        if found is None:
            saved, self.item = self.item, None
            try:
                found = self.compile(node)
                if not isinstance(node, (FactRef, Aggregate, *COMPUTED)):
                    found = self.materialize(found)
                self.columns[node] = found
            finally:
                self.item = saved
        assert self.item is not None
        self.item.depth = max(self.item.depth, found.depth)
        return found

    def compile(self, node: Node) -> SCol:
        memo = self.memo if self.item is None else self.item.memo
        found = memo.get(node)
        if found is None:
            found = self.compile_node(node)
            if isinstance(node, COMPUTED):
                found = self.materialize(found)
            memo[node] = found
        return found

    def compile_node(self, node: Node) -> SCol:
        raise NotImplementedError  # `gspolicy.spark.lower_operators.Operators`
