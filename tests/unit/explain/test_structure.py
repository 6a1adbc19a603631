"""The structure of every explanation, over decisions on generated households.

Beside the goldens (a few households read closely), these check what must hold for *every*
decision under the 2018 version of the exit pack: one verdict per criterion, in pack order; every
criterion carries readings, a reason in both languages, and a `file:line` that points at the
criterion in its pack file; every parameter it used carries its value, effective date, source and
`file:line` (pointing at the dated value); the income criterion, when decided, carries its value and
threshold, and on a fail a shortfall equal to threshold − value; the zh and en renderings name every
criterion and contain no `?` placeholder and no unfilled `{slot}`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.explain.decision import CriterionVerdict, Decision

from support.households import default_household, exit_cases, exit_households

REPO = bundled_policies().parent
FIRST_2018 = dt.date(2018, 8, 21)
LAST_2018 = dt.date(2020, 12, 31)


def _policies() -> Policies:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)  # pack files are then named `policies/…`
        return load_policies()


POLICIES = _policies()
PACK_2018 = POLICIES.policy_set.in_force("exit_criteria.household", FIRST_2018)
assert PACK_2018 is not None
CRITERIA_2018 = [c.id for c in PACK_2018.pack.criteria]


@cache
def _lines(file: str) -> tuple[str, ...]:
    path = Path(file) if Path(file).is_absolute() else REPO / file
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _line(location: str | None) -> str:
    """The text of the line a `file:line` location points at (fails if there is no such line)."""
    assert location is not None
    match = re.fullmatch(r"(.+):(\d+)", location)
    assert match, f"`{location}` is not file:line"
    file, number = match.group(1), int(match.group(2))
    lines = _lines(file)
    assert 1 <= number <= len(lines), f"{location}: the file has {len(lines)} lines"
    return lines[number - 1]


# A `?` standing alone is a placeholder (`_fill` writes one for a slot it cannot fill); the mark
# of an undetermined criterion at the start of its line is the only `?` a rendering may show.
_MARK = re.compile(r"^    \? ", re.MULTILINE)
_PLACEHOLDER = re.compile(r"(?<![\w?])\?(?![\w?])")
_SLOT = re.compile(r"\{[^{}\n]*\}")


def _range(text: str) -> tuple[Decimal, Decimal] | None:
    """The bounds of a threshold shown as a range (`[3500, 3815.38]`), else None."""
    match = re.fullmatch(r"\[(.+), (.+)\]", text)
    return (Decimal(match.group(1)), Decimal(match.group(2))) if match else None


def check_criterion(decision: Decision, c: CriterionVerdict) -> None:
    assert c.readings, f"{c.id} cites no reading"
    assert c.reason.zh
    assert c.reason.en
    assert c.title.zh
    assert c.title.en
    assert f"id: {c.id}" in _line(c.location), f"{c.id}: {c.location} is not the criterion"
    for p in c.parameters:
        assert p.kind in ("exact", "range"), f"{c.id}: parameter {p.name} is {p.kind}"
        assert p.value
        assert p.value != "?"
        assert p.effective is not None, f"{c.id}: parameter {p.name} has no effective date"
        assert p.source, f"{c.id}: parameter {p.name} has no source"
        assert p.source_title is not None
        assert p.effective <= decision.as_of
        assert _line(p.location).strip().startswith(f"{p.effective.isoformat()}:"), (
            f"{c.id}: parameter {p.name} at {p.location} is not its value of {p.effective}"
        )
    if c.missing:
        assert c.verdict == "undetermined"
    if c.id == "exit.income" and c.verdict in ("pass", "fail"):
        assert c.value is not None
        assert c.threshold is not None
        if c.verdict == "fail":
            assert c.shortfall is not None
            # against a range, the range of the shortfall: from its lower bound (the least that
            # might pass) to its upper bound (the least that passes for sure)
            bounds = _range(c.threshold)
            value = Decimal(c.value)
            low, high = bounds if bounds else (Decimal(c.threshold),) * 2
            gap = _range(c.shortfall)
            if low == high:
                assert gap is None, f"a point threshold with the shortfall range {c.shortfall}"
                assert Decimal(c.shortfall) == high - value
            else:
                assert gap == (low - value, high - value), (c.shortfall, c.threshold, c.value)
            assert (gap or (Decimal(c.shortfall),))[0] >= 0
    if c.verdict != "fail":
        assert c.shortfall is None


def check_rendering(decision: Decision, lang: str) -> None:
    text = decision.render(lang, detail="full")  # type: ignore[arg-type]  # "zh" or "en"
    for c in decision.criteria:
        assert c.id in text, f"{lang}: {c.id} is not shown"
        assert c.reason.get(lang) in text  # type: ignore[arg-type]
        assert c.location in text
    unmarked = _MARK.sub("    ", text)
    assert not _PLACEHOLDER.findall(unmarked), f"{lang}: a `?` placeholder in\n{text}"
    assert not _SLOT.findall(text), f"{lang}: an unfilled slot in\n{text}"


def check_decision(decision: Decision) -> None:
    assert [c.id for c in decision.criteria] == CRITERIA_2018
    assert decision.applicability is not None
    assert decision.applicability.location is not None
    _line(decision.applicability.location)
    for c in decision.criteria:
        check_criterion(decision, c)
    for lang in ("zh", "en"):
        check_rendering(decision, lang)


@pytest.mark.slow  # sixty explained decisions checked whole: full suite
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=exit_cases(min_value=FIRST_2018, max_value=LAST_2018))
def test_every_explanation_under_the_2018_version_is_complete(case: tuple[dict[str, Any], dt.date]) -> None:
    household, as_of = case
    decision = POLICIES.evaluate(household, as_of)
    assert {p.id: p.version for p in decision.packs}["exit_criteria.household"] == "2018.1"
    check_decision(decision)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(household=exit_households(remove=True))
def test_generated_households_are_valid_records(household: dict[str, Any]) -> None:
    """The strategy draws only households the schema accepts (else the tests above would skip them)."""
    record = POLICIES.household(household)
    assert record.get("id") == household["id"]


@pytest.mark.parametrize("per_capita", [3450, 3800, 3800.01, 5200])
def test_the_income_criterion_carries_value_threshold_and_shortfall(per_capita: float) -> None:
    household = default_household()
    household["income"]["per_capita"] = per_capita
    decision = POLICIES.evaluate(household, "2018-12-31")
    check_decision(decision)
    (income,) = (c for c in decision.criteria if c.id == "exit.income")
    stable = Decimal(str(per_capita)) - 300
    assert income.value is not None
    assert Decimal(income.value) == stable
    assert income.threshold == "3500"
    if stable > 3500:
        assert (income.verdict, income.shortfall) == ("pass", None)
    else:
        assert income.verdict == "fail"
        assert income.shortfall is not None
        assert Decimal(income.shortfall) == 3500 - stable


def test_the_checks_catch_a_missing_location() -> None:
    """The structural checks are not vacuous: a decision whose criterion lost its line fails them."""
    import attrs

    decision = POLICIES.evaluate(default_household(), "2018-12-31")
    broken = attrs.evolve(
        decision, criteria=(attrs.evolve(decision.criteria[0], location="?"), *decision.criteria[1:])
    )
    with pytest.raises(AssertionError, match="not file:line"):
        check_decision(broken)


def test_a_fail_against_a_range_standard_states_the_range_of_the_shortfall() -> None:
    household = default_household()
    household["income"].update(per_capita=3500, period_start="2018-10-01", period_end="2019-09-30")
    decision = POLICIES.evaluate(household, "2019-12-31")
    (income,) = (c for c in decision.criteria if c.id == "exit.income")
    assert income.verdict == "fail"  # stable income 3,200 is not above the lower bound 3,218
    # from 3,218 − 3,200 (the least raise that might pass) to 3,815.38 − 3,200 (passes for sure)
    assert income.shortfall == "[18, 615.38]"
    assert "short by 18 to 615.38" in income.reason.en
    assert "差 18 至 615.38 元" in income.reason.zh
    for lang in ("zh", "en"):
        assert not _PLACEHOLDER.findall(_MARK.sub("    ", decision.render(lang, detail="full")))  # type: ignore[arg-type]


def test_an_undetermined_criterion_carries_no_shortfall() -> None:
    household = default_household()
    household["income"].update(per_capita=2000, period_start="2018-01-01", period_end="2018-09-30")
    decision = POLICIES.evaluate(household, "2018-12-31")
    (income,) = (c for c in decision.criteria if c.id == "exit.income")
    assert income.verdict == "undetermined"  # the income period does not cover the assessment period
    assert income.shortfall is None


def test_missing_names_everything_that_would_settle_the_criterion() -> None:
    household = default_household()
    del household["income"]["period_start"]
    del household["income"]["non_counting_transfers"]
    decision = POLICIES.evaluate(household, "2018-12-31")
    (income,) = (c for c in decision.criteria if c.id == "exit.income")
    assert income.verdict == "undetermined"
    # supplying only the period would not settle it: the transfers are needed too
    household["income"]["period_start"] = dt.date(2017, 10, 1)
    again = POLICIES.evaluate(household, "2018-12-31")
    assert next(c for c in again.criteria if c.id == "exit.income").verdict == "undetermined"
    assert set(income.missing) >= {"income.period_start", "income.non_counting_transfers"}
