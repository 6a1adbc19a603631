"""The columnar runner equals the per-record evaluator and the traced interpreter.

Held on every value of every condition — truth, what would settle it, the problems behind it —
for generated packs (every construct of the language; parameters exact, ranges and not
established) on generated households (missing values, values at each threshold, empty lists,
29 February births), and on every household of the example registry with the bundled packs,
down to the `Outcome`.  Planted bugs in the runner (a Kleene rule wrong, an `any` that skips
unknowns, a threshold off by one, a float comparison, an inner join dropping households without
members, an age one day off at 29 February) are each caught.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from gspolicy._location import Source
from gspolicy.columnar import polars_columns, polars_lower
from gspolicy.columnar import run as columnar_run
from gspolicy.columnar.run import decide_columnar, values_by_columns
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import decide_outcome
from gspolicy.engine.run import PackValues, run_pack
from gspolicy.lang.values import Unknown, Value
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.model import Record
from gspolicy.strategies import from_schema, packs

from support.bundled import shared_policies, shared_registry

POLICIES = shared_policies()
SCHEMA = POLICIES.schema
EXIT = "exit_criteria.household"
DAYS = st.sampled_from(
    [
        dt.date(2016, 2, 29),
        dt.date(2017, 2, 28),
        dt.date(2018, 12, 31),
        dt.date(2020, 3, 1),
        dt.date(2021, 3, 1),
    ]
)
# reasons a generated pack may be decided record by record instead (each said in the run's report)
ALLOWED_FALLBACKS = (
    "division",
    "more than 38 digits",
    "open range",
    "equal ends",
    "decimal places",
    "an aggregate inside an aggregate",
)


def _plain(value: Value | None) -> object:
    """A value with its problems as codes (a decoded problem has no location)."""
    if isinstance(value, Unknown):
        return ("unknown", value.missing, frozenset(d.code for d in value.problems))
    return value


def _plain_values(values: PackValues) -> object:
    buffer = None
    if values.buffer is not None:
        buffer = (
            _plain(values.buffer.retained),
            {k: _plain(v) for k, v in values.buffer.active.items()},
            {k: _plain(v) for k, v in values.buffer.until.items()},
        )
    return (
        _plain(values.applies),
        {k: _plain(v) for k, v in values.givens.items()},
        {k: _plain(v) for k, v in values.criteria.items()},
        {k: _plain(v) for k, v in values.rules.items()},
        buffer,
    )


def _same_values(
    pack: CheckedPack, records: Sequence[Record], day: dt.date, *, traced: bool = True
) -> str | None:
    by_columns, reason, _fell_back = values_by_columns(pack, records, day)
    for record, got in zip(records, by_columns, strict=True):
        want = lower(pack, day).run(record)
        assert _plain_values(got) == _plain_values(want), record
        if traced:
            assert _plain_values(want) == _plain_values(run_pack(pack, record, day).values())
    return reason


# -- generated packs --------------------------------------------------------------------------------


class _Shown:
    """A generated pack shown by its text when an example fails (its tree would run to pages)."""

    def __init__(self, pack: CheckedPack) -> None:
        self.pack = pack

    def __repr__(self) -> str:
        return f"pack from:\n{self.pack.pack.source.text}"


_LINE = re.compile(r"      2016-01-01: \{value: (-?[0-9.]+), source: notice\}")


@st.composite
def _varied_packs(draw: st.DrawFn) -> _Shown:
    """Generated packs whose parameter `line` is exact, a range or not established."""
    pack = draw(packs(SCHEMA, max_criteria=4, max_rules=2, max_depth=3))
    kind = draw(st.sampled_from(["exact", "range", "open", "not established"]))
    if kind == "exact":
        return _Shown(pack)
    text = pack.pack.source.text
    found = _LINE.search(text)
    assert found is not None
    low = Decimal(found.group(1))
    if kind == "range":
        high = low + draw(st.integers(1, 500))
        value = f"{{at_least: {{value: {low}, source: notice}}, at_most: {{value: {high}, source: notice}}}}"
    elif kind == "open":
        value = f"{{at_least: {{value: {low}, source: notice}}}}"
    else:
        value = "{not_established: true, source: notice}"
    changed = text[: found.start()] + f"      2016-01-01: {value}" + text[found.end() :]
    source = Source(pack.pack.source.name, changed)
    read, problems = read_pack(source)
    assert read is not None, [d.render("en") for d in problems]
    checked, problems = check_pack(read, SCHEMA)
    assert checked is not None, [d.render("en") for d in problems if d.is_error]
    return _Shown(checked)


@pytest.mark.slow
@settings(
    max_examples=20,  # each a generated pack run by Polars: about 0.45 CPU-s an example (30 until
    # the suite's budget made room for the native Spark path)
    deadline=None,
    suppress_health_check=list(HealthCheck),
    # no explain phase: tracing the shrunk example through Polars takes minutes
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(pack=_varied_packs(), households=st.lists(from_schema(SCHEMA), min_size=1, max_size=6), day=DAYS)
def test_generated_packs_give_the_same_values_by_columns(
    pack: _Shown, households: list[Record], day: dt.date
) -> None:
    reason = _same_values(pack.pack, households, day)
    assert reason is None or any(r in reason for r in ALLOWED_FALLBACKS), reason


def _born(day: dt.date, **member: object) -> Record:
    household = POLICIES.household(
        {
            "id": "620000-9999",
            "size": 1,
            "members": [{"id": "620000-9999-01", "birth_date": day.isoformat(), **member}],
        }
    )
    return household


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    pack=packs(SCHEMA, max_criteria=3, max_rules=2, max_depth=2).map(_Shown),
    leap_year=st.sampled_from([1948, 1956, 1996, 2000, 2004]),
    day=st.sampled_from([(2, 28), (2, 29), (3, 1)]),
    year=st.sampled_from([2016, 2017, 2019, 2020]),
)
@pytest.mark.slow  # a property run by Polars: full suite
def test_29_february_births_give_the_same_ages_by_columns(
    pack: _Shown, leap_year: int, day: tuple[int, int], year: int
) -> None:
    month, dom = day
    assume(not (month == 2 and dom == 29 and year % 4))
    records = [
        _born(dt.date(leap_year, 2, 29)),
        _born(dt.date(leap_year, 3, 1)),
        _born(dt.date(leap_year, 2, 28)),
    ]
    _same_values(pack.pack, records, dt.date(year, month, dom))


def test_households_without_members_or_history_keep_their_rows() -> None:
    records = [
        POLICIES.household({"id": "620000-0001"}),
        POLICIES.household({"id": "620000-0002", "members": []}),
        shared_registry()[0],
        POLICIES.household({"id": "620000-0003", "support": []}),
    ]
    day = dt.date(2018, 12, 31)
    outcomes, report = decide_columnar(POLICIES.policy_set, records, day, exit_pack=EXIT)
    assert report.fallback_records == 0
    assert outcomes == [decide_outcome(POLICIES.policy_set, r, day, exit_pack=EXIT) for r in records]


# -- the bundled packs on the registry --------------------------------------------------------------


def _registry_matches(records: Sequence[Record], day: dt.date) -> None:
    outcomes, report = decide_columnar(POLICIES.policy_set, records, day, exit_pack=EXIT)
    assert report.fallback_packs == ()  # every bundled household pack lowers
    assert report.fallback_records == 0
    for record, outcome in zip(records, outcomes, strict=True):
        assert outcome == decide_outcome(POLICIES.policy_set, record, day, exit_pack=EXIT), record.get("id")


@pytest.mark.slow
@pytest.mark.parametrize("day", [dt.date(2018, 12, 31), dt.date(2020, 6, 30)])
def test_the_registry_gives_the_same_outcomes_by_columns(day: dt.date) -> None:
    """Every household of the example registry; 2020 has the income line as a range."""
    _registry_matches(shared_registry(), day)


def test_no_bundled_pack_falls_back() -> None:
    for day in (dt.date(2016, 6, 30), dt.date(2018, 12, 31), dt.date(2021, 6, 30)):
        run = columnar_run.plan_run(POLICIES.policy_set, "household", day)
        assert run.fallback_packs == (), day


# -- planted bugs ---------------------------------------------------------------------------------

_SAMPLE = [
    *shared_registry()[::25],
    POLICIES.household({"id": "620000-0001"}),
    _born(dt.date(2000, 2, 29)),
    _born(dt.date(2002, 3, 1)),
    _born(dt.date(2002, 2, 28)),
    # turning 6, school age, on 1 March of a common year (not on 28 February)
    _born(dt.date(2012, 2, 29), dropped_out=True, dropout_reason="work"),
    _born(dt.date(2012, 3, 1), dropped_out=True, dropout_reason="work"),
]


# Sums a float gets wrong (0.1 + 0.2 is not 0.3 in binary floating point).
_FINE = """format: 1
pack: fine.pack
version: "1"
kind: exit
valid_from: 2016-01-01
title: {zh: 精细比较, en: A fine comparison}
department: office
departments:
  office: {zh: 扶贫办, en: Poverty Alleviation Office}
