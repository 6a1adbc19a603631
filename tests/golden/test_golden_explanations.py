"""Golden tests: the full explanation of a decision, in English, in Chinese and as JSON.

Cases live in ``cases/explanations/*.yaml`` (changes to ``cases/explanations/defaults.yaml``,
merged as the packs' own test cases merge; see the README there).  The expected renderings are
``expected/explanations/<case>.en.txt``, ``<case>.zh.txt`` and ``<case>.json``.  A difference
fails with a unified diff; ``pytest --update-goldens`` rewrites the expected files, and the
rewrite is reviewed like code.  Beside the comparison, a few tests pin what each case is *for*
(the shortfall sentence, the range, the versions named), so that a regenerated golden cannot
quietly stop showing it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.explain.decision import Decision, Detail
from gspolicy.testing.cases import merge_household

from support.golden import compare_golden

HERE = Path(__file__).parent
CASES = HERE / "cases" / "explanations"
EXPECTED = HERE / "expected" / "explanations"
REPO = bundled_policies().parent
FORMS = ("en.txt", "zh.txt", "json")

CASE_FILES = sorted(p for p in CASES.glob("*.yaml") if p.name != "defaults.yaml")
EXIT_PACK = "exit_criteria.household"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def policies() -> Policies:
    """The exit pack alone (with the parameters it imports), named from the repository root
    (`policies/exit_criteria/…`)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return load_policies([bundled_policies() / "exit_criteria", bundled_policies() / "parameters"])


def case_decision(path: Path, policies: Policies) -> tuple[dict[str, Any], Decision]:
    case = _load(path)
    assert set(case) <= {"name", "as_of", "household", "expect"}, f"{path.name}: unknown keys"
    household = merge_household(
        _load(CASES / "defaults.yaml"), case.get("household") or {}, {"members": "id"}
    )
    as_of = case["as_of"]
    assert isinstance(as_of, dt.date), f"{path.name}: as_of must be a date"
    return case, policies.evaluate(household, as_of)


def rendering(decision: Decision, form: str) -> str:
    if form == "json":
        return json.dumps(decision.to_json(), ensure_ascii=False, indent=2) + "\n"
    return decision.render(form.split(".", maxsplit=1)[0], detail="full")  # type: ignore[arg-type]  # "en" or "zh"


def test_cases_exist_and_are_named() -> None:
    stems = {p.stem for p in CASE_FILES}
    assert {
        "pass",
        "fail_income_shortfall",
        "undetermined_missing_field",
        "undetermined_range_2019",
        "not_applicable_newly_identified",
        "versions_2017_06_30",
        "versions_2018_12_31",
    } <= stems
    for path in CASE_FILES:
        case = _load(path)
        assert case.get("name"), f"{path.name} has no name"


def test_no_expected_file_without_its_case() -> None:
    cases = {p.stem for p in CASE_FILES}
    orphans = [p.name for p in EXPECTED.iterdir() if p.name.split(".")[0] not in cases]
    assert orphans == []


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_case_decides_as_it_says(case_file: Path, policies: Policies) -> None:
    """The case's own `expect` holds, so a golden rewritten with a wrong verdict cannot pass."""
    case, decision = case_decision(case_file, policies)
    expect = case["expect"]
    assert decision.verdict == expect["verdict"]
    used = {p.id: p.version for p in decision.packs}
    assert used == {EXIT_PACK: expect["version"]}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_golden_explanation(
    case_file: Path, form: str, policies: Policies, request: pytest.FixtureRequest
) -> None:
    _, decision = case_decision(case_file, policies)
    actual = rendering(decision, form)
    expected_path = EXPECTED / f"{case_file.stem}.{form}"
    compare_golden(
        actual,
        expected_path,
        update=bool(request.config.getoption("--update-goldens")),
        what=f"the explanation of {case_file.stem} ({form})",
    )


# -- what each case is for ------------------------------------------------------------------------


def _decide(stem: str, policies: Policies) -> Decision:
    return case_decision(CASES / f"{stem}.yaml", policies)[1]


def _criterion(decision: Decision, cid: str) -> Any:
    return next(c for c in decision.criteria if c.id == cid)


def test_the_fail_case_states_the_shortfall(policies: Policies) -> None:
    decision = _decide("fail_income_shortfall", policies)
    income = _criterion(decision, "exit.income")
    assert (income.verdict, income.value, income.threshold, income.shortfall) == (
        "fail",
        "3150",
        "3500",
        "350",
    )
    assert "income 3,150 is not above the standard 3,500 (short by 350)" in decision.render(
        "en", detail="full"
    )
    assert "人均稳定收入 3,150 元，未超过标准 3,500 元（差 350 元）" in decision.render("zh", detail="full")
    assert [c.id for c in decision.criteria if c.verdict == "fail"] == ["exit.income"]


