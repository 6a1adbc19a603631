# pylint: disable=duplicate-code  # a second back end of the shared lowering: it mirrors the Polars one node for node
"""The operators of a columnar plan lowered into Spark columns (`Operators`), node for node as
the Polars back end lowers them (`gspolicy.columnar.polars_lower`): constants, fields, facts,
Kleene logic (Spark's ``AND``, ``OR`` and ``NOT`` are Kleene's), comparisons of exact values and
of ranges (two decimals always compared in one explicit type: the common type Spark would pick
for them may round), membership, arithmetic with its precision guard, conditionals, ages and
dates — never skipping an unknown."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING

import attrs

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
from gspolicy.spark.lower_columns import (
    DIGITS,
    PRECISION,
    SCol,
    bound_column,
    compare,
    decimal,
    decimal_type,
    integer,
    leap,
    masked,
    no_bits,
    number,
    ordering,
    scale_of,
    union,
    without_problems,
    years_between,
)
from gspolicy.spark.lower_nodes import COMPUTED, FACTOR, NodeLowering

if TYPE_CHECKING:
    from pyspark.sql import Column

__all__ = ["Operators"]


def _scaled(col: SCol, scale: int) -> SCol:
    """A number's bounds as decimals of `scale` places (an infinite end as it is)."""
    if col.scale == scale and col.lo is col.hi:
        lo = col.lo if isinstance(col.lo, Decimal) or col.lo is None else decimal(col.lo, scale)
        return attrs.evolve(col, lo=lo, hi=lo)
    ends = [b if isinstance(b, Decimal) or b is None else decimal(b, scale) for b in (col.lo, col.hi)]
    return attrs.evolve(col, lo=ends[0], hi=ends[1], scale=scale)


