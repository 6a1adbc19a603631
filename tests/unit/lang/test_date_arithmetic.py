"""Declared date arithmetic: `years_after(n, d)` and `months_after(n, d)` under the pack's rule for
a day the month reached lacks (`missing_day:`), one rule for the interpreter and every runner, and
a lint for arithmetic whose result depends on the rule for some date in the pack's range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy import Policies
from gspolicy.analysis.lint import lint_packs
from gspolicy.errors import Diagnostic
from gspolicy.lang.interpret import shift_months
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from unit.pack._root import write

LAST, NEXT = "last_day_of_month", "first_day_of_next_month"


@pytest.mark.parametrize(
    ("day", "months", "last", "first"),
    [
        (dt.date(2020, 2, 29), 12, dt.date(2021, 2, 28), dt.date(2021, 3, 1)),  # 29 February, a year on
        (dt.date(2020, 2, 29), 48, dt.date(2024, 2, 29), dt.date(2024, 2, 29)),  # four years: it exists
        (dt.date(2019, 1, 31), 1, dt.date(2019, 2, 28), dt.date(2019, 3, 1)),
        (dt.date(2020, 1, 31), 1, dt.date(2020, 2, 29), dt.date(2020, 3, 1)),
        (dt.date(2019, 3, 31), 1, dt.date(2019, 4, 30), dt.date(2019, 5, 1)),
        (dt.date(2019, 12, 31), 6, dt.date(2020, 6, 30), dt.date(2020, 7, 1)),
        (dt.date(2019, 5, 15), 3, dt.date(2019, 8, 15), dt.date(2019, 8, 15)),
        (dt.date(2019, 5, 15), -5, dt.date(2018, 12, 15), dt.date(2018, 12, 15)),
    ],
)
def test_the_two_rules_on_golden_days(day: dt.date, months: int, last: dt.date, first: dt.date) -> None:
    assert shift_months(day, months, LAST) == last
    assert shift_months(day, months, NEXT) == first


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), st.integers(-600, 600))
def test_the_rules_differ_only_on_a_day_the_month_lacks(day: dt.date, months: int) -> None:
    last, first = shift_months(day, months, LAST), shift_months(day, months, NEXT)
    assert last is not None
    assert first is not None
    target = (day.year * 12 + day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    assert (last.year, last.month) == target  # always in the month reached
    if last.day == day.day:
        assert first == last
    else:  # the day is lacking: the month's last day, or the day after it
        assert last.day < day.day
        assert (last + dt.timedelta(days=1)).month != last.month
        assert first == last + dt.timedelta(days=1)


# -- in packs, by every engine ----------------------------------------------------------------------

PACK = """\
format: 1
pack: demo.dates
version: "1"
kind: exit
valid_from: 2016-01-01
valid_to: 2020-12-31
{missing_day}title: {{zh: 日期, en: Dates}}
department: office
departments: {{office: {{zh: 扶贫办, en: Office}}}}
sources:
  doc: {{title: {{zh: 文件, en: Document}}, confidence: H}}
parameters:
  review_day:
    title: {{zh: 复核日, en: Review day}}
    type: date
    values:
      2016-01-01: {{value: {review}, source: doc}}
criteria:
  - id: demo.three_years_on
    title: {{zh: 退出满三年, en: Three years after exit}}
    require: as_of >= years_after(3, registration.exited_on)
    cite: {{source: doc}}
  - id: demo.month_after_review
    title: {{zh: 复核后一个月内, en: Within a month of the review}}
    require: as_of <= months_after(1, review_day)
    cite: {{source: doc}}
