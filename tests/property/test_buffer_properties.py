"""Properties of the buffer after exit, on generated exited households, each shown to catch a
planted bug.

* **The state.**  The buffer is active exactly from the exit date to the end of the transition
  (2025-12-31), on the campaign basis until 2020-12-31 and on the transition basis from
  2021-01-01, and never on or after the date the household returned to poverty.
* **Nothing held at exit is lost before its own end.**  Whenever the buffer is active, every
  support-history item held on the exit date and not past its own end date on the as-of date —
  worked out here directly from the record, *not* through gspolicy's `held_on` — is among the
  retained measures with the same measure id and the same period start, retained until a date on
  or after the as-of date; nothing else is retained (the bundled measures of the generated
  histories declare no `lapses_when`).
* **Not reduced (campaign).**  Under `buffer.campaign` each retained measure's amount is the amount
  held at exit (compared as numbers, item by item), and `Decision.support` never pays that measure
  less.
* **Stable within a basis.**  Between two as-of dates inside the same basis period no retained
  measure disappears (by measure, period start and history item) but at its own end date, and
  under the campaign basis none changes its amount.

Each property is a plain function that raises `AssertionError` when it does not hold; the `@given`
tests run it on generated examples, and the planted-bug tests monkeypatch a bug into
`gspolicy.explain.build` or `gspolicy.explain.buffer` and show, with `hypothesis.find`, that the
same function then fails.
The households are decided with the bundled buffer pack and the test-only measures pack
`demo.measures` (tests/fixtures/buffer_measures/), whose version 2021.1 lowers an amount.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from gspolicy._resources import bundled_policies
from gspolicy.api import load_policies
from gspolicy.engine.outcome import measure_in_force, show_value
from gspolicy.explain import buffer as buffer_module
from gspolicy.explain import build
from gspolicy.explain.decision import BufferState, Decision, RetainedMeasure

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "buffer_measures"
POLICIES = load_policies([bundled_policies() / "buffer_period", FIXTURE])

# the bases' ends, as the bundled buffer pack sets them (parameters campaign_buffer_end,
# transition_start, transition_end); a change there must change these on purpose
PACK_START = dt.date(2016, 1, 1)  # the buffer pack's valid_from: no buffer state before it
CAMPAIGN_END = dt.date(2020, 12, 31)
TRANSITION_START = dt.date(2021, 1, 1)
TRANSITION_END = dt.date(2025, 12, 31)
BOUNDARIES = tuple(d + dt.timedelta(days=k) for d in (CAMPAIGN_END, TRANSITION_END) for k in (-1, 0, 1))

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# how hard a planted-bug test looks for a counterexample (no shrinking: any example will do)
HUNT = settings(
    max_examples=400,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# two measures the test pack defines (with amounts that change in 2021) and one no pack defines
MEASURES = ("microcredit", "preschool_fee_waiver", "ranger_post")


# -- strategies -------------------------------------------------------------------------------------


def _around(day: dt.date, low: int, high: int) -> st.SearchStrategy[dt.date]:
    """A day near `day`: often the day before, of or after it, else anywhere in [low, high] days."""
    offsets = st.one_of(st.sampled_from((-1, 0, 1)), st.integers(low, high))
    return offsets.map(lambda k: day + dt.timedelta(days=k))


@st.composite
def support_items(draw: st.DrawFn, exit_on: dt.date) -> dict[str, Any]:
    """One history item whose start and end fall around the exit date (before, on, after)."""
    start = draw(_around(exit_on, -1500, 400))
    end = draw(st.none() | _around(exit_on, -200, 200) | _around(start, 0, 3000))
    item: dict[str, Any] = {"measure": draw(st.sampled_from(MEASURES)), "start": start}
    amount = draw(
        st.none()
        | st.integers(0, 100_000)
        | st.decimals(0, 100_000, places=2, allow_nan=False, allow_infinity=False)
    )
    if amount is not None:
        item["amount"] = amount
    if end is not None:
        item["end"] = max(end, start)  # the schema wants end ≥ start
    return item


@st.composite
def households(draw: st.DrawFn) -> dict[str, Any]:
    """An exited household with a support history around its exit date, sometimes returned later."""
    exit_on = draw(
        st.one_of(st.dates(dt.date(2016, 1, 1), dt.date(2021, 6, 30)), st.sampled_from(BOUNDARIES))
    )
    registration: dict[str, Any] = {
        "category": "general",
        "status": "exited",
        "identified_on": dt.date(2014, 6, 1),
        "exited_on": exit_on,
    }
    if draw(st.booleans()):
        registration["returned_on"] = draw(_around(exit_on, 0, 3000).filter(lambda d: d >= exit_on))
        registration["status"] = draw(st.sampled_from(("returned", "exited")))
    return {
        "id": "P-BUF",
        "county_code": "621126",
        "region_class": "west",
        "registration": registration,
        "support": draw(st.lists(support_items(exit_on), max_size=6)),
        "members": [{"id": "m1", "relation": "head", "sex": "male", "birth_date": dt.date(1970, 3, 1)}],
    }


def as_of_dates(household: dict[str, Any]) -> st.SearchStrategy[dt.date]:
    """An as-of date: near the exit or the return date, on a basis boundary, or anywhere after."""
    reg = household["registration"]
    near = [_around(reg["exited_on"], -30, 3700), st.sampled_from(BOUNDARIES)]
    if "returned_on" in reg:
        near.append(_around(reg["returned_on"], -30, 30))
    return st.one_of(near).map(lambda d: max(d, PACK_START))


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date]:
    household = draw(households())
    return household, draw(as_of_dates(household))


@st.composite
def pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date, dt.date]:
    household = draw(households())
    first, second = sorted((draw(as_of_dates(household)), draw(as_of_dates(household))))
    return household, first, second


# -- the properties ---------------------------------------------------------------------------------


LOAN_DRAWN = "loan, drawn "  # microcredit is a loan in demo.measures: kept as what was drawn


def _num(value: object) -> Decimal | None:
    text = None if value is None else str(value).removeprefix(LOAN_DRAWN)
    return None if text in (None, "?") else Decimal(str(text))


def _buffer(decision: Decision) -> BufferState:
    assert decision.buffer is not None, "the buffer pack gave no buffer state"
    return decision.buffer


def held_at_exit(household: dict[str, Any], as_of: dt.date | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The history items held on the exit date, straight from the record: start ≤ exit and
    (no end or exit ≤ end); with `as_of`, only those not past their own end on that day."""
    exit_on = household["registration"]["exited_on"]
    last = exit_on if as_of is None else max(exit_on, as_of)
    return [
        (i, item)
        for i, item in enumerate(household["support"])
        if item["start"] <= exit_on and ("end" not in item or last <= item["end"])
    ]


