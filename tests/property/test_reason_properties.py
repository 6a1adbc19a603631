"""Properties of the reasons a decision gives, on generated households, each shown to catch a
planted bug.

* **A quantifier's witness decides on its own.**  When a criterion fails and its reason names an
  item (``members[2]``: the child who dropped out, the member without insurance), the household
  cut down to that item alone still fails the criterion: the named item's own values make it
  fail.  And the reason's text names that item, in both languages.
* **Undetermined always says what would settle it.**  Every undetermined verdict (a criterion,
  the household's exit verdict, its applicability, a batch rule) names at least one data path,
  parameter or criterion that would settle it — an income period that does not cover the period
  checked names the period's fields.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, find, given, settings

from gspolicy.api import Policies
from gspolicy.engine import outcome as outcome_module
from gspolicy.explain import verdicts
from gspolicy.explain.decision import Decision
from gspolicy.lang import why as why_module

from support.bundled import shared_policies
from support.households import default_household, exit_cases

POLICIES = shared_policies()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HUNT = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
Case = tuple[dict[str, Any], dt.date]
_ITEM = re.compile(r"(?P<list>[a-z_]+)\[(?P<index>\d+)\]")

# a child of 10 who dropped out to work, in a household whose head is 48: the head's age is not
# the reason
_DROPOUT = default_household()
_DROPOUT["members"][2].update(dropped_out=True, dropout_reason="work")
# an income period of the year before the year checked
_OLD_PERIOD = default_household()


def check_witnesses(policies: Policies, case: Case) -> int:
    """The property; returns how many witnesses it checked."""
    household, as_of = case
    decision = policies.evaluate(household, as_of)
    checked = 0
    for c in decision.criteria:
        if c.verdict != "fail" or not c.witnesses:
            continue
        found = _ITEM.fullmatch(c.witnesses[0])
        assert found is not None, f"{c.id}: the witness `{c.witnesses[0]}` is not an item of a list"
        name, index = found["list"], int(found["index"])
        if c.id not in _TEMPLATED:
            for text in (c.reason.en, c.reason.zh):
                assert f"`{c.witnesses[0]}`" in text, f"{c.id}: the reason does not name {c.witnesses[0]}"
        alone = copy.deepcopy(household)
        alone[name] = [household[name][index]]
        again = policies.evaluate(alone, as_of)
        verdict = next(x.verdict for x in again.criteria if x.id == c.id)
        assert verdict == "fail", (
            f"{c.id} names `{c.witnesses[0]}`, but that item alone gives {verdict}: "
            "the named item is not what makes the criterion fail"
        )
        checked += 1
    return checked


# criteria whose failure is told by their pack's own text (which need not name the item)
_TEMPLATED = {c.id for p in POLICIES.policy_set.packs for c in p.pack.criteria if c.explain_failed}


def check_settles(decision: Decision) -> None:
    """The property on one decision."""
    for c in decision.criteria:
        if c.verdict == "undetermined":
            assert c.missing, f"{c.id} is undetermined and names nothing that would settle it"
    for m in decision.memberships:
        if m.applies == "undetermined":
            assert m.missing, f"rule {m.rule} is undetermined and names nothing that would settle it"
    if decision.applicability is not None and decision.applicability.status == "undetermined":
        assert decision.applicability.missing, "applicability is undetermined and names nothing"
    if decision.verdict == "undetermined":
        assert decision.missing, "the decision is undetermined and names nothing that would settle it"


@SETTINGS
@given(case=exit_cases())
@example(case=(_DROPOUT, dt.date(2018, 12, 31)))
def test_a_witness_fails_the_criterion_on_its_own(case: Case) -> None:
    check_witnesses(POLICIES, case)


def test_the_dropout_reason_names_the_child_not_the_head() -> None:
    decision = POLICIES.evaluate(_DROPOUT, dt.date(2018, 12, 31))
    education = next(c for c in decision.criteria if c.id == "exit.education")
    assert education.verdict == "fail"
    assert education.witnesses == ("members[2]",)
    for text in (education.reason.en, education.reason.zh):
        assert "`members[2]`" in text
        assert "6 <= 10 <= 15" in text  # the child's age, between the bounds
        assert "48" not in text  # the head's age is no reason
    assert check_witnesses(POLICIES, (_DROPOUT, dt.date(2018, 12, 31))) >= 1


def test_planted_bug_a_witness_that_is_the_first_item_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug (the one this property was written for): a quantifier is explained by its
    first item, whatever that item's own value."""

    def first_item(self: Any, node: Any, want: bool, item: str) -> None:
        records, path = self.run.items(node)
        if not isinstance(records, tuple) or not records:
            return
        where = self.run.item_path(path, 0, records[0])
        saved = self.run.scopes
        self.run.scopes = [*saved[: node.scope], (records[0], where)]
        try:
            self.witnesses.append(where)
            self.explain(node.body, want, where)
        finally:
            self.run.scopes = saved

    monkeypatch.setattr(why_module._Walk, "quantifier", first_item)
    with pytest.raises(AssertionError, match="is not what makes the criterion fail"):
        check_witnesses(POLICIES, (_DROPOUT, dt.date(2018, 12, 31)))
    find(exit_cases(), _fails_witnesses, settings=HUNT)


def _fails_witnesses(case: Case) -> bool:
    try:
        check_witnesses(POLICIES, case)
    except AssertionError:
        return True
    return False


@SETTINGS
@given(case=exit_cases())
@example(case=(_OLD_PERIOD, dt.date(2019, 12, 31)))
def test_every_undetermined_verdict_names_what_would_settle_it(case: Case) -> None:
    household, as_of = case
    check_settles(POLICIES.evaluate(household, as_of))


def test_an_income_period_that_does_not_cover_names_its_fields() -> None:
    decision = POLICIES.evaluate(_OLD_PERIOD, dt.date(2019, 12, 31))
    income = next(c for c in decision.criteria if c.id == "exit.income")
    assert income.verdict == "undetermined"
    assert set(income.missing) == {"income.period_start", "income.period_end"}
    assert "income.period_start" in income.reason.en
    assert "income.period_start" in income.reason.zh


@pytest.mark.slow  # a search: full suite
def test_planted_bug_an_empty_settle_set_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: a false data precondition says nothing about what would settle it."""
    real = outcome_module.criterion_verdict

    def forgetful(criterion: Any, given: Any, value: Any, given_reads: tuple[str, ...] = ()) -> Any:
        return real(criterion, given, value, ())

    monkeypatch.setattr(verdicts, "criterion_verdict", forgetful)

    def fails(case: Case) -> bool:
        try:
            check_settles(POLICIES.evaluate(*case))
        except AssertionError:
            return True
        return False

    find(exit_cases(), fails, settings=HUNT)
