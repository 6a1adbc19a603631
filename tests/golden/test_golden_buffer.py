"""Golden tests: the buffer after exit, explained in English, in Chinese and as JSON.

Cases live in ``cases/buffer/*.yaml`` (changes to ``cases/buffer/defaults.yaml``, merged as the
packs' own test cases merge); the expected renderings are ``expected/buffer/<case>.en.txt``,
``<case>.zh.txt`` and ``<case>.json``.  A difference fails with a unified diff;
``pytest --update-goldens`` rewrites the expected files, and the rewrite is reviewed like code.

A case names the packs it is decided with (``packs:``):

* ``bundled`` — the bundled ``exit_criteria`` and ``buffer_period`` packs only, so that an edit to
  another bundled pack does not change these files;
* ``bundled+fixture`` — the same plus the test-only pack ``demo.measures``
  (``tests/fixtures/buffer_measures/``), whose version 2021.1 lowers the preschool fee waiver from
  1,000 to 800, to show the campaign reading (amount held at exit) against the transition reading
  (amount in force on the day).

Beside the comparison, tests pin what each case is *for*, so that a regenerated golden cannot
quietly stop showing it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.explain.decision import BufferState, Decision
from gspolicy.testing.cases import merge_household

from support.golden import compare_golden

HERE = Path(__file__).parent
CASES = HERE / "cases" / "buffer"
EXPECTED = HERE / "expected" / "buffer"
REPO = bundled_policies().parent
FIXTURE = HERE.parent / "fixtures" / "buffer_measures"
FORMS = ("en.txt", "zh.txt", "json")
CASE_FILES = sorted(p for p in CASES.glob("*.yaml") if p.name != "defaults.yaml")
DECISION_SCHEMA = json.loads(
    (Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text(encoding="utf-8")
)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _roots(packs: str) -> list[Path]:
    roots = [bundled_policies() / p for p in ("exit_criteria", "buffer_period", "parameters")]
    if packs == "bundled+fixture":
        roots.append(FIXTURE)
    else:
        assert packs == "bundled", f"unknown `packs: {packs}`"
    return roots


@pytest.fixture(scope="module")
def policy_sets() -> dict[str, Policies]:
    """Both policy sets, loaded from the repository root so that files are named `policies/…`
    and `tests/fixtures/…` whatever folder pytest runs from."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return {name: load_policies(_roots(name)) for name in ("bundled", "bundled+fixture")}


def case_household(case: dict[str, Any]) -> dict[str, Any]:
    return merge_household(_load(CASES / "defaults.yaml"), case.get("household") or {}, {"members": "id"})


def case_decision(path: Path, policy_sets: dict[str, Policies]) -> tuple[dict[str, Any], Decision]:
    case = _load(path)
    assert set(case) <= {"name", "as_of", "packs", "household", "expect"}, f"{path.name}: unknown keys"
    as_of = case["as_of"]
    assert isinstance(as_of, dt.date), f"{path.name}: as_of must be a date"
    return case, policy_sets[case["packs"]].evaluate(case_household(case), as_of)


def rendering(decision: Decision, form: str) -> str:
    if form == "json":
        return json.dumps(decision.to_json(), ensure_ascii=False, indent=2) + "\n"
    return decision.render(form.split(".", maxsplit=1)[0], detail="full")  # type: ignore[arg-type]  # "en" or "zh"


def _buffer(decision: Decision) -> BufferState:
    assert decision.buffer is not None, "the buffer pack gave no buffer state"
    return decision.buffer


def test_cases_exist_and_are_named() -> None:
    stems = {p.stem for p in CASE_FILES}
    assert stems == {
        "retained_campaign_2019",
        "lowered_amount_campaign_2020",
        "lowered_amount_transition_2021",
        "item_ended_2019",
        "returned_ends_buffer",
        "undetermined_exit_date",
    }
    for path in CASE_FILES:
        assert _load(path).get("name"), f"{path.name} has no name"