def test_a_shortfall_against_a_range_is_a_range(policies: Policies) -> None:
    decision = _decide("fail_income_range_shortfall", policies)
    income = _criterion(decision, "exit.income")
    assert (income.verdict, income.value, income.threshold, income.shortfall) == (
        "fail",
        "3150",
        "[3218, 3815.38]",
        "[68, 665.38]",
    )
    assert "(short by 68 to 665.38)" in income.reason.en
    assert "（差 68 至 665.38 元）" in income.reason.zh


def test_a_value_at_a_strict_threshold_is_not_above_it(policies: Policies) -> None:
    decision = _decide("fail_income_at_threshold", policies)
    income = _criterion(decision, "exit.income")
    assert (income.verdict, income.value, income.threshold, income.shortfall) == ("fail", "3500", "3500", "0")
    assert income.reason.en == "stable per-capita income 3,500 is not above the standard 3,500"
    assert income.reason.zh == "人均稳定收入 3,500 元，未超过标准 3,500 元"


def test_a_failing_quantifier_names_its_witness(policies: Policies) -> None:
    decision = _decide("fail_education_dropout", policies)
    education = _criterion(decision, "exit.education")
    assert (education.verdict, education.witnesses) == ("fail", ("members[2]",))
    for lang in ("en", "zh"):
        reason = education.reason.get(lang)  # type: ignore[arg-type]
        assert "`members[2]`" in reason
        assert "6 <= 10 <= 15" in reason
        assert "48" not in reason  # the head's age, the reason this case was written for


def test_a_period_that_does_not_cover_names_what_would_settle_it(policies: Policies) -> None:
    decision = _decide("undetermined_income_period", policies)
    income = _criterion(decision, "exit.income")
    assert income.verdict == "undetermined"
    assert income.missing == ("income.period_end", "income.period_start")
    assert decision.missing == ("income.period_end", "income.period_start")
    assert "would settle it: income.period_end, income.period_start" in decision.render("en", detail="full")


def test_the_missing_field_case_names_the_field(policies: Policies) -> None:
    decision = _decide("undetermined_missing_field", policies)
    assert _criterion(decision, "exit.income").verdict == "undetermined"
    assert decision.missing == ("income.per_capita",)
    assert "missing data: `income.per_capita`" in decision.render("en", detail="full")
    assert "缺少数据：`income.per_capita`" in decision.render("zh", detail="full")


def test_the_range_case_names_the_range_and_its_sources(policies: Policies) -> None:
    decision = _decide("undetermined_range_2019", policies)
    income = _criterion(decision, "exit.income")
    assert income.verdict == "undetermined"
    assert decision.missing == ("param:exit_income_line",)
    (line,) = (p for p in income.parameters if p.name == "exit_income_line")
    assert (line.kind, line.value, line.effective, line.confidence) == (
        "range",
        "[3218, 3815.38]",
        dt.date(2019, 1, 1),
        "L",
    )
    assert "only known as the range [3,218, 3,815.38]" in decision.render("en", detail="full")


def test_the_not_applicable_case_still_shows_every_criterion(policies: Policies) -> None:
    decision = _decide("not_applicable_newly_identified", policies)
    assert decision.applicability is not None
    assert decision.applicability.status == "not_applicable"
    assert [c.id for c in decision.criteria] == [
        "exit.income",
        "exit.food_clothing",
        "exit.water",
        "exit.education",
        "exit.medical",
        "exit.housing",
    ]
    assert _criterion(decision, "exit.income").verdict == "fail"
    text = decision.render("en", detail="full")
    assert "was identified this year, so it is not assessed this year" in text
    assert all(f"{c.id}  " in text for c in decision.criteria)


def test_the_same_household_names_the_version_in_force(policies: Policies) -> None:
    old = _decide("versions_2017_06_30", policies)
    new = _decide("versions_2018_12_31", policies)
    assert "exit_criteria.household@2016.1" in old.render("en", detail="full")
    assert "exit_criteria.household@2018.1" in new.render("en", detail="full")
    assert old.packs[0].file.endswith("2016.1.yaml")
    assert new.packs[0].file.endswith("2018.1.yaml")
    assert "exit.water" not in {c.id for c in old.criteria}
    assert _criterion(new, "exit.water").verdict == "fail"
    assert old.packs[0].content_hash != new.packs[0].content_hash