def state_holds(household: dict[str, Any], as_of: dt.date, decision: Decision) -> None:
    reg = household["registration"]
    returned = "returned_on" in reg and reg["returned_on"] <= as_of
    in_period = reg["exited_on"] <= as_of <= TRANSITION_END
    buffer = _buffer(decision)
    if not in_period or returned:
        assert buffer.status == "inactive", (buffer.status, as_of)
        return
    assert buffer.status == "active", (buffer.status, as_of)
    assert buffer.basis == ("buffer.campaign" if as_of <= CAMPAIGN_END else "buffer.transition")
    assert buffer.until == (CAMPAIGN_END if as_of <= CAMPAIGN_END else TRANSITION_END)


def retained_holds(household: dict[str, Any], as_of: dt.date, decision: Decision) -> None:
    buffer = _buffer(decision)
    if buffer.status != "active":
        assert buffer.retained == ()
        return
    held = held_at_exit(household, as_of)
    # every item held at exit and not past its own end, and nothing else, by measure id and start
    assert Counter((r.measure, r.held_from) for r in buffer.retained) == Counter(
        (item["measure"], item["start"]) for _, item in held
    )
    for r in buffer.retained:
        assert r.basis == buffer.basis
        assert r.until is not None, r.measure
        assert r.until >= as_of, (r.measure, r.until, as_of)
    if buffer.basis != "buffer.campaign":
        return
    # campaign: the amount held at exit, item by item (never less, never from elsewhere)
    assert Counter((r.measure, r.held_from, _num(r.amount)) for r in buffer.retained) == Counter(
        (item["measure"], item["start"], _num(item.get("amount"))) for _, item in held
    )
    # `support` has one line per retained history item: a measure is paid its highest known amount
    paid: dict[str, Any] = {}
    for measure, amount, _ in decision.support:
        if amount is not None and amount.startswith("loan"):
            # a loan is what was drawn, not support paid: it is shown, never paid
            assert amount.startswith(LOAN_DRAWN), amount
            continue
        number = _num(amount)
        if number is not None and (paid.get(measure) is None or number > paid[measure]):
            paid[measure] = number
    for _, item in held:
        exit_amount = _num(item.get("amount"))
        if exit_amount is not None and item["measure"] != "microcredit":
            now = paid.get(item["measure"])
            assert now is not None, (item["measure"], "not paid")
            assert now >= exit_amount, (item["measure"], now, exit_amount)


