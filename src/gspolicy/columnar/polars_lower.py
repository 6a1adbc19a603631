"""The nodes of a columnar plan lowered into columns of the frame being built (`Lowering`): fields,
facts, Kleene logic, comparisons of exact values and of ranges, membership, arithmetic with its
precision guard, conditionals, ages and dates — never skipping an unknown."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce

import attrs
import polars as pl

from gspolicy.columnar.plan import (
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
    ListValue,
    Logic,
    Member,
    Neg,
    Node,
    Not,
    NotLowered,
    Present,
    Range,
    Unknowable,
)
from gspolicy.columnar.polars_columns import (
    DIGITS,
    PRECISION,
    Col,
    ColumnBuilder,
    any_of,
    bound_expr,
    compare_exprs,
    integer,
    leap,
    masked,
    no_bits,
    null_of,
    number,
    ordering,
    scale_of,
    union,
    without_problems,
    years_between,
)

__all__ = ["COMPUTED", "Lowering"]


class Lowering(ColumnBuilder):
    """Lowers plan nodes into `Col`s of the current frame, each once per frame (see the module
    doc of `gspolicy.columnar.polars_backend`)."""

    def subject_level(self, node: Node) -> Col:
        """A subject-level value read inside an aggregate's body: computed once into subject
        columns, which the item frame is joined with."""
        found = self.columns.get(node)
        if found is None:
            saved, saved_broadcast, saved_guards = self.item_scope, self.broadcast, self.item_guards
            self.item_scope, self.broadcast, self.item_guards = None, set(), []
            try:
                found = self.compile(node)
                if not isinstance(node, (FactRef, Aggregate, *COMPUTED)):
                    found = self.materialize(found)
                self.columns[node] = found
            finally:
                self.item_scope, self.broadcast, self.item_guards = saved, saved_broadcast, saved_guards
        for expr in (found.v, found.lo, found.hi, found.sel, *found.bits.values()):
            if isinstance(expr, pl.Expr):
                self.broadcast.update(expr.meta.root_names())
        return found

    # -- nodes ----------------------------------------------------------------------------------
    def compile(self, node: Node) -> Col:
        """The columns of `node` in the current frame, computed once per frame."""
        key = (node, self.item_scope)
        found = self.memo.get(key)
        if found is None:
            found = self.compile_node(node)
            if isinstance(node, COMPUTED):
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
                none = null_of(pl.Decimal(DIGITS, 0))
                return Col("num", lo=none, hi=none, bits=bits)
            return Col(node.kind, v=null_of(dtype[node.kind]), bits=bits)
        if isinstance(node, Range):
            lo = node.low if node.low.is_infinite() else number(node.low)[0]
            hi = node.high if node.high.is_infinite() else number(node.high)[0]
            scale = max(scale_of(x) for x in (node.low, node.high) if x.is_finite())
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
            expr, scale = number(value)
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
        bits = masked(bits, missing)
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
            if not isinstance(body, COMPUTED):
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
            bits=masked(union(*(p.bits for p in parts)), unknown),
        )

    def comparison(self, op: str, a: Col, b: Col) -> Col:
        if a.kind != "num" or (a.exact and b.exact):
            # plain values (a null, unknown, makes the comparison null, unknown, in Polars too)
            left, right = (a.v, b.v) if a.kind != "num" else (a.lo, b.lo)
            assert isinstance(left, pl.Expr)
            assert isinstance(right, pl.Expr)
            value = self.temp(compare_exprs(op, left, right))
            # unknown exactly when an operand is, and a known operand names nothing
            return Col("bool", v=value, bits=union(a.bits, b.bits))
        either = a.unknown() | b.unknown()
        if a.kind == "num":
            al, ah, bl, bh = a.lo, a.hi, b.lo, b.hi
            assert al is not None
            assert ah is not None
            assert bl is not None
            assert bh is not None
            if op in ("==", "!="):
                sure = ordering("==", al, ah) & ordering("==", ah, bl) & ordering("==", bl, bh)
                never = ordering("<", ah, bl) | ordering("<", bh, al)
            else:
                sure, never = {
                    "<": (ordering("<", ah, bl), ordering(">=", al, bh)),
                    "<=": (ordering("<=", ah, bl), ordering(">", al, bh)),
                    ">": (ordering(">", al, bh), ordering("<=", ah, bl)),
                    ">=": (ordering(">=", al, bh), ordering("<", ah, bl)),
                }[op]
            value = (
                pl.when(either)
                .then(null_of(pl.Boolean()))
                .when(sure)
                .then(pl.lit(True))
                .when(never)
                .then(pl.lit(False))
                .otherwise(null_of(pl.Boolean()))
            )
            if op == "!=":
                value = ~value
        else:
            assert a.v is not None
            assert b.v is not None
            known = compare_exprs(op, a.v, b.v)
            value = pl.when(either).then(null_of(pl.Boolean())).otherwise(known)
        value = self.temp(value)
        if a.exact and b.exact:
            # no ranges: unknown exactly when an operand is, and a known operand names nothing
            return Col("bool", v=value, bits=union(a.bits, b.bits))
        unknown = value.is_null()
        return Col(
            "bool",
            v=value,
            bits=masked(union(a.bits, b.bits), unknown),
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
            .then(null_of(pl.Boolean()))
            .when(~left_unknown)
            .then(pool.v.list.contains(left.v))
            .when(empty)
            .then(pl.lit(False))
            .otherwise(null_of(pl.Boolean()))
        )
        from_left = ~pool_unknown & left_unknown & ~empty
        return Col(
            "bool",
            v=value,
            bits=union(pool.bits, masked(left.bits, from_left)),
        )

    def arith(self, node: Arith) -> Col:
        a, b = self.compile(node.left), self.compile(node.right)
        al, ah, bl, bh = bound_expr(a.lo), bound_expr(a.hi), bound_expr(b.lo), bound_expr(b.hi)
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
            if scale > DIGITS:
                raise NotLowered("a product with more decimal places than a decimal column holds")
            wide = pl.Decimal(DIGITS, scale)
            corners = [x.cast(wide) * y for x in (al, ah) for y in (bl, bh)]
            lo, hi = pl.min_horizontal(corners), pl.max_horizontal(corners)
            size = pl.max_horizontal(al.abs(), ah.abs()).cast(pl.Float64) * pl.max_horizontal(
                bl.abs(), bh.abs()
            ).cast(pl.Float64)
        # past 34 significant digits the interpreter rounds (and a decimal column overflows):
        # such a record is decided by the per-record evaluator
        limit = float(10 ** (PRECISION - scale)) / 2
        self.guard(size.fill_null(0.0) >= limit)
        if a.exact and b.exact:  # exact operands: one column (null, unknown, when either is)
            exact = (
                al + bl
                if node.op == "+"
                else al - bl
                if node.op == "-"
                else al.cast(pl.Decimal(DIGITS, scale)) * bl
            )
            lo = hi = self.temp(exact)
        else:
            both_known = ~(a.unknown() | b.unknown())
            lo = self.temp(pl.when(both_known).then(lo))
            hi = self.temp(pl.when(both_known).then(hi))
        if a.exact and b.exact:
            return Col("num", lo=lo, hi=hi, bits=union(a.bits, b.bits), scale=scale)
        interval_or_unknown = lo.is_null() | (lo != hi)
        return Col(
            "num",
            lo=lo,
            hi=hi,
            bits=masked(union(a.bits, b.bits), interval_or_unknown),
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
        all_bits = union(c.bits, a.bits, b.bits)

        def pick(x: Col, comp: str) -> pl.Expr:
            return x.bits.get(comp, no_bits())

        if node.kind == "num":
            al, ah, bl, bh = bound_expr(a.lo), bound_expr(a.hi), bound_expr(b.lo), bound_expr(b.hi)

            def exact(x: Col, lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
                quiet = any_of(e == 0 for e in x.bits.values())
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
            ranged = without_problems(all_bits)  # a range from an unknown condition keeps its gaps only
            bits = {
                comp: pl.when(yes)
                .then(pick(a, comp))
                .when(no)
                .then(pick(b, comp))
                .when(equal)
                .then(no_bits())
                .when(both & ~spread)
                .then(no_bits())
                .when(both)
                .then(ranged.get(comp, no_bits()))
                .otherwise(all_bits.get(comp, no_bits()))
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
            .then(no_bits())
            .otherwise(all_bits.get(comp, no_bits()))
            for comp in comps
        }
        return Col(node.kind, v=value, bits=bits)

    def age(self, node: Age) -> Col:
        if node.scope == 0 and self.item_scope is not None:
            return self.subject_level(node)
        as_of = pl.lit(node.as_of, dtype=pl.Date())
        # the columns of the fields of the age roles (`Age.fields`; absent ones never given)
        birth = pl.col(node.birth)
        recorded = (pl.col(node.recorded) if node.recorded else pl.lit(None)).cast(pl.Int64)
        recorded_on = pl.col(node.recorded_on) if node.recorded_on else pl.lit(None, pl.Date())
        exact = years_between(birth, as_of)
        year, month, day = recorded_on.dt.year(), recorded_on.dt.month(), recorded_on.dt.day()
        late_year = year.cast(pl.Int64) - recorded
        early_year = late_year - 1
        valid = (late_year >= 1) & (late_year <= 9999) & (early_year >= 1) & (early_year <= 9999)
        # a year out of the calendar is clipped into it only to keep the date functions total; such
        # a row's age is null (unknown, with the problem below)
        safe_late, safe_early = late_year.clip(1, 9999), early_year.clip(1, 9999)

        def shifted(y: pl.Expr) -> pl.Expr:
            fixed_day = pl.when((month == 2) & (day == 29) & ~leap(y)).then(28).otherwise(day)
            return pl.date(y, month, fixed_day)

        latest = self.temp(shifted(safe_late))
        earliest = self.temp(shifted(safe_early) + pl.duration(days=1))
        valid = valid & ~((early_year == 9999) & (month == 12) & (day == 31))
        first, second = years_between(latest, as_of), years_between(earliest, as_of)
        low = pl.min_horizontal(first, second)
        high = pl.max_horizontal(first, second)
        has_birth = birth.is_not_null()
        from_record = ~has_birth & recorded.is_not_null() & recorded_on.is_not_null()
        lo = self.temp(integer(pl.when(has_birth).then(exact).when(from_record & valid).then(low)))
        hi = self.temp(integer(pl.when(has_birth).then(exact).when(from_record & valid).then(high)))
        key = self.subject_bits([node.birth_key]) if node.scope == 0 else self.item_bits(node.birth_key)
        bits = masked(key, lo.is_null() | (lo != hi))
        problem = masked(self.subject_bits([Keys.problem("eval/date-out-of-range")]), from_record & ~valid)
        return Col("num", lo=lo, hi=hi, bits=union(bits, problem), exact=False)

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
        return Col("date", v=value, bits=masked(day.bits, value.is_null()))

    def date_call(self, node: DateCall) -> Col:
        args = [self.compile(a) for a in node.args]
        if node.func == "year":
            (d,) = args
            assert d.v is not None
            value = integer(d.v.dt.year())
            return Col("num", lo=value, hi=value, bits=d.bits)
        if node.func == "years_between":
            start, end = args
            assert start.v is not None
            assert end.v is not None
            value = self.temp(integer(years_between(start.v, end.v)))
            unknown = value.is_null()
            return Col(
                "num",
                lo=value,
                hi=value,
                bits=masked(union(start.bits, end.bits), unknown),
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
            bits=masked(union(lower.bits, upper.bits), unknown),
        )


COMPUTED = (Not, Logic, Compare, Member, InPool, Arith, Neg, If, Age, DateCall, DateShift)
