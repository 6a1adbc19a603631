"""Cross-pack property: the seven batches cover every definite exit failure.

For generated households evaluated as of dates in 2018 and 2019 with the bundled policies:

* the batches are for registered poor households (status not_exited, pre_exit, returned or
  newly_identified): an exited household, or one outside the register (neither a status nor an
  identification date), is in no batch rule but the preschool fee waiver, which covers every
  child with Gansu 户籍; the claims below are made for registered poor households;
* a registered poor household that definitely fails exit criterion k (verdict ``fail`` on the criterion, whatever
  the household's applicability) is definitely (``applies == "yes"``) in a rule of the batch pack
  whose measures address k: housing → ``seven_batches.housing``, water → ``seven_batches.water``,
  education → ``seven_batches.education``, medical → ``seven_batches.medical``, income → any
  ``seven_batches`` pack.  For income the fallback rule depends on the ability to work: when that
  cannot be told from the record, the weaker three-valued claim is checked (the household is not
  definitely outside both fallback rules);
* every household with no member able to work (computed here from the record, with the documented
  definition: labour ordinary or skilled, aged 16–65) is definitely in ``seven_batches.safety_net``.

A planted bug (the water pack's minimum quantity lowered from 20 to 19 litres in a copy of the
policies) is shown to break the property, so the property is not vacuous.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

import gspolicy
from gspolicy._resources import bundled_policies

from support.batches import any_able, batch_cases
from support.bundled import shared_policies

COVERING_PACK = {
    "exit.housing": "seven_batches.housing",
    "exit.water": "seven_batches.water",
    "exit.education": "seven_batches.education",
    "exit.medical": "seven_batches.medical",
}


def _pack_id(key: str) -> str:
    """`seven_batches.water` from a membership's pack key (`seven_batches.water@2016.1`)."""
    return key.partition("@")[0]


def _in_pack(decision: Any, prefix: str) -> bool:
    """Whether the household is definitely in a rule of the pack `prefix` (or of a pack below it)."""
    return any(
        m.applies == "yes"
        for m in decision.memberships
        if _pack_id(m.pack) == prefix or _pack_id(m.pack).startswith(prefix + ".")
    )


REGISTERED_POOR = frozenset({"not_exited", "pre_exit", "returned", "newly_identified"})
FOR_EVERY_CHILD = frozenset({"education.preschool"})


def violations(policies: gspolicy.Policies, household: dict[str, Any], as_of: dt.date) -> list[str]:
    """The ways the household breaks the property (empty when it holds)."""
    decision = policies.evaluate(household, as_of)
    out: list[str] = []
    registration = household.get("registration") or {}
    status = registration.get("status")
    if status not in REGISTERED_POOR:
        if status is not None or registration.get("identified_on") is None:
            out.extend(
                f"{m.rule} applies to a household that is not registered poor ({status})"
                for m in decision.memberships
                if _pack_id(m.pack).startswith("seven_batches.")
                and m.applies != "no"
                and m.rule not in FOR_EVERY_CHILD
            )
        return out
    rules = {m.rule: m.applies for m in decision.memberships}
    able = any_able(household, as_of)
    for criterion in decision.criteria:
        if criterion.verdict != "fail":
            continue
        pack = COVERING_PACK.get(criterion.id)
        if pack is not None and not _in_pack(decision, pack):
            out.append(f"{criterion.id} fails but the household is not definitely in {pack}")
        if criterion.id == "exit.income":
            if able is not None and not _in_pack(decision, "seven_batches"):
                out.append("exit.income fails but the household is definitely in no seven_batches pack")
            fallbacks = (rules.get("production.income_fallback"), rules.get("safety_net.income_fallback"))
            if fallbacks == ("no", "no"):
                out.append("exit.income fails but both income fallback rules say no")
    if able is False and not _in_pack(decision, "seven_batches.safety_net"):
        out.append("no member is able to work but the household is not definitely in the safety net")
    return out


POLICIES = shared_policies()


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_cases())
def test_batches_cover_definite_exit_failures(case: tuple[dict[str, Any], dt.date]) -> None:
    household, as_of = case
    assert violations(POLICIES, household, as_of) == []