def _kept(r: RetainedMeasure) -> tuple[str, dt.date | None, str]:
    return (r.measure, r.held_from, r.path)


def stable_holds(household: dict[str, Any], first: dt.date, second: dt.date) -> None:
    """Between two as-of dates inside one basis period no retained measure disappears (and under
    the campaign basis none changes its amount)."""
    early = _buffer(POLICIES.evaluate(household, first))
    late = _buffer(POLICIES.evaluate(household, second))
    if not (early.status == late.status == "active" and early.basis == late.basis):
        return
    lost = Counter(_kept(r) for r in early.retained) - Counter(_kept(r) for r in late.retained)
    ended = {
        (r.measure, r.held_from, r.path) for r in early.retained if r.held_until and r.held_until < second
    }
    assert not (set(lost) - ended), (first, second, lost)
    if early.basis == "buffer.campaign":
        amounts = {r.path: r.amount for r in late.retained}
        assert all(amounts[r.path] == r.amount for r in early.retained if _kept(r) not in ended)


def case_holds(household: dict[str, Any], as_of: dt.date) -> None:
    decision = POLICIES.evaluate(household, as_of)
    state_holds(household, as_of, decision)
    retained_holds(household, as_of, decision)


def _fails(check: Callable[..., Any], *args: Any) -> bool:
    try:
        check(*args)
    except AssertionError:
        return True
    return False


# -- the properties hold ----------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_buffer_state_and_retained_measures(case: tuple[dict[str, Any], dt.date]) -> None:
    case_holds(*case)


@SETTINGS
@given(pairs())
def test_no_retained_measure_disappears_within_a_basis(case: tuple[dict[str, Any], dt.date, dt.date]) -> None:
    stable_holds(*case)


def test_the_properties_see_what_they_check() -> None:
    """On a fixed household the checks are not vacuous: the buffer is active, the items held at
    exit (one of them ended after the exit) are found by the test's own rule, amounts compared."""
    household = {
        "id": "P-FIXED",
        "registration": {
            "status": "exited",
            "identified_on": dt.date(2014, 6, 1),
            "exited_on": dt.date(2018, 11, 30),
        },
        "support": [
            {
                "measure": "microcredit",
                "amount": 50000,
                "start": dt.date(2016, 3, 1),
                "end": dt.date(2019, 2, 28),
            },
            {"measure": "preschool_fee_waiver", "amount": 1200, "start": dt.date(2018, 9, 1)},
            {"measure": "ranger_post", "amount": 8000, "start": dt.date(2018, 12, 1)},
        ],
    }
    assert [i for i, _ in held_at_exit(household)] == [0, 1]
    decision = POLICIES.evaluate(household, dt.date(2019, 1, 31))
    assert _buffer(decision).basis == "buffer.campaign"
    assert [(r.measure, r.amount) for r in _buffer(decision).retained] == [
        ("microcredit", "loan, drawn 50000"),
        ("preschool_fee_waiver", "1200"),  # the exit amount, not the 1,000 of demo.measures@2018.1
    ]
    case_holds(household, dt.date(2019, 1, 31))
    # the loan's own term ended on 2019-02-28: from then on it is listed as ended, not kept
    decision = POLICIES.evaluate(household, dt.date(2019, 6, 30))
    assert [r.measure for r in _buffer(decision).retained] == ["preschool_fee_waiver"]
    assert [r.measure for r in _buffer(decision).ended] == ["microcredit"]
    assert "2019-02-28" in _buffer(decision).ended[0].why.en
    case_holds(household, dt.date(2019, 6, 30))
    stable_holds(household, dt.date(2018, 11, 30), dt.date(2020, 12, 31))
    # in the transition the amount of the day applies: 800 from demo.measures@2021.1
    later = POLICIES.evaluate(household, dt.date(2021, 6, 30))
    assert [(r.measure, r.amount) for r in _buffer(later).retained] == [("preschool_fee_waiver", "800")]
    case_holds(household, dt.date(2021, 6, 30))


# -- planted bugs -----------------------------------------------------------------------------------


def _keep_ended_items(original: Callable[..., BufferState | None]) -> Callable[..., BufferState | None]:
    """Bug (i): the retained list keeps items whose own `end` is before the as-of date."""

    def buggy(outcome: Any, policy_set: Any) -> BufferState | None:
        state = original(outcome, policy_set)
        if state is None:
            return None
        return attrs.evolve(state, retained=state.retained + state.ended, ended=())

    return buggy