class Operators(NodeLowering):
    """`NodeLowering` with every node but the lists' (`gspolicy.spark.lower_aggregates`)."""

    def compile_node(self, node: Node) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        if isinstance(node, Const):
            return self.constant(node)
        if isinstance(node, Unknowable):
            dtype = {"bool": "boolean", "date": "date", "text": "string", "set": "array<string>"}
            bits = self.subject_bits(node.keys | node.problems)
            if node.kind == "num":
                none = f.lit(None).cast(decimal_type(0))
                return SCol("num", lo=none, hi=none, bits=bits)
            if node.kind not in dtype:
                raise NotLowered(f"an unknown value of kind {node.kind}")
            return SCol(node.kind, v=f.lit(None).cast(dtype[node.kind]), bits=bits)
        if isinstance(node, Range):
            lo = node.low if node.low.is_infinite() else number(node.low)[0]
            hi = node.high if node.high.is_infinite() else number(node.high)[0]
            scale = max(scale_of(x) for x in (node.low, node.high) if x.is_finite())
            return SCol("num", lo=lo, hi=hi, bits=self.subject_bits(node.keys), scale=scale, exact=False)
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Present):
            if node.scope == 0 and self.item is not None:
                return self.subject_level(node)
            if node.scope == 0:
                read = self.field_column(node.path)
                assert read.v is not None
                return SCol("bool", v=read.v.isNotNull(), depth=read.depth)
            return SCol("bool", v=self.item_column(node.path).isNotNull())
        if isinstance(node, FactRef):
            return self.fact(node)
        if isinstance(node, Not):
            inner = self.compile(node.operand)
            assert inner.v is not None
            return SCol("bool", v=~inner.v, bits=inner.bits, depth=inner.depth)
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
        if isinstance(node, Aggregate | ListValue):
            found = self.columns.get(node)
            if found is None:
                if self.item is not None:
                    return self.subject_level(node)
                found = self.columns[node] = self.list_node(node)
            elif self.item is not None:
                return self.subject_level(node)
            return found
        if isinstance(node, Age):
            return self.age(node)
        if isinstance(node, DateCall):
            return self.date_call(node)
        if isinstance(node, DateShift):
            return self.date_shift(node)
        raise NotLowered(f"a {type(node).__name__} node")

    def list_node(self, node: Aggregate | ListValue) -> SCol:
        raise NotImplementedError  # `gspolicy.spark.lower_aggregates.Lowering`

    def constant(self, node: Const) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        value = node.value
        if node.kind == "num":
            assert isinstance(value, int | Decimal)
            expr, scale = number(value)
            return SCol("num", lo=expr, hi=expr, scale=scale)
        if node.kind == "set":
            assert isinstance(value, frozenset)
            codes = [f.lit(str(v)) for v in sorted(str(v) for v in value)]
            return SCol("set", v=f.array(*codes).cast("array<string>"))
        dtype = {"bool": "boolean", "date": "date", "text": "string"}.get(node.kind)
        if dtype is None:
            raise NotLowered(f"a constant of kind {node.kind}")
        return SCol(node.kind, v=f.lit(value).cast(dtype))

    def field(self, node: Field) -> SCol:
        if node.scope == 0 and self.item is not None:
            return self.subject_level(node)
        if node.scope == 0:
            read = self.field_column(node.path)
            column, depth = read.v, read.depth
            assert column is not None
            bits = masked(self.subject_bits([node.key]), column.isNull())
        else:
            column, depth = self.item_column(node.path), 0
            bits = masked(self.item_bits(node.key), column.isNull())
        if node.kind == "num":
            scale = self.field_scale(node)
            return SCol("num", lo=column, hi=column, bits=bits, scale=scale, depth=depth)
        return SCol(node.kind, v=column, bits=bits, depth=depth)

    def field_scale(self, node: Field) -> int:
        from gspolicy.columnar.frames import SCALES  # noqa: PLC0415

        record = self.spec.name if node.scope == 0 else self.item_record(self.item.path if self.item else ())
        spec = self.schema.field_at(self.schema.records[record], node.path)
        return SCALES.get(spec.kind, 0) if spec is not None else 0

    def fact(self, node: FactRef) -> SCol:
        if self.item is not None:
            return self.subject_level(node)
        found = self.columns.get(node)
        if found is None:
            body = self.facts[(node.pack, node.name)]
            found = self.compile(body)
            if not isinstance(body, COMPUTED):
                found = self.materialize(found)
            self.columns[node] = found
        return found

    def logic(self, node: Logic) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        parts = [self.compile(o) for o in node.operands]
        if not parts:
            return SCol("bool", v=f.lit(node.op == "and"))
        values = [p.v for p in parts if p.v is not None]
        joined = (
            reduce(lambda a, b: a & b, values) if node.op == "and" else reduce(lambda a, b: a | b, values)
        )
        value, depth = self.temp(joined, max(p.depth for p in parts))
        bits = masked(union(*(p.bits for p in parts)), value.isNull())
        return SCol("bool", v=value, bits=bits, depth=depth)

    def comparison(self, op: str, a: SCol, b: SCol) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        depth = max(a.depth, b.depth)
        if a.kind == "num":
            # both sides in one decimal type: Spark's common type of two decimals may round
            a, b = _scaled(a, max(a.scale, b.scale)), _scaled(b, max(a.scale, b.scale))
        if a.kind != "num" or (a.exact and b.exact):
            left, right = (a.v, b.v) if a.kind != "num" else (a.lo, b.lo)
            assert left is not None
            assert right is not None
            if isinstance(left, Decimal) or isinstance(right, Decimal):
                raise NotLowered("an open range compared as an exact number")
            value, depth = self.temp(compare(op, left, right), depth)
            return SCol("bool", v=value, bits=union(a.bits, b.bits), depth=depth)
        either = a.unknown() | b.unknown()
        none = f.lit(None).cast("boolean")
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
            value = f.when(either, none).when(sure, f.lit(True)).when(never, f.lit(False)).otherwise(none)
            if op == "!=":
                value = ~value
        else:
            assert a.v is not None
            assert b.v is not None
            value = f.when(either, none).otherwise(compare(op, a.v, b.v))
        value, depth = self.temp(value, depth)
        if a.exact and b.exact:
            return SCol("bool", v=value, bits=union(a.bits, b.bits), depth=depth)
        return SCol("bool", v=value, bits=masked(union(a.bits, b.bits), value.isNull()), depth=depth)

    def member(self, node: Member) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        left = self.compile(node.left)
        assert left.v is not None
        codes = sorted(node.codes)
        if not codes:
            return SCol("bool", v=f.lit(False))
        value, depth = self.temp(left.v.isin(codes), left.depth)
        return SCol("bool", v=value, bits=left.bits, depth=depth)

    def in_pool(self, node: InPool) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        left, pool = self.compile(node.left), self.compile(node.pool)
        assert left.v is not None
        assert pool.v is not None
        pool_unknown = pool.v.isNull()
        empty = f.size(pool.v) == 0
        left_unknown = left.v.isNull()
        none = f.lit(None).cast("boolean")
        value = (
            f.when(pool_unknown, none)
            .when(~left_unknown, f.array_contains(pool.v, left.v))
            .when(empty, f.lit(False))
            .otherwise(none)
        )
        from_left = ~pool_unknown & left_unknown & ~empty
        bits = union(pool.bits, masked(left.bits, from_left))
        return SCol("bool", v=value, bits=bits, depth=max(left.depth, pool.depth))

    def arith(self, node: Arith) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        a, b = self.compile(node.left), self.compile(node.right)
        al, ah, bl, bh = bound_column(a.lo), bound_column(a.hi), bound_column(b.lo), bound_column(b.hi)
        depth = max(a.depth, b.depth)

        def size(x: Column, y: Column) -> Column:
            return f.greatest(f.abs(x), f.abs(y)).cast("double")

        if node.op in ("+", "-"):
            scale = max(a.scale, b.scale)
            # one digit below a decimal's 38: the sum's type keeps every place (a larger operand
            # is past the guard's limit, and its record flagged)
            wa, wb = (decimal(x, scale, DIGITS - 1) for x in (al, bl))
            if node.op == "+":
                lo, hi = wa + wb, decimal(ah, scale, DIGITS - 1) + decimal(bh, scale, DIGITS - 1)
            else:
                lo, hi = wa - decimal(bh, scale, DIGITS - 1), decimal(ah, scale, DIGITS - 1) - wb
            exact = wa + wb if node.op == "+" else wa - wb
            magnitude = size(al, ah) + size(bl, bh)
        else:
            scale = a.scale + b.scale
            if scale > DIGITS:
                raise NotLowered("a product with more decimal places than a decimal column holds")
            pa = max(FACTOR, a.scale + 1)
            pb = DIGITS - 1 - pa
            if pb < b.scale + 1:
                raise NotLowered("a product with more decimal places than a decimal column holds")
            # each factor in few enough digits that the product's type keeps every place; a
            # factor that does not fit them flags its record
            held = [(x, decimal(x, a.scale, pa)) for x in (al, ah)] + [
                (y, decimal(y, b.scale, pb)) for y in (bl, bh)
            ]
            for raw, cast in held:
                self.guard(raw.isNotNull() & cast.isNull(), depth)
            (xl, xh), (yl, yh) = [c for _r, c in held[:2]], [c for _r, c in held[2:]]
            corners = [decimal(x * y, scale) for x in (xl, xh) for y in (yl, yh)]
            lo, hi = f.least(*corners), f.greatest(*corners)
            exact = decimal(xl * yl, scale)
            magnitude = size(al, ah) * size(bl, bh)
        lo, hi, exact = (decimal(x, scale) for x in (lo, hi, exact))
        limit = float(10 ** (PRECISION - scale)) / 2
        self.guard(f.coalesce(magnitude, f.lit(0.0)) >= limit, depth)
        if a.exact and b.exact:
            lo, depth = self.temp(exact, depth)
            return SCol("num", lo=lo, hi=lo, bits=union(a.bits, b.bits), scale=scale, depth=depth)
        both_known = ~(a.unknown() | b.unknown())
        lo, _ = self.temp(f.when(both_known, lo), depth)
        hi, depth = self.temp(f.when(both_known, hi), depth)
        interval_or_unknown = lo.isNull() | (lo != hi)
        bits = masked(union(a.bits, b.bits), interval_or_unknown)
        return SCol("num", lo=lo, hi=hi, bits=bits, scale=scale, exact=False, depth=depth)

    def conditional(self, node: If) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        c, a, b = self.compile(node.cond), self.compile(node.then), self.compile(node.orelse)
        assert c.v is not None
        depth = max(c.depth, a.depth, b.depth)
        yes, no = f.coalesce(c.v, f.lit(False)), f.coalesce(~c.v, f.lit(False))
        comps = sorted(set(a.bits) | set(b.bits) | set(c.bits))
        all_bits = union(c.bits, a.bits, b.bits)

        def pick(x: SCol, comp: str) -> Column:
            return x.bits.get(comp, no_bits())

        if node.kind == "num":
            scale = max(a.scale, b.scale)
            al, ah, bl, bh = (decimal(bound_column(x), scale) for x in (a.lo, a.hi, b.lo, b.hi))

            def exact(x: SCol, lo: Column, hi: Column) -> Column:
                same = lo.isNotNull() & (lo == hi)
                quiet = [e == 0 for e in x.bits.values()]
                return reduce(lambda p, q: p & q, [same, *quiet])

            equal = exact(a, al, ah) & exact(b, bl, bh) & (al == bl)
            both = ~(a.unknown() | b.unknown())
            low, high = f.least(al, bl), f.greatest(ah, bh)
            lo = f.when(yes, al).when(no, bl).when(equal, al).when(both, low)
            hi = f.when(yes, ah).when(no, bh).when(equal, ah).when(both, high)
            spread = both & (low != high)
            ranged = without_problems(all_bits)
            bits = {
                comp: f.when(yes, pick(a, comp))
                .when(no, pick(b, comp))
                .when(equal, no_bits())
                .when(both & ~spread, no_bits())
                .when(both, ranged.get(comp, no_bits()))
                .otherwise(all_bits.get(comp, no_bits()))
                for comp in comps
            }
            return SCol("num", lo=lo, hi=hi, bits=bits, scale=scale, exact=False, depth=depth)
        assert a.v is not None
        assert b.v is not None
        equal = a.v.isNotNull() & b.v.isNotNull() & (a.v == b.v)
        value = f.when(yes, a.v).when(no, b.v).when(equal, a.v)
        bits = {
            comp: f.when(yes, pick(a, comp))
            .when(no, pick(b, comp))
            .when(equal, no_bits())
            .otherwise(all_bits.get(comp, no_bits()))
            for comp in comps
        }
        return SCol(node.kind, v=value, bits=bits, depth=depth)

    def age(self, node: Age) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        if node.scope == 0 and self.item is not None:
            return self.subject_level(node)

        def read(name: str | None, dtype: str) -> tuple[Column, int]:
            if name is None:
                return f.lit(None).cast(dtype), 0
            if node.scope == 0:
                col = self.field_column((name,))
                assert col.v is not None
                return col.v, col.depth
            return self.item_column((name,)), 0

        as_of = f.lit(node.as_of).cast("date")
        birth, d1 = read(node.birth, "date")
        recorded_raw, d2 = read(node.recorded, "long")
        recorded = recorded_raw.cast("long")
        recorded_on, d3 = read(node.recorded_on, "date")
        depth = max(d1, d2, d3)
        exact = years_between(birth, as_of)
        year, month, day = f.year(recorded_on), f.month(recorded_on), f.dayofmonth(recorded_on)
        late_year = year.cast("long") - recorded
        early_year = late_year - 1
        valid = (late_year >= 1) & (late_year <= 9999) & (early_year >= 1) & (early_year <= 9999)
        safe_late = f.least(f.greatest(late_year, f.lit(1)), f.lit(9999)).cast("int")
        safe_early = f.least(f.greatest(early_year, f.lit(1)), f.lit(9999)).cast("int")

        def shifted(y: Column) -> Column:
            fixed_day = f.when((month == 2) & (day == 29) & ~leap(y), f.lit(28)).otherwise(day)
            return f.make_date(y, month, fixed_day)

        latest, _ = self.temp(shifted(safe_late), depth)
        earliest, depth2 = self.temp(f.date_add(shifted(safe_early), 1), depth)
        valid = valid & ~((early_year == 9999) & (month == 12) & (day == 31))
        first, second = years_between(latest, as_of), years_between(earliest, as_of)
        low, high = f.least(first, second), f.greatest(first, second)
        has_birth = birth.isNotNull()
        from_record = ~has_birth & recorded.isNotNull() & recorded_on.isNotNull()
        lo, _ = self.temp(integer(f.when(has_birth, exact).when(from_record & valid, low)), depth2)
        hi, depth = self.temp(integer(f.when(has_birth, exact).when(from_record & valid, high)), depth2)
        key = self.subject_bits([node.birth_key]) if node.scope == 0 else self.item_bits(node.birth_key)
        bits = masked(key, lo.isNull() | (lo != hi))
        problem = masked(self.subject_bits([Keys.problem("eval/date-out-of-range")]), from_record & ~valid)
        return SCol("num", lo=lo, hi=hi, bits=union(bits, problem), exact=False, depth=depth)

    def date_shift(self, node: DateShift) -> SCol:
        """The day whole months after a date: ``add_months`` clamps a day the month reached
        lacks to its last day, as Polars does; the other rule takes the day after."""
        from pyspark.sql import functions as f  # noqa: PLC0415

        day = self.compile(node.day)
        assert day.v is not None
        clamped = f.add_months(day.v, node.months)
        if node.missing_day == "first_day_of_next_month":
            clamped = f.when(f.dayofmonth(clamped) != f.dayofmonth(day.v), f.date_add(clamped, 1)).otherwise(
                clamped
            )
        value, depth = self.temp(clamped, day.depth)
        return SCol("date", v=value, bits=masked(day.bits, value.isNull()), depth=depth)

    def date_call(self, node: DateCall) -> SCol:
        from pyspark.sql import functions as f  # noqa: PLC0415

        args = [self.compile(a) for a in node.args]
        depth = max(a.depth for a in args)
        if node.func == "year":
            (d,) = args
            assert d.v is not None
            value = integer(f.year(d.v))
            return SCol("num", lo=value, hi=value, bits=d.bits, depth=depth)
        if node.func == "years_between":
            start, end = args
            assert start.v is not None
            assert end.v is not None
            value, depth = self.temp(integer(years_between(start.v, end.v)), depth)
            bits = masked(union(start.bits, end.bits), value.isNull())
            return SCol("num", lo=value, hi=value, bits=bits, depth=depth)
        day, first, last = args
        lower = self.comparison("<=", first, day)
        upper = self.comparison("<=", day, last)
        assert lower.v is not None
        assert upper.v is not None
        value, depth = self.temp(lower.v & upper.v, max(lower.depth, upper.depth))
        bits = masked(union(lower.bits, upper.bits), value.isNull())
        return SCol("bool", v=value, bits=bits, depth=depth)
