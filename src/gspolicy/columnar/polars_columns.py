"""A plan node's value as columns of the frame being built (`Col`: value, bounds, what would settle
it as 64-bit sets, problems), where those columns go (`ColumnBuilder`: the subject frame, or the
item frame of the aggregate being lowered, in batches by depth), and the Polars spellings they
share (bitsets, decimal literals, comparisons of bounds, whole years between dates)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import reduce
from typing import Any

import attrs
import polars as pl

from gspolicy.columnar.frames import Frames
from gspolicy.columnar.plan import PROBLEM_MASK, WORD_BITS, Keys, Node, NotLowered, PackPlan

__all__ = [
    "DIGITS",
    "PRECISION",
    "U64",
    "Bits",
    "Bound",
    "Col",
    "ColumnBuilder",
    "any_bits",
    "any_of",
    "bound_expr",
    "compare_exprs",
    "integer",
    "leap",
    "masked",
    "no_bits",
    "null_of",
    "number",
    "ordering",
    "scale_of",
    "union",
    "without_problems",
    "years_between",
]

U64 = pl.UInt64()
DIGITS = 38
PRECISION = 34  # the interpreter's decimal context: results past it would be rounded there
Bits = dict[str, pl.Expr]
Bound = pl.Expr | Decimal  # a Decimal bound is an infinite end known when planning


def no_bits() -> pl.Expr:
    return pl.lit(0, dtype=U64)


def null_of(dtype: pl.DataType) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def any_of(parts: Iterable[pl.Expr]) -> pl.Expr | None:
    items = list(parts)
    if not items:
        return None
    return reduce(lambda a, b: a | b, items)


def union(*groups: Bits) -> Bits:
    out: Bits = {}
    for group in groups:
        for key, expr in group.items():
            out[key] = out[key] | expr if key in out else expr
    return out


def masked(bits: Bits, when: pl.Expr) -> Bits:
    """The bits where `when` holds, else none (a product with 0 or 1: cheaper than a branch)."""
    if not bits:
        return {}
    factor = when.fill_null(False).cast(U64)
    return {k: e * factor for k, e in bits.items()}


def any_bits(column: pl.Expr, component: str) -> pl.Expr:
    """The union of an item-level bitset over a subject's items.  Items own distinct bits of an
    item word (one bit per item), so their union is their sum, which Polars aggregates much faster
    than a bitwise or; subject words repeat on every item and need the or."""
    if component.startswith("i"):
        return column.sum()
    return column.filter(column != 0).bitwise_or()  # mostly nothing: the or runs on few rows


def without_problems(bits: Bits) -> Bits:
    """What would settle, without the evaluation problems (a range built from unknowns keeps
    their gaps, not their problems: see `count_of` and the interpreter's conditional)."""
    out = dict(bits)
    word = out.get("s0")
    if word is not None:
        out["s0"] = word & pl.lit(~PROBLEM_MASK & ((1 << WORD_BITS) - 1), dtype=U64)
    return out


@attrs.frozen
class Col:
    """A node's value as expressions over the frame it is computed in."""

    kind: str
    v: pl.Expr | None = None  # bool, date, text, set; null = unknown
    lo: Bound | None = None  # numbers: low and high bounds; null = unknown
    hi: Bound | None = None
    bits: Bits = attrs.field(factory=dict)
    scale: int = 0
    sel: pl.Expr | None = None  # a list value: the bitset of the items it holds
    exact: bool = True  # a number that is never a range (its bits only say why it is unknown)

    def unknown(self) -> pl.Expr:
        if self.kind == "num":
            lo = self.lo
            return pl.lit(False) if isinstance(lo, Decimal) else lo.is_null()  # type: ignore[union-attr]
        assert self.v is not None
        return self.v.is_null()


def bound_expr(bound: Bound | None) -> pl.Expr:
    if isinstance(bound, Decimal):
        raise NotLowered("arithmetic on an open range")
    assert bound is not None
    return bound


def scale_of(value: Decimal | int) -> int:
    exponent = Decimal(value).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Decimal | int) -> tuple[pl.Expr, int]:
    scale = scale_of(value)
    digits = len(Decimal(value).as_tuple().digits)
    if scale > DIGITS or max(digits, scale) > DIGITS:
        raise NotLowered(f"the number {value} (more than {DIGITS} digits)")
    return pl.lit(Decimal(value), dtype=pl.Decimal(DIGITS, scale)), scale


def ordering(op: str, a: Bound, b: Bound) -> pl.Expr:
    """``a op b`` for bounds, one of them perhaps an infinite end known when planning."""
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return pl.lit(_py_order(op, a, b))
        if isinstance(a, Decimal):  # a is infinite, b a column of finite values
            result = a > 0 if op in (">", ">=") else a < 0
            return pl.lit(result)
        assert isinstance(b, Decimal)
        result = b < 0 if op in (">", ">=") else b > 0
        return pl.lit(result)
    return compare_exprs(op, a, b)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def compare_exprs(op: str, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """``a op b``, with a literal always on the right: Polars 2.1's in-memory engine fails on a
    decimal literal compared with a decimal column it holds as one value (all null, say)."""
    if a.meta.is_literal() and not b.meta.is_literal():
        a, b, op = b, a, _FLIPPED[op]
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def _py_order(op: str, a: Decimal, b: Decimal) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b}[op]


def _count(value: object) -> int:
    """A column's largest index as an int (0 for an empty column)."""
    return value if isinstance(value, int) else 0