def test_no_expected_file_without_its_case() -> None:
    cases = {p.stem for p in CASE_FILES}
    orphans = [p.name for p in EXPECTED.iterdir() if p.name.split(".")[0] not in cases]
    assert orphans == []


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_case_decides_as_it_says(case_file: Path, policy_sets: dict[str, Policies]) -> None:
    """The case's own `expect` holds, so a golden rewritten with a wrong buffer cannot pass."""
    case, decision = case_decision(case_file, policy_sets)
    expect = case["expect"]
    buffer = _buffer(decision)
    assert buffer.status == expect["buffer"]
    assert buffer.basis == expect.get("basis")
    assert buffer.until == expect.get("until")
    retained = [{"measure": r.measure, "amount": r.amount} for r in buffer.retained]
    assert retained == expect.get("retained", [])
    if "missing" in expect:
        assert list(buffer.missing) == expect["missing"]
    jsonschema.validate(decision.to_json(), DECISION_SCHEMA)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_golden_buffer(
    case_file: Path, form: str, policy_sets: dict[str, Policies], request: pytest.FixtureRequest
) -> None:
    _, decision = case_decision(case_file, policy_sets)
    actual = rendering(decision, form)
    expected_path = EXPECTED / f"{case_file.stem}.{form}"
    compare_golden(
        actual,
        expected_path,
        update=bool(request.config.getoption("--update-goldens")),
        what=f"the explanation of {case_file.stem} ({form})",
    )


# -- what each case is for ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decide(policy_sets: dict[str, Policies]) -> Callable[[str], Decision]:
    return lambda stem: case_decision(CASES / f"{stem}.yaml", policy_sets)[1]


def _retained(decision: Decision) -> dict[str, Any]:
    return {r.measure: r for r in _buffer(decision).retained}


def test_exited_household_keeps_its_measures_with_amounts_and_end_date(
    decide: Callable[[str], Decision],
) -> None:
    decision = decide("retained_campaign_2019")
    income = next(c for c in decision.criteria if c.id == "exit.income")
    assert (income.verdict, income.value) == ("pass", "9500")  # well above the [3500, 3815.38] line
    buffer = _buffer(decision)
    assert (buffer.status, buffer.basis, buffer.until, buffer.amount_rule) == (
        "active",
        "buffer.campaign",
        dt.date(2020, 12, 31),
        "at_exit",
    )
    retained = _retained(decision)
    assert set(retained) == {"microcredit", "preschool_fee_waiver"}  # not housing_repair: it ended in 2016
    credit = retained["microcredit"]
    # its own record ends on 2021-02-28, after the buffer: retained until the buffer ends
    assert (credit.amount, credit.held_until, credit.until, credit.path) == (
        "50000",
        dt.date(2021, 2, 28),
        dt.date(2020, 12, 31),
        "support[0]",
    )
    assert decision.support == (
        ("microcredit", "50000", "buffer.campaign"),
        ("preschool_fee_waiver", "1000", "buffer.campaign"),
    )
    en, zh = decision.render("en", detail="full"), decision.render("zh", detail="full")
    assert (
        "until 2020-12-31; the measures held at exit stay unchanged, at no less than the amount held at exit"
        in en
    )
    assert "retained `microcredit`: amount 50,000 (at exit 50,000;" in en
    assert "至 2020-12-31；退出时享受的措施保持不变，金额不低于退出时" in zh
    assert "保留措施 `preschool_fee_waiver`：金额 1,000（退出时 1,000；" in zh
    assert "support now: `microcredit` (50,000); `preschool_fee_waiver` (1,000)" in en