sources:
  notice: {title: {zh: 通知, en: A notice}, confidence: M}
parameters:
  line:
    title: {zh: 标准, en: A line}
    values:
      2016-01-01: {value: 0.3, source: notice}
criteria:
  - id: within
    title: {zh: 不高于标准, en: Within the line}
    require: income.wages + income.production <= line
    cite: {source: notice}
"""


def _fine_pack() -> CheckedPack:
    read, problems = read_pack(Source("fine.pack.yaml", _FINE))
    assert not problems, [d.render("en") for d in problems]
    assert read is not None
    checked, problems = check_pack(read, SCHEMA)
    assert checked is not None, [d.render("en") for d in problems if d.is_error]
    return checked


def _caught() -> bool:
    columnar_run._RUNS.clear()
    incomes = [("0.1", "0.2"), ("0.2", "0.1"), ("0.1", "0.21"), ("0.01", "0.29")]
    fine = [
        POLICIES.household({"id": "620000-0009", "income": {"wages": a, "production": b}}) for a, b in incomes
    ]
    try:
        _same_values(_fine_pack(), fine, dt.date(2018, 12, 31), traced=False)
        for day in (dt.date(2018, 2, 28), dt.date(2018, 3, 1), dt.date(2018, 12, 31), dt.date(2020, 6, 30)):
            _registry_matches(_SAMPLE, day)
    except (AssertionError, pl.exceptions.PolarsError, columnar_run.ColumnarError):
        return True
    finally:
        columnar_run._RUNS.clear()
    return False


def test_the_sample_passes_without_a_planted_bug() -> None:
    assert not _caught()


def test_a_planted_wrong_kleene_and_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = polars_lower.Lowering.logic

    def wrong(self, node):  # type: ignore[no-untyped-def]
        col = original(self, node)
        return polars_columns.Col(
            "bool", v=col.v.fill_null(node.op == "and"), bits=col.bits
        )  # unknown as true

    monkeypatch.setattr(polars_lower.Lowering, "logic", wrong)
    assert _caught()


def test_a_planted_any_that_skips_unknowns_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = pl.Expr.any

    def skipping(self, *, ignore_nulls=True):  # type: ignore[no-untyped-def]
        return original(self, ignore_nulls=True)

    monkeypatch.setattr(pl.Expr, "any", skipping)
    assert _caught()


def test_a_planted_threshold_off_by_one_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = polars_lower.Lowering.comparison

    def shifted(self, op, a, b):  # type: ignore[no-untyped-def]
        return original(self, "<" if op == "<=" else op, a, b)

    monkeypatch.setattr(polars_lower.Lowering, "comparison", shifted)
    assert _caught()


def test_a_planted_float_reading_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers read as binary floats (as inferring a frame's schema from JSON does), then compared."""
    original = polars_lower.Lowering.field

    def floating(self, node):  # type: ignore[no-untyped-def]
        col = original(self, node)
        if col.kind != "num":
            return col
        lo, hi = col.lo.cast(pl.Float64), col.hi.cast(pl.Float64)
        return polars_columns.Col("num", lo=lo, hi=hi, bits=col.bits, scale=col.scale, exact=col.exact)

    monkeypatch.setattr(polars_lower.Lowering, "field", floating)
    assert _caught()


def test_a_planted_inner_join_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = pl.LazyFrame.join

    def inner(self, other, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["how"] = "inner"
        return original(self, other, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "join", inner)
    assert _caught()


def test_a_planted_age_one_day_off_at_29_february_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def off(start, end):  # type: ignore[no-untyped-def]
        start_md = start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)
        end_md = end.dt.month().cast(pl.Int32) * 100 + end.dt.day().cast(pl.Int32)
        # 29 February taken as 28 February: a birthday a day early in common years
        start_md = pl.when(start_md == 229).then(228).otherwise(start_md)
        forward = end.dt.year() - start.dt.year() - (end_md < start_md).cast(pl.Int32)
        backward = -(start.dt.year() - end.dt.year() - (start_md < end_md).cast(pl.Int32))
        return pl.when(end >= start).then(forward).otherwise(backward)

    monkeypatch.setattr(polars_lower, "years_between", off)
    assert _caught()