def test_an_approximate_line_is_said_to_be_about_its_value() -> None:
    """The 2020 national line is given by its sources only as "about 4,000" (L-M); identification
    reads it."""
    from support.bundled import shared_policies  # the whole bundled set

    policies = shared_policies()
    household = {
        "id": "A-0001",
        "registration": {"identification_standard": "national"},
        "income": {"per_capita": 3000},
    }
    decision = policies.evaluate(household, "2020-12-31")
    uses = [p for c in decision.memberships for p in c.parameters if p.name == "national_line"]
    assert uses
    assert all(p.approximate and p.value == "4000" for p in uses)
    assert "= about 4,000 yuan/person/year" in decision.render("en", detail="full")
    assert "= 约 4,000 元/人/年" in decision.render("zh", detail="full")
    shown = json.dumps(decision.to_json(), ensure_ascii=False)
    assert shown.count('"approximate": true') == len(uses)


@pytest.mark.parametrize(
    ("registration", "said"),
    [
        ({}, "not a registered household"),
        ({"status": "exited", "identified_on": "2014-06-01"}, "has already exited"),
        ({"status": "newly_identified", "identified_on": "2018-03-01"}, "was identified this year"),
        (
            {"status": "returned", "identified_on": "2014-06-01", "returned_on": "2018-02-01"},
            "returned to poverty this year",
        ),
    ],
)
def test_a_household_not_assessed_is_told_why(
    policies: Policies, registration: dict[str, str], said: str
) -> None:
    """The exit pack's `applies.reasons`: the first that holds is the reason, in both languages,
    with what it read; a household outside the register is not applicable, never undetermined."""
    decision = policies.evaluate({"id": "R-0001", "registration": registration}, "2018-12-31")
    assert decision.applicability.status == "not_applicable"
    assert said in decision.applicability.reason.en
    assert decision.applicability.reason.zh != decision.applicability.reason.en
    assert decision.applicability.location.startswith("policies/exit_criteria/household/2018.1.yaml:")
    assert said in decision.render("en", detail="full")


# -- the short detail levels ----------------------------------------------------------------------
# The `fails` and `brief` explanations of three exit cases (a pass, a shortfall, a range) and of
# one household of the example registry decided by every bundled pack (rules that apply, a
# data-quality rule undetermined, the support now): ``expected/detail/<case>.<level>.<form>``.
# The goldens above are the `full` ones, rendered at ``detail="full"``: today's text.

DETAIL_EXPECTED = HERE / "expected" / "detail"
DETAIL_CASES = ("pass", "fail_income_shortfall", "undetermined_range_2019")
REGISTRY_HOUSEHOLD = "621027-0003"


def _registry_decision() -> Decision:
    from support.bundled import shared_policies, shared_registry  # the whole bundled set

    record = next(r for r in shared_registry() if r.get("id") == REGISTRY_HOUSEHOLD)
    return shared_policies().evaluate(record, "2018-12-31")


def _short(decision: Decision, level: Detail, form: str) -> str:
    if form == "json":
        return json.dumps(decision.to_json(detail=level), ensure_ascii=False, indent=2) + "\n"
    return decision.render(form.split(".", maxsplit=1)[0], detail=level)  # type: ignore[arg-type]  # "en" or "zh"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("level", ["fails", "brief"])
@pytest.mark.parametrize("case", [*DETAIL_CASES, REGISTRY_HOUSEHOLD])
def test_golden_short_explanation(
    case: str, level: Detail, form: str, policies: Policies, request: pytest.FixtureRequest
) -> None:
    if case == REGISTRY_HOUSEHOLD:
        decision = _registry_decision()
    else:
        decision = case_decision(CASES / f"{case}.yaml", policies)[1]
    compare_golden(
        _short(decision, level, form),
        DETAIL_EXPECTED / f"{case}.{level}.{form}",
        update=bool(request.config.getoption("--update-goldens")),
        what=f"the {level} explanation of {case} ({form})",
    )


def test_the_short_levels_state_the_shortfall_with_numbers(policies: Policies) -> None:
    decision = _decide("fail_income_shortfall", policies)
    levels: tuple[Detail, ...] = ("fails", "brief")
    for level in levels:
        assert "income 3,150 is not above the standard 3,500 (short by 350)" in decision.render(
            "en", detail=level
        )
        assert "（差 350 元）" in decision.render("zh", detail=level)
        data = decision.to_json(detail=level)
        income = next(c for c in data["criteria"] if c["id"] == "exit.income")
        assert (income["value"], income["threshold"], income["shortfall"]) == (3150, 3500, 350)
    # the default text is brief: the passing criteria in a line each, never their sources
    brief = decision.render("en")
    assert brief == decision.render("en", detail="brief")
    assert "    ✓ exit.food_clothing  Food and clothing secured — pass: " in brief
    assert "policies/exit_criteria/household/2018.1.yaml:193" not in brief