def test_campaign_keeps_the_exit_amount_and_says_where_it_comes_from(
    decide: Callable[[str], Decision],
) -> None:
    decision = decide("lowered_amount_campaign_2020")
    assert {p.id: p.version for p in decision.packs}["demo.measures"] == "2018.1"
    waiver = _retained(decision)["preschool_fee_waiver"]
    assert (waiver.amount, waiver.amount_at_exit, waiver.amount_rule, waiver.unit) == (
        "1000",
        "1000",
        "at_exit",
        "yuan/child/year",
    )
    assert waiver.amount_source.en == "the amount held at exit (from the support history)"
    assert waiver.amount_source.zh == "退出时享受的金额（来自帮扶记录）"
    en = decision.render("en", detail="full")
    assert (
        "retained Preschool fee waiver (`preschool_fee_waiver`): amount 1,000 yuan/child/year"
        " (at exit 1,000 yuan/child/year;" in en
    )
    assert "金额 1,000 元/幼儿/年（退出时 1,000 元/幼儿/年；" in decision.render("zh", detail="full")


def test_a_retained_loan_is_shown_as_a_loan_never_as_support_of_its_amount(
    decide: Callable[[str], Decision],
) -> None:
    """Microcredit is declared `form: loan` (ceiling 50,000, term 3 years) in the fixture's
    measures: kept at exit, it is what was drawn; at the amounts of the day, its ceiling and term."""
    campaign = decide("lowered_amount_campaign_2020")
    credit = _retained(campaign)["microcredit"]
    assert (credit.form, credit.amount, credit.amount_at_exit) == ("loan", "loan, drawn 50000", "50000")
    assert {m: a for m, a, _ in campaign.support}["microcredit"] == "loan, drawn 50000"
    en, zh = campaign.render("en", detail="full"), campaign.render("zh", detail="full")
    assert "Poverty-alleviation microcredit (`microcredit`, loan of 50,000 yuan/household drawn)" in en
    assert (
        "retained Poverty-alleviation microcredit (`microcredit`): amount loan of 50,000 yuan/household drawn"
        in en
    )
    assert "扶贫小额信贷（`microcredit`，贷款，退出时贷款额 50,000 元/户）" in zh
    transition = decide("lowered_amount_transition_2021")
    credit = _retained(transition)["microcredit"]
    assert credit.amount == "loan, ceiling 50000, term 3 years"
    assert "amount loan of up to 50,000 yuan/household, term 3 years" in transition.render(
        "en", detail="full"
    )
    assert "贷款，上限 50,000 元/户，期限 3 年" in transition.render("zh", detail="full")
    for decision in (campaign, transition):  # a loan's amount is never compared as support
        assert all(
            a is None or not a.replace(".", "").isdigit()
            for m, a, _ in decision.support
            if m == "microcredit"
        )


def test_transition_pays_the_lower_amount_of_the_day_and_says_it_is_weaker(
    decide: Callable[[str], Decision],
) -> None:
    campaign = decide("lowered_amount_campaign_2020")
    decision = decide("lowered_amount_transition_2021")
    assert {p.id: p.version for p in decision.packs}["demo.measures"] == "2021.1"
    buffer = _buffer(decision)
    assert (buffer.basis, buffer.until, buffer.amount_rule) == (
        "buffer.transition",
        dt.date(2025, 12, 31),
        "current",
    )
    waiver = _retained(decision)["preschool_fee_waiver"]
    assert (waiver.amount, waiver.amount_at_exit) == ("800", "1000")
    assert Decimal(waiver.amount) < Decimal(_retained(campaign)["preschool_fee_waiver"].amount)
    assert "demo.measures@2021.1" in waiver.amount_source.en
    assert "demo.measures@2021.1" in waiver.amount_source.zh
    assert {m: a for m, a, _ in decision.support}["preschool_fee_waiver"] == "800"
    en, zh = decision.render("en", detail="full"), decision.render("zh", detail="full")
    assert "at the amounts in force in the packs of the day (weaker than unchanged)" in en
    assert "按当日有效政策包中的金额（弱于“保持不变”）" in zh
    assert (
        "amount 800 yuan/child/year (at exit 1,000 yuan/child/year; the amount 800 yuan/child/year in force"
        " in pack demo.measures@2021.1)" in en
    )
    assert (
        "金额 800 元/幼儿/年（退出时 1,000 元/幼儿/年；当日有效的政策包 demo.measures@2021.1 中的金额 800 元/幼儿/年）"
        in zh
    )


