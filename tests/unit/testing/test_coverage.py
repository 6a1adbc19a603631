"""Decision coverage: MC/DC pairs on a fixture, infeasible gaps with their reason, generated cases,
and the coverage of the bundled exit-criteria and buffer packs by their committed cases."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from gspolicy._resources import bundled_policies
from gspolicy.cli import main
from gspolicy.pack.fmt import format_text
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.testing.cases import Case, find_case_files, load_cases, run_files
from gspolicy.testing.coverage import coverage, decision_points, fill_gaps, mcdc_pairs, write_cases

FIXTURE = Path(__file__).parent / "fixtures" / "mcdc"
BUNDLED = ("exit_criteria.household", "buffer_period.household")


def _load(root: Path, *folders: Path) -> tuple[PolicySet, list[Case]]:
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems]
    cases: list[Case] = []
    for path in find_case_files(list(folders) or [root]):
        found, problems = load_cases(path, policy_set)
        assert not [d for d in problems if d.is_error]
        cases.extend(found)
    return policy_set, cases


def test_a_and_b_or_c_has_exactly_the_expected_mcdc_pairs() -> None:
    policy_set, cases = _load(FIXTURE)
    report = coverage(cases, policy_set)
    (abc,) = (d for d in report.decisions if d.name == "demo.abc")
    assert [c.text for c in abc.conditions] == [
        "food_and_clothing_secured",
        "water.piped",
        "water.quality_ok",
    ]
    pairs = {c.text: set(c.pairs) for c in abc.conditions}
    assert pairs == {
        # a: with b, or with c, against "not a" (b and c are not evaluated there: masked)
        "food_and_clothing_secured": {("1: a, b", "2: not a"), ("3: a, not b, c", "2: not a")},
        # b: c is not evaluated in case 1 (the `or` stopped at b)
        "water.piped": {("1: a, b", "4: a, not b, not c")},
        "water.quality_ok": {("3: a, not b, c", "4: a, not b, not c")},
    }
    assert abc.true_in == ("1: a, b", "3: a, not b, c")
    assert abc.false_in == ("2: not a", "4: a, not b, not c")


def test_unique_cause_needs_the_other_evaluated_conditions_to_agree() -> None:
    from gspolicy.testing.coverage import Observation

    a = Observation("x", "T", ("T", "T", "-"))
    b = Observation("y", "F", ("T", "F", "F"))
    c = Observation("z", "F", ("F", "F", "F"))  # differs in two evaluated conditions from `a`
    assert mcdc_pairs([a, b, c], 1) == [("x", "y")]
    assert mcdc_pairs([a, c], 1) == []
    assert mcdc_pairs([a, b, c], 0) == []  # b and c: same outcome


def test_a_constant_condition_is_listed_infeasible_with_the_reason() -> None:
    policy_set, cases = _load(FIXTURE)
    report, found = fill_gaps(cases, policy_set, max_examples=20)
    assert not found
    assert report.percent() == 100.0
    reasons = {g.what: g.reason for g in report.infeasible if g.decision == "criterion demo.constant"}
    assert reasons == {
        "false": "no assignment of true and false to its conditions makes the decision false "
        "(a constant condition decides it)",
        "condition `True` false": "the condition is a constant",
        "MC/DC pair for `water.piped`": "no assignment of true and false to the conditions makes this "
        "condition alone change the outcome (the decision's structure masks it)",
        "MC/DC pair for `True`": "no assignment of true and false to the conditions makes this condition "
        "alone change the outcome (the decision's structure masks it)",
    }
    assert "infeasible (no household can reach them):" in report.render("en")
    assert "不可达" in report.render("zh")


def test_missing_cases_are_generated_and_close_the_gaps(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(FIXTURE, root)
    (root / "demo" / "mcdc" / "tests" / "abc.yaml").write_text(
        (FIXTURE / "demo" / "mcdc" / "tests" / "abc.yaml").read_text("utf-8").split('  - name: "2')[0],
        "utf-8",
    )
    policy_set, cases = _load(root)
    assert len(cases) == 1
    before = coverage(cases, policy_set)
    assert {g.what for g in before.gaps if g.decision == "criterion demo.abc"} >= {"false"}
    _, found = fill_gaps(cases, policy_set, max_examples=100)
    assert found
    defaults = {
        "demo.mcdc": {
            "id": "T-1",
            "food_and_clothing_secured": True,
            "water": {"piped": True, "quality_ok": True},
        }
    }
    (written,) = write_cases(found, root, policy_set, defaults=defaults)
    assert written == root / "demo" / "mcdc" / "tests" / "coverage.yaml"
    results, problems = run_files([written], policy_set)
    assert not problems
    assert results
    assert all(r.passed for r in results), [r.report() for r in results if not r.passed]
    _, all_cases = _load(root)
    after = coverage(all_cases, policy_set)
    gaps = {(g.decision, g.what) for g in after.gaps}
    assert not [g for g in gaps if g[0] == "criterion demo.abc"]


def test_decision_points_of_the_bundled_exit_pack() -> None:
    policy_set, _ = _load(bundled_policies(), bundled_policies() / "exit_criteria")
    pack = policy_set.in_force("exit_criteria.household", dt.date(2018, 12, 31))
    assert pack is not None
    kinds = {(p.kind, p.name) for p in decision_points(pack)}
    assert ("applies", "applies") in kinds
    assert ("given", "exit.income") in kinds
    assert ("criterion", "exit.housing") in kinds
    assert ("fact", "income_period_covered") in kinds
    assert ("predicate", "school_age_dropout: any(members, …)") in kinds


@pytest.fixture(scope="module")
def bundled() -> tuple[PolicySet, list[Case]]:
    root = bundled_policies()
    return _load(root, root / "exit_criteria", root / "buffer_period")


@pytest.mark.slow
def test_the_bundled_exit_and_buffer_packs_are_covered_except_coupled_conditions_and_the_register_guard(
    bundled: tuple[PolicySet, list[Case]],
) -> None:
    policy_set, cases = bundled
    report = coverage(cases, policy_set, packs=BUNDLED)
    left = sorted((g.pack, g.what) for g in report.gaps)
    # the coupled resettlement conditions, and the register guard `present(identified_on)`: with
    # no status it turns false into unknown, never into true, so it has no MC/DC pair
    assert left == [
        ("buffer_period.household@2016.1", "MC/DC pair for `present(registration.identified_on)`"),
        ("exit_criteria.household@2016.1", 'MC/DC pair for `housing.resettlement == "scattered"`'),
        ("exit_criteria.household@2016.1", "MC/DC pair for `present(registration.identified_on)`"),
        ("exit_criteria.household@2018.1", 'MC/DC pair for `housing.resettlement == "scattered"`'),
        ("exit_criteria.household@2018.1", "MC/DC pair for `present(registration.identified_on)`"),
    ]
    checked, found = fill_gaps(cases, policy_set, packs=BUNDLED, max_examples=40)
    assert not found
    assert checked.percent() == 100.0
    assert [g.pack for g in checked.infeasible] == [p for p, _ in left]
    for gap in checked.infeasible:
        assert "not reached by a bounded search" in (gap.reason or "")
        if "resettlement" in gap.what:
            assert "coupled conditions" in (gap.reason or "")
            assert '`housing.resettlement == "central"` also reads' in (gap.reason or "")


def test_the_generated_bundled_cases_pass(bundled: tuple[PolicySet, list[Case]]) -> None:
    policy_set, _ = bundled
    files = [bundled_policies() / p.replace(".", "/") / "tests" / "coverage.yaml" for p in BUNDLED]
    results, problems = run_files(files, policy_set)
    assert not problems
    assert len(results) > 20
    assert all(r.passed for r in results), [r.report() for r in results if not r.passed]


def test_gspolicy_test_coverage_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["test", "--coverage", "--lang", "en", "--policies", str(FIXTURE), str(FIXTURE)])
    out = capsys.readouterr().out
    assert code == 0
    assert "4 passed, 0 failed" in out
    assert "demo.mcdc@1: 100.0% covered (15/15 obligations; 4 infeasible)" in out
    assert "[TF] water.piped  — MC/DC: `1: a, b` / `4: a, not b, not c`" in out
    assert "total: 100.0% (15/15)" in out


def test_write_missing_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "policies"
    shutil.copytree(FIXTURE, root)
    tests = root / "demo" / "mcdc" / "tests"
    (tests / "abc.yaml").write_text((tests / "abc.yaml").read_text("utf-8").split('  - name: "2')[0], "utf-8")
    code = main(["test", "--coverage", "--write-missing", str(root), "--policies", str(root), str(root)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {tests / 'coverage.yaml'}" in out
    assert main(["test", "--policies", str(root), str(tests / "coverage.yaml")]) == 0
    written = (tests / "coverage.yaml").read_text("utf-8")
    assert format_text(written, path=tests / "coverage.yaml") == written  # in the canonical layout


def test_area_pack_cases_count_towards_coverage(bundled: tuple[PolicySet, list[Case]]) -> None:
    """Village and county cases are validated as villages and counties (not skipped as invalid
    households), so the Gansu area packs are fully covered by their own cases."""
    policy_set, cases = bundled
    area = ["exit_criteria.village@2018.1", "exit_criteria.county@2018.1"]
    report = coverage(cases, policy_set, packs=area)
    assert report.percent() == 100.0
    assert not report.gaps
    assert {c.subject for c in cases} >= {"village", "county"}


def test_a_predicate_written_twice_in_one_decision_is_two_decisions(tmp_path: Path) -> None:
    """Each aggregate's predicate is a decision of its own, with a key of its own (the second one
    located): two written alike must not share their evaluations."""
    root = tmp_path / "policies"
    shutil.copytree(FIXTURE, root)
    pack = root / "demo" / "mcdc" / "1.yaml"
    twice = "any(members, basic_medical_insurance) and any(members, basic_medical_insurance)"
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace("require: water.piped or True", f"require: {twice}"), encoding="utf-8")
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    points = [p for p in decision_points(policy_set.packs[0]) if p.kind == "predicate"]
    keys = [p.key for p in points]
    assert len(keys) == len(set(keys)) == 2
    assert keys[1].startswith(keys[0] + " at ")


def test_the_search_for_a_county_pack_never_starts_from_household_cases() -> None:
    """With only household cases, the gaps of a county pack are searched from county records (here
    none: reported as not reached), never from the households (which are no county records)."""
    root = bundled_policies()
    policy_set, cases = _load(root, root / "exit_criteria" / "household")
    assert cases
    assert all(c.subject in (None, "household") for c in cases)
    checked, found = fill_gaps(cases, policy_set, packs=("exit_criteria.county",), max_examples=5)
    assert not found
    assert checked.infeasible
    assert all(g.pack.startswith("exit_criteria.county@") for g in checked.infeasible)
    assert all("not reached" in (g.reason or "") for g in checked.infeasible)