"""


def _load(
    root: Path, missing_day: str | None, review: str = "2019-01-31"
) -> tuple[PolicySet | None, list[Diagnostic]]:
    declared = f"missing_day: {missing_day}\n" if missing_day else ""
    write(root, "demo/dates/1.yaml", PACK.format(missing_day=declared, review=review))
    return load_policies([root])


def _household(exited: dt.date) -> dict[str, object]:
    return {"id": "D-1", "registration": {"status": "exited", "exited_on": exited}}


@pytest.mark.parametrize("rule", [LAST, NEXT])
def test_every_engine_applies_the_declared_rule(full_root: Path, rule: str) -> None:
    policy_set, problems = _load(full_root, rule)
    assert policy_set is not None, [d.render("en") for d in problems]
    policies = Policies(policy_set)
    exited = dt.date(2016, 2, 29)
    anniversary = shift_months(exited, 36, rule)  # 2019-02-28 or 2019-03-01
    assert anniversary == (dt.date(2019, 2, 28) if rule == LAST else dt.date(2019, 3, 1))
    days = [anniversary - dt.timedelta(days=1), anniversary, dt.date(2019, 2, 28), dt.date(2019, 3, 1)]
    households = [_household(exited)] * len(days)
    for day in days:
        fast = policies.decide(households[0], day)
        explained = policies.evaluate(households[0], day)
        assert explained.outcome() == fast
        three = next(c for c in explained.criteria if c.id == "demo.three_years_on")
        assert three.verdict == ("pass" if day >= anniversary else "fail"), (rule, day)
        (frame,) = policies.decide_table(households[:1], day)
        assert frame["failing"].to_list() == [list(fast.to_row()["failing"])]


@settings(max_examples=60, deadline=None)
@given(
    exited=st.dates(dt.date(2016, 1, 1), dt.date(2020, 12, 31)),
    day=st.dates(dt.date(2017, 1, 1), dt.date(2020, 12, 31)),
)
def test_the_columnar_runner_shifts_as_the_interpreter(exited: dt.date, day: dt.date) -> None:
    policies = _SHIFTING
    household = _household(exited)
    fast = policies.decide(household, day)
    assert policies.evaluate(household, day).outcome() == fast
    (frame,) = policies.decide_table([household], day)
    assert frame["failing"].to_list() == [list(fast.to_row()["failing"])]


def _shifting() -> Policies:
    root = Path(__file__).resolve().parents[2] / "fixtures" / "dates"
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems]
    return Policies(policy_set)


_SHIFTING = _shifting()


def test_arithmetic_without_a_declared_rule_is_refused_where_it_is(full_root: Path) -> None:
    _, problems = _load(full_root, None)
    errors = [d for d in problems if d.is_error]
    assert [d.code for d in errors] == ["type/missing-day-rule", "type/missing-day-rule"]
    assert errors[0].render("en").startswith("policies/demo/dates/1.yaml:21:23:")
    assert "missing_day: last_day_of_month" in errors[0].render("en")


def test_the_count_is_a_whole_number_written_out(full_root: Path) -> None:
    write(
        full_root,
        "demo/dates/1.yaml",
        PACK.format(missing_day=f"missing_day: {LAST}\n", review="2019-01-31").replace(
            "years_after(3,", "years_after(1.5,"
        ),
    )
    _, problems = load_policies([full_root])
    assert [d.code for d in problems if d.is_error] == ["type/whole-number"]


def test_an_unknown_rule_names_the_two(full_root: Path) -> None:
    _, problems = _load(full_root, "nearest_day")
    (error,) = [d for d in problems if d.is_error]
    assert "last_day_of_month" in error.render("en")
    assert "first_day_of_next_month" in error.render("en")


def test_the_lint_names_arithmetic_the_rule_decides_with_an_example(full_root: Path) -> None:
    policy_set, problems = _load(full_root, NEXT, review="2019-01-31")
    assert policy_set is not None, [d.render("en") for d in problems]
    found = [d for d in lint_packs(policy_set.packs) if d.code == "lint/missing-day-matters"]
    texts = sorted(d.render("en") for d in found)
    assert len(found) == 2
    # a field: the first day of the range where the rules part (29 February 2016, three years on)
    assert any("for 2016-02-29" in t and "2019-02-28 or 2019-03-01" in t for t in texts)
    # a date parameter: its value (31 January + a month)
    assert any(
        "for 2019-01-31" in t and "this pack: first_day_of_next_month, giving 2019-03-01" in t for t in texts
    )


def test_the_lint_is_silent_where_the_rule_cannot_matter(full_root: Path) -> None:
    policy_set, _ = _load(full_root, LAST, review="2019-01-15")
    assert policy_set is not None
    found = [d for d in lint_packs(policy_set.packs) if d.code == "lint/missing-day-matters"]
    assert len(found) == 1  # the review day, the 15th, exists in every month
    assert "years_after(3, registration.exited_on)" in found[0].render("en")