def test_return_to_poverty_ends_the_buffer_on_the_return_date(
    decide: Callable[[str], Decision], policy_sets: dict[str, Policies]
) -> None:
    decision = decide("returned_ends_buffer")
    buffer = _buffer(decision)
    assert (buffer.status, buffer.retained) == ("inactive", ())
    assert decision.support == ()
    assert any(r.path == "registration.returned_on" and r.value == "2019-05-01" for r in buffer.readings)
    # the day before the return the same household is still in the buffer
    case = _load(CASES / "returned_ends_buffer.yaml")
    before = policy_sets["bundled"].evaluate(case_household(case), dt.date(2019, 4, 30))
    assert (_buffer(before).status, _buffer(before).basis) == ("active", "buffer.campaign")
    assert {r.measure for r in _buffer(before).retained} == {"microcredit", "preschool_fee_waiver"}


def test_return_to_poverty_is_named_as_the_reason(decide: Callable[[str], Decision]) -> None:
    """The inactive buffer says why: the fact `returned_since_exit` holds (with the date read)."""
    buffer = _buffer(decide("returned_ends_buffer"))
    assert ("returned_since_exit", "true") in buffer.facts
    assert "Returned to poverty since exit: true" in buffer.reason.en
    assert "退出后已返贫：是" in buffer.reason.zh


def test_the_campaign_end_date_states_its_low_confidence(decide: Callable[[str], Decision]) -> None:
    """The 2020-12-31 end of the campaign reading rests on another province's text: confidence L,
    shown with the parameter, in both languages."""
    decision = decide("retained_campaign_2019")
    (end,) = (p for p in _buffer(decision).parameters if p.name == "campaign_buffer_end")
    assert (end.value, end.confidence, end.source) == ("2020-12-31", "L", "henan_campaign_reading")
    en = [line for line in decision.render("en", detail="full").splitlines() if "campaign_buffer_end" in line]
    zh = [line for line in decision.render("zh", detail="full").splitlines() if "campaign_buffer_end" in line]
    assert len(en) == len(zh) == 1
    assert "= 2020-12-31" in en[0]
    assert "confidence L" in en[0]
    assert "可信度 L" in zh[0]


def test_missing_exit_date_leaves_the_buffer_undetermined_and_says_why(
    decide: Callable[[str], Decision],
) -> None:
    decision = decide("undetermined_exit_date")
    buffer = _buffer(decision)
    assert (buffer.status, buffer.basis, buffer.retained, buffer.missing) == (
        "undetermined",
        None,
        (),
        ("registration.exited_on",),
    )
    assert "registration.exited_on" in decision.missing
    assert decision.support == ()
    en, zh = decision.render("en", detail="full"), decision.render("zh", detail="full")
    assert (
        "buffer: undetermined — cannot tell whether the household is in the buffer: missing registration.exited_on"
        in en
    )
    assert "缓冲期：待定 — 无法判定是否处于缓冲期：缺少 registration.exited_on" in zh


def test_an_item_past_its_own_end_is_listed_as_ended_not_kept(decide: Callable[[str], Decision]) -> None:
    decision = decide("item_ended_2019")
    buffer = _buffer(decision)
    assert [r.measure for r in buffer.retained] == ["preschool_fee_waiver"]
    (ended,) = buffer.ended
    assert (ended.measure, ended.held_until, ended.lapsed) == ("microcredit", dt.date(2019, 2, 28), None)
    assert "ended on its own end date, 2019-02-28" in ended.why.en
    assert "已于 2019-02-28 结束" in ended.why.zh
    assert "microcredit" not in {m for m, _, _ in decision.support}