def _policy_copy(tmp_path: Path) -> Path:
    """The household schema, the exit criteria and the seven batches, copied into a fresh root."""
    root = tmp_path / "policies"
    for part in ("schema", "parameters", "exit_criteria", "seven_batches"):
        shutil.copytree(bundled_policies() / part, root / part)
    return root


def _planted(tmp_path: Path, pack: str, old: str, new: str, appended: str = "") -> gspolicy.Policies:
    """The bundled policies with one planted edit in `pack` (a path under the root): `old`, found
    exactly once, becomes `new`, and `appended` is added at the end of the file."""
    path = _policy_copy(tmp_path) / pack
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new) + appended, encoding="utf-8")
    return gspolicy.load_policies(tmp_path / "policies")


@pytest.mark.slow
def test_the_property_catches_a_planted_bug(tmp_path: Path) -> None:
    # the water batch alone takes its own water line, 15 litres from 2018, instead of the shared 20
    # (a window of five litres a day: the generator draws any litres, not only the packs' edges)
    own = (
        "parameters:\n  basic_water_min_litres:\n    title: {zh: 人均日供水量下限, en: Minimum water}\n"
        "    unit: L/person/day\n    values:\n"
        "      2016-01-01: {value: 20, source: national_water_2004}\n"
        "      2018-01-01: {value: 15, source: gansu_water_rules}\n"
    )
    buggy = _planted(tmp_path, "seven_batches/water/2016.1.yaml", "    - basic_water_min_litres\n", "", own)

    # from 2018-08-21, when the 2018 exit criteria (with the water indicator) are in force
    counterexample = find(
        batch_cases(min_value=dt.date(2018, 8, 21)),
        lambda case: bool(violations(buggy, *case)),
        settings=settings(max_examples=1000, deadline=None, database=None, phases=[Phase.generate]),
    )
    household, as_of = counterexample
    assert any("exit.water" in v for v in violations(buggy, household, as_of))
    assert violations(POLICIES, household, as_of) == []  # the unmodified packs cover the same household


def test_a_planted_working_age_bug_breaks_the_safety_net_claim(tmp_path: Path) -> None:
    # the safety net alone takes its own oldest working age, 70, instead of the shared 65
    own = (
        "parameters:\n  working_age_max:\n    title: {zh: 劳动年龄上限, en: Oldest working age}\n"
        "    values:\n      2016-01-01: {value: 70, source: source_document}\n"
    )
    buggy = _planted(
        tmp_path,
        "seven_batches/safety_net/2016.1.yaml",
        "[working_age_min, working_age_max, exit_income_line]",
        "[working_age_min, exit_income_line]",
        own,
    )
    household = {
        "id": "P-0001",
        "registration": {
            "category": "general",
            "status": "pre_exit",
            "main_cause": "other",
            "secondary_causes": [],
        },
        "income": {"per_capita": 6000, "non_counting_transfers": 0},
        "members": [
            {"id": "m1", "relation": "head", "birth_date": dt.date(1952, 5, 1), "labour": "ordinary"}
        ],
    }
    with pytest.raises(AssertionError):
        assert violations(buggy, household, dt.date(2018, 12, 31)) == []
    assert violations(POLICIES, household, dt.date(2018, 12, 31)) == []


def test_a_planted_registration_bug_breaks_the_registered_poor_claim(tmp_path: Path) -> None:
    # the microcredit rule forgets that the batches are for registered poor households
    buggy = _planted(
        tmp_path,
        "seven_batches/production/2016.1.yaml",
        "when: registered_poor and (cause_lack_of_funds or has_able_member)",
        "when: cause_lack_of_funds or has_able_member",
    )
    household = {
        "id": "P-0002",
        "registration": {"main_cause": "lack_of_funds", "secondary_causes": []},
        "income": {"per_capita": 20000, "non_counting_transfers": 0},
        "members": [
            {"id": "m1", "relation": "head", "birth_date": dt.date(1975, 5, 1), "labour": "ordinary"}
        ],
    }
    found = violations(buggy, household, dt.date(2018, 12, 31))
    assert found
    assert all("production.lack_of_funds" in v for v in found)
    assert violations(POLICIES, household, dt.date(2018, 12, 31)) == []