def years_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Whole years from `start` to `end` (negative when `end` is earlier), the interpreter's rule:
    a year is complete on the same month and day (29 February completes on 1 March)."""
    start_md = start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)
    end_md = end.dt.month().cast(pl.Int32) * 100 + end.dt.day().cast(pl.Int32)
    forward = end.dt.year() - start.dt.year() - (end_md < start_md).cast(pl.Int32)
    backward = -(start.dt.year() - end.dt.year() - (start_md < end_md).cast(pl.Int32))
    return pl.when(end >= start).then(forward).otherwise(backward)


def leap(year: pl.Expr) -> pl.Expr:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def integer(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int64).cast(pl.Decimal(DIGITS, 0))


class ColumnBuilder:
    """The frames a run is built in, and where a computed column goes: the subject frame, or the
    item frame of the aggregate being lowered (`item_scope`); the columns wait in batches by
    depth until the frame is next used.  `Lowering` and `Compiler` build on it."""

    def __init__(self, plans: Sequence[PackPlan], keys: Keys, frames: Frames) -> None:
        self.plans = [p for p in plans if p.fallback is None]
        self.keys = keys
        self.frames = frames
        self.hh: pl.LazyFrame = frames.subjects.lazy()
        self.facts: dict[tuple[str, str], Node] = {}
        for plan in self.plans:
            for name, node in plan.facts.items():
                self.facts[(plan.pack.key, name)] = node
        self.columns: dict[Node, Col] = {}  # materialized nodes (facts, aggregates, held_on days)
        self.count = 0
        self.guards: list[pl.Expr] = []
        # while compiling an aggregate's body: the list it runs over and the subject columns it reads
        self.item_scope: tuple[str, ...] | None = None
        self.broadcast: set[str] = set()
        self.item_guards: list[pl.Expr] = []
        self.pending: dict[int, list[pl.Expr]] = {}
        self.pending_items: dict[int, list[pl.Expr]] = {}
        self.depth: dict[str, int] = {}
        self.memo: dict[tuple[Node, tuple[str, ...] | None], Col] = {}
        longest = max((_count(f["__idx"].max()) + 1 for f in frames.items.values() if f.height), default=1)
        self.width = 1
        while self.width < longest:
            self.width *= 2

    # -- materializing --------------------------------------------------------------------------
    def name(self) -> str:
        self.count += 1
        return f"__n{self.count}"

    def materialize(self, col: Col) -> Col:
        """`col` computed into columns of the frame being built (the subjects', or the items' of
        the aggregate being compiled); the returned `Col` reads them.  Columns wait in batches by
        depth (a column comes after those it reads) until the frame is next used."""
        name = self.name()
        exprs: list[pl.Expr] = []
        out: dict[str, Any] = {"kind": col.kind, "scale": col.scale, "exact": col.exact}
        if col.kind == "num":
            same = col.lo is col.hi  # an exact number: one column for both bounds
            for end in ("lo",) if same else ("lo", "hi"):
                bound = getattr(col, end)
                if isinstance(bound, Decimal) or bound.meta.is_column():
                    out[end] = bound
                else:
                    exprs.append(bound.alias(f"{name}|{end}"))
                    out[end] = pl.col(f"{name}|{end}")
            if same:
                out["hi"] = out["lo"]
        elif col.v is not None:
            if col.v.meta.is_column():
                out["v"] = col.v
            else:
                exprs.append(col.v.alias(f"{name}|v"))
                out["v"] = pl.col(f"{name}|v")
        if col.sel is not None:
            exprs.append(col.sel.alias(f"{name}|sel"))
            out["sel"] = pl.col(f"{name}|sel")
        bits: Bits = {}
        for comp, expr in col.bits.items():
            if expr.meta.is_column():
                bits[comp] = expr  # already a column: read it where it is
                continue
            exprs.append(expr.alias(f"{name}|{comp}"))
            bits[comp] = pl.col(f"{name}|{comp}")
        out["bits"] = bits
        if exprs:
            level = 1 + max((self.depth.get(r, 0) for e in exprs for r in e.meta.root_names()), default=0)
            for e in exprs:
                self.depth[e.meta.output_name()] = level
            target = self.pending_items if self.item_scope is not None else self.pending
            target.setdefault(level, []).extend(exprs)
        return Col(**out)

    def temp(self, expr: pl.Expr) -> pl.Expr:
        """`expr` computed once into a column of the current frame (for a value read several times
        by the expressions of its node)."""
        name = self.name()
        level = 1 + max((self.depth.get(r, 0) for r in expr.meta.root_names()), default=0)
        self.depth[name] = level
        target = self.pending_items if self.item_scope is not None else self.pending
        target.setdefault(level, []).append(expr.alias(name))
        return pl.col(name)

    def flush(self) -> None:
        """Add the waiting subject columns to the subject frame."""
        for level in sorted(self.pending):
            self.hh = self.hh.with_columns(self.pending[level])
        self.pending.clear()

    # -- keys -----------------------------------------------------------------------------------
    @staticmethod
    def subject_bits(keys: Iterable[int]) -> Bits:
        words: dict[str, int] = {}
        for key in keys:
            comp = f"s{key // WORD_BITS}"
            words[comp] = words.get(comp, 0) | (1 << (key % WORD_BITS))
        return {comp: pl.lit(word, dtype=U64) for comp, word in words.items()}

    def item_place(self, component: int) -> tuple[str, int]:
        """The word of an item field's bits and the shift of its first item in it: the fields
        share 64-bit words, `width` bits each (the longest list's length, rounded to a power of 2)."""
        per = WORD_BITS // self.width
        return f"i{component // per}", (component % per) * self.width

    def item_bits(self, component: int) -> Bits:
        word, shift = self.item_place(component)
        return {word: pl.col("__bit") * pl.lit(1 << shift, dtype=U64) if shift else pl.col("__bit")}
