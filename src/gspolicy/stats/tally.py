"""The figures by columns gathered block after block (`Tally`), and tables over different
households merged (`merged_figures`).

Memory: `Tally` keeps only the value of each group and, per cell, the pairs (cell, household
number) — eight bytes a household and cell — and the ids as one text column, until
`Tally.tables` turns the numbers into the sorted ids every `Cell` holds (one Python string per
household, shared by its cells).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs
import polars as pl

from gspolicy.stats.figures import Cell, Figures, Number, Table
from gspolicy.stats.lowered import BlockFigures, Lowered
from gspolicy.stats.quarter import Quarter

__all__ = ["Tally", "merged", "merged_figures"]


def _plain(value: Number) -> Number:
    """A sum as the interpreter writes one over the registry's amounts: without the zeros a
    column's fixed scale adds (``384200.00`` is ``384200``, ``12.50`` is ``12.5``)."""
    if not isinstance(value, Decimal):
        return value
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


@attrs.define
class Tally:
    """The lowered indicators' figures gathered block after block: per indicator the value of
    each group (by a cell number) and the pairs (cell, household number) behind them; the ids
    of the households in the order they were numbered."""

    lowered: Lowered
    ids: list[pl.Series] = attrs.field(factory=list)
    read: int = 0
    cells: list[dict[tuple[str, ...], int]] = attrs.field(init=False)
    values: list[dict[int, Number]] = attrs.field(init=False)
    pairs: list[list[pl.DataFrame]] = attrs.field(init=False)
    undetermined: list[list[pl.Series]] = attrs.field(init=False)
    seen: dict[str, set[str]] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        n = len(self.lowered.indicators)
        self.cells = [{} for _ in range(n)]
        self.values = [{} for _ in range(n)]
        self.pairs = [[] for _ in range(n)]
        self.undetermined = [[] for _ in range(n)]

    def number(self, ids: pl.Series) -> pl.Series:
        """Number the households of a block (`ids`, in order): their numbers in the run."""
        start = self.read
        self.ids.append(ids.cast(pl.String))
        self.read += ids.len()
        return pl.int_range(start, self.read, eager=True, dtype=pl.Int64).alias("__g")

    def add(self, block: BlockFigures) -> None:
        for key, texts in block.keys.items():
            self.seen.setdefault(key, set()).update(texts)
        for index, (ind, part) in enumerate(zip(self.lowered.indicators, block.contributions, strict=True)):
            self.undetermined[index].append(block.undetermined[index])
            if not part.height:
                continue
            by = list(ind.indicator.by)
            groups = part.group_by(by).agg(pl.col("__v").sum())
            cells, values = self.cells[index], self.values[index]
            codes: list[int] = []
            whole = isinstance(part.schema["__v"], pl.Decimal) and part.schema["__v"].scale == 0
            for *group, value in groups.iter_rows():
                code = cells.setdefault(tuple(group), len(cells))
                codes.append(code)
                values[code] = values.get(code, 0) + (int(value) if whole else _plain(value))
            coded = groups.select(by).with_columns(pl.Series("__c", codes, dtype=pl.UInt32))
            self.pairs[index].append(
                part.join(coded, on=by, how="left").select("__c", pl.col("__g").cast(pl.UInt32))
            )

    def tables(self) -> dict[str, Table]:
        """Every lowered indicator's table, the households behind each cell by id, sorted."""
        ids = pl.concat(self.ids) if self.ids else pl.Series("id", [], dtype=pl.String)
        names: list[str] = ids.to_list()
        rank = ids.rank("ordinal").cast(pl.UInt32) if ids.len() else pl.Series([], dtype=pl.UInt32)
        pick = names.__getitem__

        def by_id(rows: pl.Series) -> list[int]:
            """The distinct household numbers of `rows`, in the order of their ids."""
            distinct = rows.cast(pl.UInt32).unique()
            return distinct.gather(rank.gather(distinct).arg_sort()).to_list() if distinct.len() else []

        out: dict[str, Table] = {}
        for index, ind in enumerate(self.lowered.indicators):
            pairs = (
                pl.concat(self.pairs[index])
                if self.pairs[index]
                else pl.DataFrame(schema={"__c": pl.UInt32(), "__g": pl.UInt32()})
            )
            ordered = (
                pairs.with_columns(
                    rank.gather(pairs["__g"]).alias("__rank")
                    if pairs.height
                    else pl.lit(0, pl.UInt32).alias("__rank")
                )
                .sort("__c", "__rank")
                .group_by("__c", maintain_order=True)
                .agg(pl.col("__g"))
            )
            behind = {
                code: tuple(map(pick, rows))
                for code, rows in zip(ordered["__c"].to_list(), ordered["__g"].to_list(), strict=True)
            }
            cells = self.cells[index]
            values = self.values[index]
            table_cells = {group: Cell(values[cells[group]], behind[cells[group]]) for group in sorted(cells)}
            counted = tuple(map(pick, by_id(pairs["__g"])))
            total: Number = len(counted) if ind.indicator.figure == "count" else sum(values.values(), 0)
            lost = (
                pl.concat(self.undetermined[index])
                if self.undetermined[index]
                else pl.Series([], dtype=pl.Int64)
            )
            undetermined = tuple(map(pick, by_id(lost)))
            out[ind.indicator.id] = Table(
                ind.pack.key, ind.indicator, ind.indicator.by, table_cells, Cell(total, counted), undetermined
            )
        return out


def merged(a: Table, b: Table) -> Table:
    """Two tables of one indicator over households of which none is in both, as one."""
    cells: dict[tuple[str, ...], Cell] = {}
    for group in sorted(set(a.cells) | set(b.cells)):
        x, y = a.cells.get(group), b.cells.get(group)
        if x is None or y is None:
            found = x if y is None else y
            assert found is not None
            cells[group] = found
            continue
        cells[group] = Cell(x.value + y.value, tuple(sorted(x.households + y.households)))
    counted = tuple(sorted(a.total.households + b.total.households))
    total = len(counted) if a.indicator.figure == "count" else a.total.value + b.total.value
    undetermined = tuple(sorted(set(a.undetermined) | set(b.undetermined)))
    return Table(a.pack, a.indicator, a.keys, cells, Cell(total, counted), undetermined)


def merged_figures(quarter: Quarter, order: Sequence[str], parts: Sequence[Mapping[str, Table]]) -> Figures:
    """The tables of `parts` (each over other households, or other indicators) merged, in the
    order of the indicator ids `order`."""
    out: dict[str, Table] = {}
    for part in parts:
        for key, table in part.items():
            out[key] = merged(out[key], table) if key in out else table
    return Figures(quarter, {key: out[key] for key in order if key in out})
