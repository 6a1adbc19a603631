"""A columnar plan's lists and aggregates (`any`, `all`, `count`, `sum`, `min`, `max`, a list's
`held_on` filter) computed per list in one join and one `group_by`, then finished into subject
columns (`Compiler`); a subject without items keeps its row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from gspolicy.columnar.plan import Aggregate, ListSource, ListValue
from gspolicy.columnar.polars_columns import (
    PRECISION,
    U64,
    Bits,
    Col,
    any_bits,
    any_of,
    integer,
    masked,
    no_bits,
    null_of,
    number,
    union,
    without_problems,
)
from gspolicy.columnar.polars_lower import Lowering

__all__ = ["Compiler"]


class Compiler(Lowering):
    """Builds the run over the frames: `Lowering` and the aggregates, a level at a time (see the
    module doc of `gspolicy.columnar.polars_backend`)."""

    # -- lists and aggregates ---------------------------------------------------------------------
    def run_aggregates(self, level: Sequence[Aggregate | ListValue]) -> None:
        """Compute one level's aggregates: one join and one group_by per list."""
        by_list: dict[tuple[str, ...], list[Aggregate | ListValue]] = {}
        for node in level:
            by_list.setdefault(node.source.path, []).append(node)
        for path, nodes in by_list.items():
            self.run_list(path, nodes)

    def source_columns(self, source: ListSource) -> tuple[Col | None, str]:
        """The subject-level day of a `held_on` source (materialized) and the presence column."""
        day = None
        if source.held_on is not None:
            day = self.columns.get(source.held_on)
            if day is None:
                day = self.columns[source.held_on] = self.materialize(self.compile(source.held_on))
        return day, ".".join(source.path)

    def run_list(self, path: tuple[str, ...], nodes: Sequence[Aggregate | ListValue]) -> None:
        items = self.frames.items[path].lazy()
        # item columns live in this item frame only
        self.memo = {k: v for k, v in self.memo.items() if k[1] is None}
        item_exprs: list[pl.Expr] = []
        agg_exprs: list[pl.Expr] = [pl.len().alias("__items")]
        finishers: list[Callable[[], None]] = []
        broadcast: set[str] = set()
        for node in nodes:
            source = node.source
            day, presence = self.source_columns(source)
            prefix = self.name()
            selected: pl.Expr | None = None
            if day is not None:
                assert day.v is not None
                for expr in (day.v, *day.bits.values()):
                    broadcast.update(expr.meta.root_names())
                start, end = (pl.col(name) for name in source.held_fields)  # `support_start`, `_end`
                held = ((start <= day.v) & (end.is_null() | (day.v <= end))).fill_null(False)
                item_exprs.append(held.alias(f"{prefix}|sel"))
                selected = pl.col(f"{prefix}|sel")
                nostart = pl.col("__bit") * start.is_null().cast(U64)
                item_exprs.append(nostart.alias(f"{prefix}|nostart"))
                agg_exprs.append(pl.col(f"{prefix}|nostart").sum().alias(f"{prefix}|nostart"))
            body: Col | None = None
            if isinstance(node, Aggregate) and node.body is not None:
                self.item_scope, self.broadcast, self.item_guards = path, set(), []
                try:
                    body = self.compile(node.body)
                finally:
                    self.item_scope = None
                broadcast |= self.broadcast
                guards = self.item_guards
                if guards:
                    flagged = any_of(guards)
                    assert flagged is not None
                    flagged = flagged.fill_null(False)
                    if selected is not None:
                        flagged = flagged & selected
                    item_exprs.append(flagged.alias(f"{prefix}|guard"))
                    agg_exprs.append(pl.col(f"{prefix}|guard").any().alias(f"{prefix}|guard"))
            item_exprs.extend(self.item_columns(prefix, node, body, selected))
            agg_exprs.extend(self.aggregations(node, prefix, body, selected))
            guarded = isinstance(node, Aggregate) and node.body is not None and bool(self.item_guards)
            finishers.append(self.finisher(node, prefix, body, day, presence, guarded))
        self.flush()
        if broadcast:
            wanted = ["__row", *sorted(broadcast - {"__row"})]
            items = items.join(self.hh.select(wanted), on="__row", how="left")
        for level in sorted(self.pending_items):
            items = items.with_columns(self.pending_items[level])
        self.pending_items.clear()
        sels = [e for e in item_exprs if e.meta.output_name().endswith("|sel")]
        rest = [e for e in item_exprs if not e.meta.output_name().endswith("|sel")]
        if sels:  # the held_on filters first: the other item columns read them
            items = items.with_columns(sels)
        items = items.with_columns(rest)
        grouped = items.group_by("__row").agg(agg_exprs)
        self.hh = self.hh.join(grouped, on="__row", how="left")
        for finish in finishers:
            finish()

    @staticmethod
    def item_columns(
        prefix: str, node: Aggregate | ListValue, body: Col | None, selected: pl.Expr | None
    ) -> list[pl.Expr]:
        """The item-level columns an aggregate reads: its body's value on the items the list holds
        (`selected`, None when it holds all), whether it is unknown there, and what would settle
        it, kept only on the items whose gaps the aggregate names."""
        sel = selected if selected is not None else pl.lit(True)
        if isinstance(node, ListValue) or body is None:
            held = pl.col("__bit") if selected is None else pl.col("__bit") * sel.cast(U64)
            return [held.alias(f"{prefix}|held")]
        out: list[pl.Expr] = []
        func = node.func
        if body.kind == "num":
            assert isinstance(body.lo, pl.Expr)
            assert isinstance(body.hi, pl.Expr)
            unknown = body.lo.is_null()
            lo, hi = (
                (body.lo, body.hi)
                if selected is None
                else (pl.when(sel).then(body.lo), pl.when(sel).then(body.hi))
            )
            out += [lo.alias(f"{prefix}|lo"), hi.alias(f"{prefix}|hi")]
        else:
            assert body.v is not None
            unknown = body.v.is_null()
            value = body.v
            if selected is not None:
                if func == "any":
                    value = value & sel  # an item the list does not hold is false to any
                elif func == "all":
                    value = value | ~sel  # and true to all
                elif func in ("min", "max"):
                    value = pl.when(sel).then(value)
            out.append(value.alias(f"{prefix}|v"))
        unknown_held = unknown if selected is None else unknown & sel
        out.append(unknown_held.alias(f"{prefix}|u"))
        # what would settle: the unknown items' (any, all, count) or every item's (sum, min, max)
        if func in ("any", "all", "count"):
            factor: pl.Expr | None = unknown_held.cast(U64)
        else:
            factor = None if selected is None else sel.cast(U64)
        out += [(e if factor is None else e * factor).alias(f"{prefix}|b|{c}") for c, e in body.bits.items()]
        if func == "count":
            sure = body.v.fill_null(False) if body.v is not None else pl.lit(False)
            out.append((sure if selected is None else sure & sel).alias(f"{prefix}|sure"))
        return out

    def aggregations(
        self, node: Aggregate | ListValue, prefix: str, body: Col | None, selected: pl.Expr | None
    ) -> list[pl.Expr]:
        out: list[pl.Expr] = [
            (pl.len() if selected is None else pl.col(f"{prefix}|sel").sum()).alias(f"{prefix}|n")
        ]
        if isinstance(node, ListValue) or body is None:
            out.append(pl.col(f"{prefix}|held").sum().alias(f"{prefix}|held"))
            return out
        out.append(pl.col(f"{prefix}|u").any().alias(f"{prefix}|anyunknown"))
        out += [any_bits(pl.col(f"{prefix}|b|{c}"), c).alias(f"{prefix}|b|{c}") for c in body.bits]
        func = node.func
        if func == "any":
            out.append(pl.col(f"{prefix}|v").any(ignore_nulls=False).alias(f"{prefix}|r"))
        elif func == "all":
            out.append(pl.col(f"{prefix}|v").all(ignore_nulls=False).alias(f"{prefix}|r"))
        elif func == "count":
            out.append(pl.col(f"{prefix}|sure").sum().alias(f"{prefix}|sure"))
            out.append(pl.col(f"{prefix}|u").sum().alias(f"{prefix}|maybe"))
        elif body.kind == "num":
            lo, hi = pl.col(f"{prefix}|lo"), pl.col(f"{prefix}|hi")
            if func == "sum":
                out += [lo.sum().alias(f"{prefix}|rlo"), hi.sum().alias(f"{prefix}|rhi")]
                size = pl.max_horizontal(lo.abs().sum(), hi.abs().sum()).cast(pl.Float64)
                out.append((size >= float(10 ** (PRECISION - body.scale)) / 2).alias(f"{prefix}|big"))
            elif func == "min":
                out += [lo.min().alias(f"{prefix}|rlo"), hi.min().alias(f"{prefix}|rhi")]
            else:
                out += [lo.max().alias(f"{prefix}|rlo"), hi.max().alias(f"{prefix}|rhi")]
        else:
            value = pl.col(f"{prefix}|v")
            out.append((value.min() if func == "min" else value.max()).alias(f"{prefix}|r"))
        return out

    def finisher(
        self,
        node: Aggregate | ListValue,
        prefix: str,
        body: Col | None,
        day: Col | None,
        presence: str,
        guarded: bool,
    ) -> Callable[[], None]:
        def finish() -> None:
            if guarded:  # arithmetic past the precision in an item: the record goes to the evaluator
                self.guards.append(pl.col(f"{prefix}|guard").fill_null(False))
            self.columns[node] = self.materialize(self.finish(node, prefix, body, day, presence))

        return finish

    def finish(
        self,
        node: Aggregate | ListValue,
        prefix: str,
        body: Col | None,
        day: Col | None,
        presence: str,
    ) -> Col:
        """The aggregate's value from its group_by columns (null for subjects without items)."""
        source = node.source
        n = pl.col(f"{prefix}|n").fill_null(0)
        # the list: missing, or (held_on) its day unknown, or an item without a start date
        missing = pl.col(presence).is_null() | ~pl.col(presence)
        source_bits: Bits = masked(self.subject_bits([source.key]), missing)
        unknown = missing
        if day is not None:
            assert day.v is not None
            day_unknown = day.v.is_null()
            source_bits = union(source_bits, masked(day.bits, day_unknown))
            nostart = pl.col(f"{prefix}|nostart").fill_null(0)
            lacking = ~missing & ~day_unknown & (nostart != 0)
            assert source.start_key is not None
            word, shift = self.item_place(source.start_key)
            shifted = nostart * pl.lit(1 << shift, dtype=U64) if shift else nostart
            source_bits = union(source_bits, {word: pl.when(lacking).then(shifted).otherwise(no_bits())})
            unknown = missing | day_unknown | lacking
        if isinstance(node, ListValue):
            held = pl.col(f"{prefix}|held").fill_null(0)
            return Col(
                "list",
                v=pl.when(unknown).then(null_of(pl.Boolean())).otherwise(pl.lit(True)),
                bits=source_bits,
                sel=pl.when(unknown).then(no_bits()).otherwise(held),
            )
        func = node.func
        if body is None:  # count(list)
            value = pl.when(unknown).then(null_of(pl.Int64())).otherwise(n.cast(pl.Int64))
            value = integer(value)
            return Col("num", lo=value, hi=value, bits=source_bits)
        comps = sorted(set(body.bits))
        grouped_bits = {c: pl.col(f"{prefix}|b|{c}").fill_null(0) for c in comps}
        any_unknown = pl.col(f"{prefix}|anyunknown").fill_null(False)

        if func in ("any", "all"):
            result = pl.col(f"{prefix}|r")
            default = pl.lit(func == "all")
            value = pl.when(unknown).then(null_of(pl.Boolean())).when(n == 0).then(default).otherwise(result)
            bits = union(source_bits, masked(grouped_bits, ~unknown & value.is_null()))
            return Col("bool", v=value, bits=bits)
        if func == "count":
            sure = pl.col(f"{prefix}|sure").fill_null(0).cast(pl.Int64)
            maybe = pl.col(f"{prefix}|maybe").fill_null(0).cast(pl.Int64)
            lo = integer(pl.when(unknown).then(null_of(pl.Int64())).otherwise(sure))
            hi = integer(pl.when(unknown).then(null_of(pl.Int64())).otherwise(sure + maybe))
            # a count's range keeps the unknown items' gaps, not their problems (`count_of`)
            bits = union(source_bits, masked(without_problems(grouped_bits), ~unknown & (maybe > 0)))
            return Col("num", lo=lo, hi=hi, bits=bits, exact=False)
        if body.kind == "num":
            rlo, rhi = pl.col(f"{prefix}|rlo"), pl.col(f"{prefix}|rhi")
            empty_unknown = func in ("min", "max")
            if func == "sum":
                self.guards.append(pl.col(f"{prefix}|big").fill_null(False))
                zero, _ = number(0)
                rlo = pl.when(n == 0).then(zero).otherwise(rlo)
                rhi = pl.when(n == 0).then(zero).otherwise(rhi)
            result_unknown = unknown | any_unknown | ((n == 0) if empty_unknown else pl.lit(False))
            lo = pl.when(result_unknown).then(None).otherwise(rlo)
            hi = pl.when(result_unknown).then(None).otherwise(rhi)
            spread = lo.is_null() | (lo != hi)
            bits = union(
                source_bits,
                masked(grouped_bits, ~unknown & (n > 0) & spread),
            )
            if empty_unknown:
                assert source.name_key is not None
                bits = union(bits, masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
            return Col("num", lo=lo, hi=hi, bits=bits, scale=body.scale, exact=body.exact)
        # min or max of dates
        result = pl.col(f"{prefix}|r")
        result_unknown = unknown | any_unknown | (n == 0)
        value = pl.when(result_unknown).then(None).otherwise(result)
        bits = union(source_bits, masked(grouped_bits, ~unknown & (n > 0) & any_unknown))
        assert source.name_key is not None
        bits = union(bits, masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
        return Col(body.kind, v=value, bits=bits)
