"""A columnar plan's lists and aggregates (`any`, `all`, `count`, `sum`, `min`, `max`, a list's
`held_on` filter) over the households' arrays of structs, with Spark's higher-order functions
(`Lowering`), as the Polars back end computes them by ``group_by`` (`gspolicy.columnar.
polars_aggregates`): each item's columns in ``transform`` stages (a struct per item: the body's
value, whether it is unknown, its what-would-settle words, whether the filter holds it), then
``exists`` (Kleene's ``any``: true when an item is, else unknown when an item is), ``forall``,
``filter`` and ``aggregate`` over those structs, then the result as the Polars run finishes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gspolicy.columnar.plan import Aggregate, ListValue, NotLowered
from gspolicy.spark.lower_columns import (
    DIGITS,
    PRECISION,
    Bits,
    SCol,
    any_of,
    decimal,
    integer,
    item_bit,
    long_word,
    masked,
    no_bits,
    number,
    transform_with,
    union,
    variable,
    without_problems,
)
from gspolicy.spark.lower_nodes import ItemScope
from gspolicy.spark.lower_operators import Operators

if TYPE_CHECKING:
    from pyspark.sql import Column

__all__ = ["Lowering"]


def _or_all(items: Column, field: str) -> Column:
    """The bitwise or of a word field over the items."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    return f.aggregate(items, long_word(0), lambda acc, t: acc.bitwiseOR(t.getField(field)))