def _drop_items_early(original: Callable[..., BufferState | None]) -> Callable[..., BufferState | None]:
    """Bug (i b): an item is dropped a year before its own end date."""

    def buggy(outcome: Any, policy_set: Any) -> BufferState | None:
        state = original(outcome, policy_set)
        if state is None:
            return None
        soon = outcome.as_of + dt.timedelta(days=365)
        kept = tuple(r for r in state.retained if r.held_until is None or r.held_until >= soon)
        return attrs.evolve(state, retained=kept)

    return buggy


def _drop_on_odd_days(original: Callable[..., BufferState | None]) -> Callable[..., BufferState | None]:
    """Bug (i c): items without an end of their own are dropped on odd days (unstable)."""

    def buggy(outcome: Any, policy_set: Any) -> BufferState | None:
        state = original(outcome, policy_set)
        if state is None or outcome.as_of.toordinal() % 2 == 0:
            return state
        return attrs.evolve(state, retained=tuple(r for r in state.retained if r.held_until is not None))

    return buggy


def test_planted_bug_keeping_ended_items_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "buffer_of", _keep_ended_items(build.buffer_of))
    household, as_of = find(cases(), lambda case: _fails(case_holds, *case), settings=HUNT)
    # the counterexample: an item held at exit whose own period ended before the as-of date
    assert any("end" in item and item["end"] < as_of for _, item in held_at_exit(household))


def test_planted_bug_dropping_items_early_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "buffer_of", _drop_items_early(build.buffer_of))
    household, as_of = find(cases(), lambda case: _fails(case_holds, *case), settings=HUNT)
    # the counterexample: an item held at exit whose own period has not ended on the as-of date
    assert any("end" in item and as_of <= item["end"] for _, item in held_at_exit(household, as_of))


@pytest.mark.slow  # a search with a planted bug: full suite
def test_planted_unstable_retention_breaks_stability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "buffer_of", _drop_on_odd_days(build.buffer_of))
    # a longer hunt: Hypothesis mixes constants of the modules loaded into its draws, so what
    # else the run collected moves the first counterexample (found after 75 examples alone,
    # not within 400 with the statistics and columnar tests collected)
    household, _, second = find(
        pairs(), lambda case: _fails(stable_holds, *case), settings=settings(HUNT, max_examples=1500)
    )
    assert any("end" not in item for _, item in held_at_exit(household, second))


def _amount_of_the_day(original: Callable[..., RetainedMeasure]) -> Callable[..., RetainedMeasure]:
    """Bug (ii a): under the campaign the amount comes from the measure defined in the pack of the
    day, not from the support history."""

    def buggy(item: Any, path: str, basis: Any, until: Any, outcome: Any, policy_set: Any) -> RetainedMeasure:
        r = original(item, path, basis, until, outcome, policy_set)
        found = measure_in_force(policy_set, r.measure, outcome.as_of)
        if r.amount_rule == "at_exit" and found is not None:
            return attrs.evolve(r, amount=show_value(found[1].amount.value))
        return r

    return buggy


def _ten_percent_less(original: Callable[..., RetainedMeasure]) -> Callable[..., RetainedMeasure]:
    """Bug (ii b): under the campaign the amount kept is a tenth lower than the amount at exit."""

    def buggy(item: Any, path: str, basis: Any, until: Any, outcome: Any, policy_set: Any) -> RetainedMeasure:
        r = original(item, path, basis, until, outcome, policy_set)
        exact = _num(r.amount) if r.form != "loan" else None
        if r.amount_rule == "at_exit" and exact is not None:
            return attrs.evolve(r, amount=show_value(exact * Decimal("0.9")))
        return r

    return buggy


@pytest.mark.parametrize("bug", [_amount_of_the_day, _ten_percent_less], ids=lambda b: b.__name__.strip("_"))
def test_planted_bug_campaign_amount_not_from_history_is_caught(
    bug: Callable[[Callable[..., RetainedMeasure]], Callable[..., RetainedMeasure]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buffer_module, "_retained", bug(buffer_module._retained))
    household, as_of = find(cases(), lambda case: _fails(case_holds, *case), settings=HUNT)
    decision = POLICIES.evaluate(household, as_of)
    assert _buffer(decision).basis == "buffer.campaign"
    # the counterexample pays a retained measure other than its amount at exit
    at_exit = {
        (item["measure"], item["start"], _num(item.get("amount"))) for _, item in held_at_exit(household)
    }
    assert any((r.measure, r.held_from, _num(r.amount)) not in at_exit for r in _buffer(decision).retained)
