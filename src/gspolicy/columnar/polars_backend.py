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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import reduce
from typing import Any

import attrs
import polars as pl

from gspolicy.columnar.frames import Frames
from gspolicy.columnar.plan import (
    PROBLEM_MASK,
    WORD_BITS,
    Age,
    Aggregate,
    Arith,
    Compare,
    Const,
    DateCall,
    DateShift,
    FactRef,
    Field,
    If,
    InPool,
    Keys,
    ListSource,
    ListValue,
    Logic,
    Member,
    Neg,
    Node,
    Not,
    NotLowered,
    PackPlan,
    Present,
    Range,
    Unknowable,
)

__all__ = ["Col", "Result", "run_plans"]

U64 = pl.UInt64()
_DIGITS = 38
_PRECISION = 34  # the interpreter's decimal context: results past it would be rounded there
Bits = dict[str, pl.Expr]
Bound = pl.Expr | Decimal  # a Decimal bound is an infinite end known when planning


def _zero() -> pl.Expr:
    return pl.lit(0, dtype=U64)


def _null(dtype: pl.DataType) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def _or(parts: Iterable[pl.Expr]) -> pl.Expr | None:
    items = list(parts)
    if not items:
        return None
    return reduce(lambda a, b: a | b, items)


def _union(*groups: Bits) -> Bits:
    out: Bits = {}
    for group in groups:
        for key, expr in group.items():
            out[key] = out[key] | expr if key in out else expr
    return out


def _masked(bits: Bits, when: pl.Expr) -> Bits:
    """The bits where `when` holds, else none (a product with 0 or 1: cheaper than a branch)."""
    if not bits:
        return {}
    factor = when.fill_null(False).cast(U64)
    return {k: e * factor for k, e in bits.items()}


def _any_bits(column: pl.Expr, component: str) -> pl.Expr:
    """The union of an item-level bitset over a subject's items.  Items own distinct bits of an
    item word (one bit per item), so their union is their sum, which Polars aggregates much faster
    than a bitwise or; subject words repeat on every item and need the or."""
    if component.startswith("i"):
        return column.sum()
    return column.filter(column != 0).bitwise_or()  # mostly nothing: the or runs on few rows


def _without_problems(bits: Bits) -> Bits:
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


def _expr(bound: Bound | None) -> pl.Expr:
    if isinstance(bound, Decimal):
        raise NotLowered("arithmetic on an open range")
    assert bound is not None
    return bound


def _scale_of(value: Decimal | int) -> int:
    exponent = Decimal(value).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number(value: Decimal | int) -> tuple[pl.Expr, int]:
    scale = _scale_of(value)
    digits = len(Decimal(value).as_tuple().digits)
    if scale > _DIGITS or max(digits, scale) > _DIGITS:
        raise NotLowered(f"the number {value} (more than {_DIGITS} digits)")
    return pl.lit(Decimal(value), dtype=pl.Decimal(_DIGITS, scale)), scale


def _ordering(op: str, a: Bound, b: Bound) -> pl.Expr:
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
    return _cmp(op, a, b)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _cmp(op: str, a: pl.Expr, b: pl.Expr) -> pl.Expr:
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