class Lowering(Operators):
    """`Operators` and the lists: an aggregate or a list value becomes row columns."""

    def list_node(self, node: Aggregate | ListValue) -> SCol:
        source = node.source
        day: SCol | None = None
        if source.held_on is not None:
            day = self.columns.get(source.held_on)
            if day is None:
                day = self.columns[source.held_on] = self.materialize(self.compile(source.held_on))
        presence = self.field_column(source.path)
        typed = self.typed_list(source.path)
        scope = ItemScope(source.path, variable("x"), variable("i"), None)
        saved, self.item = self.item, scope
        try:
            fields, body = self.item_fields(node, day)
        finally:
            self.item = saved
        last = max(scope.pending, default=0) + 1
        scope.pending[last] = list(fields.items())
        assert typed.v is not None
        items: Column = typed.v
        depth = max(scope.depth, presence.depth, typed.depth, day.depth if day is not None else 0)
        for level in sorted(scope.pending):  # a stage per level: the item's fields computed so far
            grown = scope.item
            for name, expr in scope.pending[level]:
                grown = grown.withField(name, expr)
            items, depth = self.temp(transform_with(items, scope.item, scope.index, grown), depth)
        return self.materialize(self.finish(node, items, depth, presence, day, scope, body))

    def item_fields(
        self, node: Aggregate | ListValue, day: SCol | None
    ) -> tuple[dict[str, Column], SCol | None]:
        """The columns of one item the aggregate reads (`polars_aggregates.Compiler.item_columns`)."""
        from pyspark.sql import functions as f  # noqa: PLC0415

        scope = self.item
        assert scope is not None
        source = node.source
        bit = item_bit(scope.index)
        out: dict[str, Column] = {}
        sel: Column | None = None
        if day is not None:
            assert day.v is not None
            start, end = (self.item_column((name,)) for name in source.held_fields)
            sel = f.coalesce((start <= day.v) & (end.isNull() | (day.v <= end)), f.lit(False))
            out["sel"] = sel
            out["nostart"] = f.when(start.isNull(), bit).otherwise(no_bits())
        body: SCol | None = None
        if isinstance(node, Aggregate) and node.body is not None:
            body = self.compile(node.body)
            flagged = any_of(scope.guards)
            if flagged is not None:
                flagged = f.coalesce(flagged, f.lit(False))
                out["guard"] = flagged & sel if sel is not None else flagged
        if isinstance(node, ListValue) or body is None:
            out["held"] = bit if sel is None else f.when(sel, bit).otherwise(no_bits())
            return out, body
        keep = sel if sel is not None else f.lit(True)
        func = node.func
        if body.kind == "num":
            lo, hi = body.lo, body.hi
            if not (hasattr(lo, "isNull") and hasattr(hi, "isNull")):
                raise NotLowered("an aggregate over an open range")
            assert lo is not None
            assert hi is not None
            unknown = lo.isNull()
            scale = body.scale
            lo, hi = decimal(lo, scale), decimal(hi, scale)  # type: ignore[arg-type]
            if sel is not None:
                lo, hi = f.when(sel, lo), f.when(sel, hi)
            out["lo"], out["hi"] = lo, hi
        else:
            assert body.v is not None
            unknown = body.v.isNull()
            value = body.v
            if sel is not None:
                if func == "any":
                    value = value & sel
                elif func == "all":
                    value = value | ~sel
                elif func in ("min", "max"):
                    value = f.when(sel, value)
            out["v"] = value
        held_unknown = unknown if sel is None else unknown & keep
        out["u"] = held_unknown
        factor = held_unknown if func in ("any", "all", "count") else sel
        for comp, expr in body.bits.items():
            out[f"b_{comp}"] = expr if factor is None else f.when(factor, expr).otherwise(no_bits())
        if func == "count":
            sure = f.coalesce(body.v, f.lit(False)) if body.v is not None else f.lit(False)
            out["sure"] = sure if sel is None else sure & sel
        return out, body

    def finish(
        self,
        node: Aggregate | ListValue,
        items: Column,
        depth: int,
        presence: SCol,
        day: SCol | None,
        scope: ItemScope,
        body: SCol | None,
    ) -> SCol:
        """The aggregate's value from its items' structs (`polars_aggregates.Compiler.finish`)."""
        from pyspark.sql import functions as f  # noqa: PLC0415

        source = node.source
        filtered = day is not None
        count = f.size(f.filter(items, lambda t: t.getField("sel"))) if filtered else f.size(items)
        n = f.coalesce(count, f.lit(0))
        assert presence.v is not None
        missing = presence.v.isNull() | ~presence.v
        source_bits: Bits = masked(self.subject_bits([source.key]), missing)
        unknown = missing
        if day is not None:
            assert day.v is not None
            day_unknown = day.v.isNull()
            source_bits = union(source_bits, masked(day.bits, day_unknown))
            nostart = f.coalesce(_or_all(items, "nostart"), no_bits())
            lacking = ~missing & ~day_unknown & (nostart != 0)
            assert source.start_key is not None
            word, shift = self.item_place(source.start_key)
            moved = f.shiftleft(nostart, shift) if shift else nostart
            source_bits = union(source_bits, {word: f.when(lacking, moved).otherwise(no_bits())})
            unknown = missing | day_unknown | lacking
        none_bool = f.lit(None).cast("boolean")
        if isinstance(node, ListValue):
            held = f.coalesce(_or_all(items, "held"), no_bits())
            return SCol(
                "list",
                v=f.when(unknown, none_bool).otherwise(f.lit(True)),
                bits=source_bits,
                sel=f.when(unknown, no_bits()).otherwise(held),
                depth=depth,
            )
        func = node.func
        if scope.guards:  # arithmetic past the precision in an item: the record goes to the evaluator
            self.guard(f.coalesce(f.exists(items, lambda t: t.getField("guard")), f.lit(False)), depth)
        if body is None:  # count(list)
            value = integer(f.when(unknown, f.lit(None).cast("long")).otherwise(n.cast("long")))
            return SCol("num", lo=value, hi=value, bits=source_bits, depth=depth)
        comps = sorted(body.bits)
        grouped = {c: f.coalesce(_or_all(items, f"b_{c}"), no_bits()) for c in comps}
        any_unknown = f.coalesce(f.exists(items, lambda t: t.getField("u")), f.lit(False))
        if func in ("any", "all"):
            test = f.exists if func == "any" else f.forall
            result = test(items, lambda t: t.getField("v"))
            value = f.when(unknown, none_bool).when(n == 0, f.lit(func == "all")).otherwise(result)
            bits = union(source_bits, masked(grouped, ~unknown & value.isNull()))
            return SCol("bool", v=value, bits=bits, depth=depth)
        if func == "count":
            sure = f.size(f.filter(items, lambda t: t.getField("sure")))
            maybe = f.size(f.filter(items, lambda t: t.getField("u")))
            sure, maybe = f.coalesce(sure, f.lit(0)).cast("long"), f.coalesce(maybe, f.lit(0)).cast("long")
            none_long = f.lit(None).cast("long")
            lo = integer(f.when(unknown, none_long).otherwise(sure))
            hi = integer(f.when(unknown, none_long).otherwise(sure + maybe))
            bits = union(source_bits, masked(without_problems(grouped), ~unknown & (maybe > 0)))
            return SCol("num", lo=lo, hi=hi, bits=bits, exact=False, depth=depth)
        empty_unknown = func in ("min", "max")
        if body.kind == "num":
            scale = body.scale
            lows = f.transform(items, lambda t: t.getField("lo"))
            highs = f.transform(items, lambda t: t.getField("hi"))
            if func == "sum":
                rlo, rhi = _sum(lows, scale), _sum(highs, scale)
                size = f.greatest(_abs_sum(lows), _abs_sum(highs))
                limit = float(10 ** (PRECISION - scale)) / 2
                self.guard(f.coalesce(size >= limit, f.lit(False)), depth)
                zero = decimal(number(0)[0], scale)
                rlo = f.when(n == 0, zero).otherwise(rlo)
                rhi = f.when(n == 0, zero).otherwise(rhi)
            elif func == "min":
                rlo, rhi = f.array_min(lows), f.array_min(highs)
            else:
                rlo, rhi = f.array_max(lows), f.array_max(highs)
            result_unknown = unknown | any_unknown | ((n == 0) if empty_unknown else f.lit(False))
            lo = f.when(~result_unknown, rlo)
            hi = f.when(~result_unknown, rhi)
            spread = lo.isNull() | (lo != hi)
            bits = union(source_bits, masked(grouped, ~unknown & (n > 0) & spread))
            if empty_unknown:
                assert source.name_key is not None
                bits = union(bits, masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
            return SCol("num", lo=lo, hi=hi, bits=bits, scale=scale, exact=body.exact, depth=depth)
        values = f.transform(items, lambda t: t.getField("v"))
        result = f.array_min(values) if func == "min" else f.array_max(values)
        result_unknown = unknown | any_unknown | (n == 0)
        value = f.when(~result_unknown, result)
        bits = union(source_bits, masked(grouped, ~unknown & (n > 0) & any_unknown))
        assert source.name_key is not None
        bits = union(bits, masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
        return SCol(node.kind, v=value, bits=bits, depth=depth)


def _sum(values: Column, scale: int) -> Column:
    """The sum of the items' bounds (unknown items count nothing, as Polars' ``sum`` skips them),
    each addition one digit below a decimal's 38, so that no place is lost."""
    from pyspark.sql import functions as f  # noqa: PLC0415

    zero = decimal(number(0)[0], scale)
    return f.aggregate(
        values,
        zero,
        lambda acc, x: decimal(
            decimal(acc, scale, DIGITS - 1) + decimal(f.coalesce(x, zero), scale, DIGITS - 1), scale
        ),
    )


def _abs_sum(values: Column) -> Column:
    from pyspark.sql import functions as f  # noqa: PLC0415

    return f.aggregate(
        values, f.lit(0.0), lambda acc, x: acc + f.coalesce(f.abs(x).cast("double"), f.lit(0.0))
    )