def _years_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Whole years from `start` to `end` (negative when `end` is earlier), the interpreter's rule:
    a year is complete on the same month and day (29 February completes on 1 March)."""
    start_md = start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)
    end_md = end.dt.month().cast(pl.Int32) * 100 + end.dt.day().cast(pl.Int32)
    forward = end.dt.year() - start.dt.year() - (end_md < start_md).cast(pl.Int32)
    backward = -(start.dt.year() - end.dt.year() - (start_md < end_md).cast(pl.Int32))
    return pl.when(end >= start).then(forward).otherwise(backward)


def _leap(year: pl.Expr) -> pl.Expr:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def _integer(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int64).cast(pl.Decimal(_DIGITS, 0))


class _Compiler:
    """Builds the run over the frames; see the module doc."""

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

    def subject_level(self, node: Node) -> Col:
        """A subject-level value read inside an aggregate's body: computed once into subject
        columns, which the item frame is joined with."""
        found = self.columns.get(node)
        if found is None:
            saved, saved_broadcast, saved_guards = self.item_scope, self.broadcast, self.item_guards
            self.item_scope, self.broadcast, self.item_guards = None, set(), []
            try:
                found = self.compile(node)
                if not isinstance(node, (FactRef, Aggregate, *_COMPUTED)):
                    found = self.materialize(found)
                self.columns[node] = found
            finally:
                self.item_scope, self.broadcast, self.item_guards = saved, saved_broadcast, saved_guards
        for expr in (found.v, found.lo, found.hi, found.sel, *found.bits.values()):
            if isinstance(expr, pl.Expr):
                self.broadcast.update(expr.meta.root_names())
        return found

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

    # -- nodes ----------------------------------------------------------------------------------
    def compile(self, node: Node) -> Col:
        """The columns of `node` in the current frame, computed once per frame."""
        key = (node, self.item_scope)
        found = self.memo.get(key)
        if found is None:
            found = self.compile_node(node)
            if isinstance(node, _COMPUTED):
                found = self.materialize(found)
            self.memo[key] = found
        return found

    def compile_node(self, node: Node) -> Col:
        if isinstance(node, Const):
            return self.constant(node)
        if isinstance(node, Unknowable):
            dtype = {
                "bool": pl.Boolean(),
                "date": pl.Date(),
                "text": pl.String(),
                "set": pl.List(pl.String()),
            }
            bits = self.subject_bits(node.keys | node.problems)
            if node.kind == "num":
                none = _null(pl.Decimal(_DIGITS, 0))
                return Col("num", lo=none, hi=none, bits=bits)
            return Col(node.kind, v=_null(dtype[node.kind]), bits=bits)
        if isinstance(node, Range):
            lo = node.low if node.low.is_infinite() else _number(node.low)[0]
            hi = node.high if node.high.is_infinite() else _number(node.high)[0]
            scale = max(_scale_of(x) for x in (node.low, node.high) if x.is_finite())
            return Col("num", lo=lo, hi=hi, bits=self.subject_bits(node.keys), scale=scale, exact=False)
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Present):
            if node.scope == 0 and self.item_scope is not None:
                return self.subject_level(node)
            return Col("bool", v=pl.col(".".join(node.path)).is_not_null())
        if isinstance(node, FactRef):
            return self.fact(node)
        if isinstance(node, Not):
            inner = self.compile(node.operand)
            assert inner.v is not None
            return Col("bool", v=~inner.v, bits=inner.bits)
        if isinstance(node, Logic):
            return self.logic(node)
        if isinstance(node, Compare):
            return self.comparison(node.op, self.compile(node.left), self.compile(node.right))
        if isinstance(node, Member):
            return self.member(node)
        if isinstance(node, InPool):
            return self.in_pool(node)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Neg):
            inner = self.compile(node.operand)
            assert inner.lo is not None
            assert inner.hi is not None
            return attrs.evolve(inner, lo=-inner.hi, hi=-inner.lo)
        if isinstance(node, If):
            return self.conditional(node)
        if isinstance(node, Aggregate):
            if node not in self.columns:
                raise NotLowered("an aggregate reached before its level")  # a planning error
            if self.item_scope is not None:
                return self.subject_level(node)
            return self.columns[node]
        if isinstance(node, ListValue):
            found = self.columns.get(node)
            if found is None:
                raise NotLowered("a list value reached before its level")
            return found
        if isinstance(node, Age):
            return self.age(node)
        if isinstance(node, DateCall):
            return self.date_call(node)
        if isinstance(node, DateShift):
            return self.date_shift(node)
        raise NotLowered(f"a {type(node).__name__} node")

    def constant(self, node: Const) -> Col:
        value = node.value
        if node.kind == "num":
            assert isinstance(value, int | Decimal)
            expr, scale = _number(value)
            return Col("num", lo=expr, hi=expr, scale=scale)
        if node.kind == "set":
            assert isinstance(value, frozenset)
            return Col("set", v=pl.lit(sorted(str(v) for v in value), dtype=pl.List(pl.String())))
        dtype = {"bool": pl.Boolean(), "date": pl.Date(), "text": pl.String()}[node.kind]
        return Col(node.kind, v=pl.lit(value, dtype=dtype))

    def field(self, node: Field) -> Col:
        if node.scope == 0 and self.item_scope is not None:
            return self.subject_level(node)
        column = pl.col(".".join(node.path))
        missing = column.is_null()
        bits = self.subject_bits([node.key]) if node.scope == 0 else self.item_bits(node.key)
        bits = _masked(bits, missing)
        if node.kind == "num":
            return Col("num", lo=column, hi=column, bits=bits, scale=self.field_scale(node))
        return Col(node.kind, v=column, bits=bits)

    def field_scale(self, node: Field) -> int:
        frame = self.frames.subjects if node.scope == 0 else self.frames.items[self.item_scope or ()]
        dtype = frame.schema.get(".".join(node.path))
        return dtype.scale if isinstance(dtype, pl.Decimal) else 0

    def fact(self, node: FactRef) -> Col:
        if self.item_scope is not None:
            return self.subject_level(node)
        found = self.columns.get(node)
        if found is None:
            body = self.facts[(node.pack, node.name)]
            found = self.compile(body)
            if not isinstance(body, _COMPUTED):
                found = self.materialize(found)
            self.columns[node] = found
        return found

    def logic(self, node: Logic) -> Col:
        parts = [self.compile(o) for o in node.operands]
        if not parts:
            return Col("bool", v=pl.lit(node.op == "and"))
        values = [p.v for p in parts if p.v is not None]
        value = reduce(lambda a, b: a & b, values) if node.op == "and" else reduce(lambda a, b: a | b, values)
        value = self.temp(value)
        unknown = value.is_null()
        return Col(
            "bool",
            v=value,
            bits=_masked(_union(*(p.bits for p in parts)), unknown),
        )

    def comparison(self, op: str, a: Col, b: Col) -> Col:
        if a.kind != "num" or (a.exact and b.exact):
            # plain values (a null, unknown, makes the comparison null, unknown, in Polars too)
            left, right = (a.v, b.v) if a.kind != "num" else (a.lo, b.lo)
            assert isinstance(left, pl.Expr)
            assert isinstance(right, pl.Expr)
            value = self.temp(_cmp(op, left, right))
            # unknown exactly when an operand is, and a known operand names nothing
            return Col("bool", v=value, bits=_union(a.bits, b.bits))
        either = a.unknown() | b.unknown()
        if a.kind == "num":
            al, ah, bl, bh = a.lo, a.hi, b.lo, b.hi
            assert al is not None
            assert ah is not None
            assert bl is not None
            assert bh is not None
            if op in ("==", "!="):
                sure = _ordering("==", al, ah) & _ordering("==", ah, bl) & _ordering("==", bl, bh)
                never = _ordering("<", ah, bl) | _ordering("<", bh, al)
            else:
                sure, never = {
                    "<": (_ordering("<", ah, bl), _ordering(">=", al, bh)),
                    "<=": (_ordering("<=", ah, bl), _ordering(">", al, bh)),
                    ">": (_ordering(">", al, bh), _ordering("<=", ah, bl)),
                    ">=": (_ordering(">=", al, bh), _ordering("<", ah, bl)),
                }[op]
            value = (
                pl.when(either)
                .then(_null(pl.Boolean()))
                .when(sure)
                .then(pl.lit(True))
                .when(never)
                .then(pl.lit(False))
                .otherwise(_null(pl.Boolean()))
            )
            if op == "!=":
                value = ~value
        else:
            assert a.v is not None
            assert b.v is not None
            known = _cmp(op, a.v, b.v)
            value = pl.when(either).then(_null(pl.Boolean())).otherwise(known)
        value = self.temp(value)
        if a.exact and b.exact:
            # no ranges: unknown exactly when an operand is, and a known operand names nothing
            return Col("bool", v=value, bits=_union(a.bits, b.bits))
        unknown = value.is_null()
        return Col(
            "bool",
            v=value,
            bits=_masked(_union(a.bits, b.bits), unknown),
        )

    def member(self, node: Member) -> Col:
        left = self.compile(node.left)
        assert left.v is not None
        codes = sorted(node.codes)
        if not codes:
            return Col("bool", v=pl.lit(False))
        value = self.temp(left.v.is_in(codes))  # null, unknown, for an unknown left
        return Col("bool", v=value, bits=left.bits)

    def in_pool(self, node: InPool) -> Col:
        left, pool = self.compile(node.left), self.compile(node.pool)
        assert left.v is not None
        assert pool.v is not None
        pool_unknown = pool.v.is_null()
        empty = pool.v.list.len() == 0
        left_unknown = left.v.is_null()
        value = (
            pl.when(pool_unknown)
            .then(_null(pl.Boolean()))
            .when(~left_unknown)
            .then(pool.v.list.contains(left.v))
            .when(empty)
            .then(pl.lit(False))
            .otherwise(_null(pl.Boolean()))
        )
        from_left = ~pool_unknown & left_unknown & ~empty
        return Col(
            "bool",
            v=value,
            bits=_union(pool.bits, _masked(left.bits, from_left)),
        )

    def arith(self, node: Arith) -> Col:
        a, b = self.compile(node.left), self.compile(node.right)
        al, ah, bl, bh = _expr(a.lo), _expr(a.hi), _expr(b.lo), _expr(b.hi)
        if node.op == "+":
            lo, hi, scale = al + bl, ah + bh, max(a.scale, b.scale)
            size = pl.max_horizontal(al.abs(), ah.abs()).cast(pl.Float64) + pl.max_horizontal(
                bl.abs(), bh.abs()
            ).cast(pl.Float64)
        elif node.op == "-":
            lo, hi, scale = al - bh, ah - bl, max(a.scale, b.scale)
            size = pl.max_horizontal(al.abs(), ah.abs()).cast(pl.Float64) + pl.max_horizontal(
                bl.abs(), bh.abs()
            ).cast(pl.Float64)
        else:
            scale = a.scale + b.scale
            if scale > _DIGITS:
                raise NotLowered("a product with more decimal places than a decimal column holds")
            wide = pl.Decimal(_DIGITS, scale)
            corners = [x.cast(wide) * y for x in (al, ah) for y in (bl, bh)]
            lo, hi = pl.min_horizontal(corners), pl.max_horizontal(corners)
            size = pl.max_horizontal(al.abs(), ah.abs()).cast(pl.Float64) * pl.max_horizontal(
                bl.abs(), bh.abs()
            ).cast(pl.Float64)
        # past 34 significant digits the interpreter rounds (and a decimal column overflows):
        # such a record is decided by the per-record evaluator
        limit = float(10 ** (_PRECISION - scale)) / 2
        self.guard(size.fill_null(0.0) >= limit)
        if a.exact and b.exact:  # exact operands: one column (null, unknown, when either is)
            exact = (
                al + bl
                if node.op == "+"
                else al - bl
                if node.op == "-"
                else al.cast(pl.Decimal(_DIGITS, scale)) * bl
            )
            lo = hi = self.temp(exact)
        else:
            both_known = ~(a.unknown() | b.unknown())
            lo = self.temp(pl.when(both_known).then(lo))
            hi = self.temp(pl.when(both_known).then(hi))
        if a.exact and b.exact:
            return Col("num", lo=lo, hi=hi, bits=_union(a.bits, b.bits), scale=scale)
        interval_or_unknown = lo.is_null() | (lo != hi)
        return Col(
            "num",
            lo=lo,
            hi=hi,
            bits=_masked(_union(a.bits, b.bits), interval_or_unknown),
            scale=scale,
            exact=False,
        )

    def guard(self, flag: pl.Expr) -> None:
        (self.item_guards if self.item_scope is not None else self.guards).append(flag)

    def conditional(self, node: If) -> Col:
        c, a, b = self.compile(node.cond), self.compile(node.then), self.compile(node.orelse)
        assert c.v is not None
        yes, no = c.v.fill_null(False), (~c.v).fill_null(False)
        comps = sorted(set(a.bits) | set(b.bits) | set(c.bits))
        all_bits = _union(c.bits, a.bits, b.bits)

        def pick(x: Col, comp: str) -> pl.Expr:
            return x.bits.get(comp, _zero())

        if node.kind == "num":
            al, ah, bl, bh = _expr(a.lo), _expr(a.hi), _expr(b.lo), _expr(b.hi)

            def exact(x: Col, lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
                quiet = _or(e == 0 for e in x.bits.values())
                same = lo.is_not_null() & (lo == hi)
                return (
                    same
                    if quiet is None
                    else same & reduce(lambda p, q: p & q, [e == 0 for e in x.bits.values()])
                )

            equal = exact(a, al, ah) & exact(b, bl, bh) & (al == bl)
            both = ~(a.unknown() | b.unknown())
            low, high = pl.min_horizontal(al, bl), pl.max_horizontal(ah, bh)
            lo = pl.when(yes).then(al).when(no).then(bl).when(equal).then(al).when(both).then(low)
            hi = pl.when(yes).then(ah).when(no).then(bh).when(equal).then(ah).when(both).then(high)
            spread = both & (low != high)
            ranged = _without_problems(all_bits)  # a range from an unknown condition keeps its gaps only
            bits = {
                comp: pl.when(yes)
                .then(pick(a, comp))
                .when(no)
                .then(pick(b, comp))
                .when(equal)
                .then(_zero())
                .when(both & ~spread)
                .then(_zero())
                .when(both)
                .then(ranged.get(comp, _zero()))
                .otherwise(all_bits.get(comp, _zero()))
                for comp in comps
            }
            return Col("num", lo=lo, hi=hi, bits=bits, scale=max(a.scale, b.scale), exact=False)
        assert a.v is not None
        assert b.v is not None
        equal = a.v.is_not_null() & b.v.is_not_null() & (a.v == b.v)
        value = pl.when(yes).then(a.v).when(no).then(b.v).when(equal).then(a.v)
        bits = {
            comp: pl.when(yes)
            .then(pick(a, comp))
            .when(no)
            .then(pick(b, comp))
            .when(equal)
            .then(_zero())
            .otherwise(all_bits.get(comp, _zero()))
            for comp in comps
        }
        return Col(node.kind, v=value, bits=bits)

    def age(self, node: Age) -> Col:
        if node.scope == 0 and self.item_scope is not None:
            return self.subject_level(node)
        as_of = pl.lit(node.as_of, dtype=pl.Date())
        birth = pl.col("birth_date")
        recorded = pl.col("age").cast(pl.Int64)
        recorded_on = pl.col("age_recorded_on")
        exact = _years_between(birth, as_of)
        year, month, day = recorded_on.dt.year(), recorded_on.dt.month(), recorded_on.dt.day()
        late_year = year.cast(pl.Int64) - recorded
        early_year = late_year - 1
        valid = (late_year >= 1) & (late_year <= 9999) & (early_year >= 1) & (early_year <= 9999)
        # a year out of the calendar is clipped into it only to keep the date functions total; such
        # a row's age is null (unknown, with the problem below)
        safe_late, safe_early = late_year.clip(1, 9999), early_year.clip(1, 9999)

        def shifted(y: pl.Expr) -> pl.Expr:
            fixed_day = pl.when((month == 2) & (day == 29) & ~_leap(y)).then(28).otherwise(day)
            return pl.date(y, month, fixed_day)

        latest = self.temp(shifted(safe_late))
        earliest = self.temp(shifted(safe_early) + pl.duration(days=1))
        valid = valid & ~((early_year == 9999) & (month == 12) & (day == 31))
        first, second = _years_between(latest, as_of), _years_between(earliest, as_of)
        low = pl.min_horizontal(first, second)
        high = pl.max_horizontal(first, second)
        has_birth = birth.is_not_null()
        from_record = ~has_birth & recorded.is_not_null() & recorded_on.is_not_null()
        lo = self.temp(_integer(pl.when(has_birth).then(exact).when(from_record & valid).then(low)))
        hi = self.temp(_integer(pl.when(has_birth).then(exact).when(from_record & valid).then(high)))
        key = self.subject_bits([node.birth_key]) if node.scope == 0 else self.item_bits(node.birth_key)
        bits = _masked(key, lo.is_null() | (lo != hi))
        problem = _masked(self.subject_bits([Keys.problem("eval/date-out-of-range")]), from_record & ~valid)
        return Col("num", lo=lo, hi=hi, bits=_union(bits, problem), exact=False)

    def date_shift(self, node: DateShift) -> Col:
        """The day whole months after a date (`shift_months`): Polars clamps a day the month
        reached lacks to the month's last day; the other rule takes the day after that."""
        day = self.compile(node.day)
        assert day.v is not None
        clamped = day.v.dt.offset_by(f"{node.months}mo")
        if node.missing_day == "first_day_of_next_month":
            clamped = (
                pl.when(clamped.dt.day() != day.v.dt.day())
                .then(clamped.dt.offset_by("1d"))
                .otherwise(clamped)
            )
        value = self.temp(clamped)
        return Col("date", v=value, bits=_masked(day.bits, value.is_null()))

    def date_call(self, node: DateCall) -> Col:
        args = [self.compile(a) for a in node.args]
        if node.func == "year":
            (d,) = args
            assert d.v is not None
            value = _integer(d.v.dt.year())
            return Col("num", lo=value, hi=value, bits=d.bits)
        if node.func == "years_between":
            start, end = args
            assert start.v is not None
            assert end.v is not None
            value = self.temp(_integer(_years_between(start.v, end.v)))
            unknown = value.is_null()
            return Col(
                "num",
                lo=value,
                hi=value,
                bits=_masked(_union(start.bits, end.bits), unknown),
            )
        day, first, last = args
        lower = self.comparison("<=", first, day)
        upper = self.comparison("<=", day, last)
        assert lower.v is not None
        assert upper.v is not None
        value = self.temp(lower.v & upper.v)
        unknown = value.is_null()
        return Col(
            "bool",
            v=value,
            bits=_masked(_union(lower.bits, upper.bits), unknown),
        )

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
                start, end = pl.col("start"), pl.col("end")
                held = ((start <= day.v) & (end.is_null() | (day.v <= end))).fill_null(False)
                item_exprs.append(held.alias(f"{prefix}|sel"))
                selected = pl.col(f"{prefix}|sel")
                nostart = pl.col("__bit") * pl.col("start").is_null().cast(U64)
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
                    flagged = _or(guards)
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
        out += [_any_bits(pl.col(f"{prefix}|b|{c}"), c).alias(f"{prefix}|b|{c}") for c in body.bits]
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
                out.append((size >= float(10 ** (_PRECISION - body.scale)) / 2).alias(f"{prefix}|big"))
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
        source_bits: Bits = _masked(self.subject_bits([source.key]), missing)
        unknown = missing
        if day is not None:
            assert day.v is not None
            day_unknown = day.v.is_null()
            source_bits = _union(source_bits, _masked(day.bits, day_unknown))
            nostart = pl.col(f"{prefix}|nostart").fill_null(0)
            lacking = ~missing & ~day_unknown & (nostart != 0)
            assert source.start_key is not None
            word, shift = self.item_place(source.start_key)
            shifted = nostart * pl.lit(1 << shift, dtype=U64) if shift else nostart
            source_bits = _union(source_bits, {word: pl.when(lacking).then(shifted).otherwise(_zero())})
            unknown = missing | day_unknown | lacking
        if isinstance(node, ListValue):
            held = pl.col(f"{prefix}|held").fill_null(0)
            return Col(
                "list",
                v=pl.when(unknown).then(_null(pl.Boolean())).otherwise(pl.lit(True)),
                bits=source_bits,
                sel=pl.when(unknown).then(_zero()).otherwise(held),
            )
        func = node.func
        if body is None:  # count(list)
            value = pl.when(unknown).then(_null(pl.Int64())).otherwise(n.cast(pl.Int64))
            value = _integer(value)
            return Col("num", lo=value, hi=value, bits=source_bits)
        comps = sorted(set(body.bits))
        grouped_bits = {c: pl.col(f"{prefix}|b|{c}").fill_null(0) for c in comps}
        any_unknown = pl.col(f"{prefix}|anyunknown").fill_null(False)

        if func in ("any", "all"):
            result = pl.col(f"{prefix}|r")
            default = pl.lit(func == "all")
            value = pl.when(unknown).then(_null(pl.Boolean())).when(n == 0).then(default).otherwise(result)
            bits = _union(source_bits, _masked(grouped_bits, ~unknown & value.is_null()))
            return Col("bool", v=value, bits=bits)
        if func == "count":
            sure = pl.col(f"{prefix}|sure").fill_null(0).cast(pl.Int64)
            maybe = pl.col(f"{prefix}|maybe").fill_null(0).cast(pl.Int64)
            lo = _integer(pl.when(unknown).then(_null(pl.Int64())).otherwise(sure))
            hi = _integer(pl.when(unknown).then(_null(pl.Int64())).otherwise(sure + maybe))
            # a count's range keeps the unknown items' gaps, not their problems (`count_of`)
            bits = _union(source_bits, _masked(_without_problems(grouped_bits), ~unknown & (maybe > 0)))
            return Col("num", lo=lo, hi=hi, bits=bits, exact=False)
        if body.kind == "num":
            rlo, rhi = pl.col(f"{prefix}|rlo"), pl.col(f"{prefix}|rhi")
            empty_unknown = func in ("min", "max")
            if func == "sum":
                self.guards.append(pl.col(f"{prefix}|big").fill_null(False))
                zero, _ = _number(0)
                rlo = pl.when(n == 0).then(zero).otherwise(rlo)
                rhi = pl.when(n == 0).then(zero).otherwise(rhi)
            result_unknown = unknown | any_unknown | ((n == 0) if empty_unknown else pl.lit(False))
            lo = pl.when(result_unknown).then(None).otherwise(rlo)
            hi = pl.when(result_unknown).then(None).otherwise(rhi)
            spread = lo.is_null() | (lo != hi)
            bits = _union(
                source_bits,
                _masked(grouped_bits, ~unknown & (n > 0) & spread),
            )
            if empty_unknown:
                assert source.name_key is not None
                bits = _union(bits, _masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
            return Col("num", lo=lo, hi=hi, bits=bits, scale=body.scale, exact=body.exact)
        # min or max of dates
        result = pl.col(f"{prefix}|r")
        result_unknown = unknown | any_unknown | (n == 0)
        value = pl.when(result_unknown).then(None).otherwise(result)
        bits = _union(source_bits, _masked(grouped_bits, ~unknown & (n > 0) & any_unknown))
        assert source.name_key is not None
        bits = _union(bits, _masked(self.subject_bits([source.name_key]), ~unknown & (n == 0)))
        return Col(body.kind, v=value, bits=bits)


_COMPUTED = (Not, Logic, Compare, Member, InPool, Arith, Neg, If, Age, DateCall, DateShift)

# -- the run ---------------------------------------------------------------------------------------


def _walk(node: Node) -> Iterable[Node]:
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        if isinstance(value, tuple):
            yield from (v for v in value if attrs.has(type(v)))
        elif isinstance(value, ListSource):
            if value.held_on is not None:
                yield value.held_on
        elif attrs.has(type(value)):
            yield value


def _condition_roots(plan: PackPlan) -> list[tuple[str, Node]]:
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
            stack.extend(_walk(current))

    def of(self, node: Aggregate | ListValue) -> int:
        found = self.level.get(node)
        if found is None:
            deps = list(self.reached(node))
            found = 1 + max((self.of(d) for d in deps), default=0)  # type: ignore[arg-type]
            self.level[node] = found
        return found


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
    compiler = _Compiler(plans, keys, frames)
    levels = _Levels(compiler.facts)
    found: set[Node] = set()
    for plan in compiler.plans:
        for _name, root in _condition_roots(plan):
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
        for name, root in _condition_roots(plan):
            col = compiler.compile(root)
            base = f"{index}|{name}"
            if col.kind == "list":
                assert col.v is not None
                assert col.sel is not None
                outputs += [col.v.alias(base), col.sel.alias(f"{base}|sel")]
            else:
                assert col.v is not None, f"{base} is not a condition"
                outputs.append(col.v.alias(base))
            outputs += [e.alias(f"{base}|{c}") for c, e in col.bits.items()]
    compiler.flush()
    fallback = _or([pl.col("__unfit"), *compiler.guards])
    assert fallback is not None
    result = compiler.hh.with_columns(outputs).with_columns(fallback.fill_null(False).alias("__fallback"))
    names = ["__row", "__fallback", *(e.meta.output_name() for e in outputs)]
    # the in-memory engine: this plan is many columns over a frame that fits in memory
    table = result.select(names).sort("__row").collect(engine="in-memory")
    return Result(table, compiler.width)
