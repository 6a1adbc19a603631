"""Exclusivity and invariants: a pack may declare `exclusive` groups of its rules, and a pack of
`kind: invariants` states what every decision must satisfy, over its outcome.  Both are checked
on every decision — by the per-record evaluator, the columnar runner and the traced interpreter
alike — and a violation is a finding in the decision; every misuse is refused where it is
written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gspolicy import Policies
from gspolicy._i18n import Lang
from gspolicy.errors import Diagnostic
from gspolicy.explain.summaries import exit_settle, summary_plan, table_summary
from gspolicy.pack.hash import content_hash
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.testing.cases import run_files
from unit.pack._root import write

DAY = dt.date(2019, 8, 1)

HEAD = """\
format: 1
pack: {id}
version: "1"
kind: {kind}
valid_from: 2016-01-01
title: {{zh: 测试, en: Test}}
department: office
departments: {{office: {{zh: 扶贫办, en: Office}}}}
sources:
  doc: {{title: {{zh: 文件, en: Document}}, confidence: H}}
"""

EXIT = (
    HEAD.format(id="demo.exit", kind="exit")
    + """\
criteria:
  - id: demo.income
    title: {zh: 收入超过标准, en: Income above the standard}
    require: income.per_capita > 3000
    cite: {source: doc}
"""
)

BATCH = (
    HEAD.format(id="demo.batch", kind="batch")
    + """\
measures:
  help:
    title: {zh: 帮扶, en: Help}
    department: office
    form: grant
    amount: {value: 100, source: doc}
rules:
  - id: r.a
    title: {zh: 甲, en: A}
    when: income.per_capita < 5000
    grant: [help]
    cite: {source: doc}
  - id: r.b
    title: {zh: 乙, en: B}
    when: income.per_capita < 4000
    grant: [help]
    cite: {source: doc}
"""
)

EXCLUSIVE = "exclusive:\n  - [r.a, r.b]\n"

INVARIANTS = (
    HEAD.format(id="demo.invariants", kind="invariants")
    + """\
invariants:
  - id: inv.pass_no_help
    title: {zh: 通过者不再帮扶, en: A household that passes gets no help from rule A}
    holds: not (verdict() == "pass" and rule("r.a"))
    cite: {source: doc, clause: 第一条}
  - id: inv.b_needs_a
    title: {zh: 乙蕴含甲, en: Rule B implies rule A}
    holds: not rule("r.b") or rule("r.a")
    cite: {source: doc}
  - id: inv.fail_gets_help
    title: {zh: 未通过者得到帮扶, en: A household failing income gets help}
    holds: criterion("demo.income") or granted("help")
    cite: {source: doc}
"""
)


def _load(
    root: Path, *, batch: str = BATCH + EXCLUSIVE, invariants: str | None = INVARIANTS
) -> tuple[PolicySet | None, list[Diagnostic]]:
    write(root, "demo/exit/1.yaml", EXIT)
    write(root, "demo/batch/1.yaml", batch)
    if invariants is not None:
        write(root, "demo/invariants/1.yaml", invariants)
    return load_policies([root])


def _errors(problems: list[Diagnostic]) -> list[str]:
    return [d.render("en") for d in problems if d.is_error]


def _policies(root: Path) -> Policies:
    policy_set, problems = _load(root)
    assert policy_set is not None, _errors(problems)
    return Policies(policy_set)


def _household(income: int | None) -> dict[str, object]:
    return {"id": "H-1", **({"income": {"per_capita": income}} if income is not None else {})}


# -- decisions --------------------------------------------------------------------------------------


def test_a_decision_that_breaks_an_invariant_and_an_exclusive_group_says_so(full_root: Path) -> None:
    policies = _policies(full_root)
    household = _household(3500)  # passes, and both rules hold
    fast = policies.decide(household, DAY)
    assert fast.findings == ("demo.invariants:inv.pass_no_help", "demo.batch:exclusive(r.a, r.b)")
    explained = policies.evaluate(household, DAY)
    assert explained.outcome() == fast
    assert [(f.kind, f.id, f.status) for f in explained.findings] == [
        ("invariant", "inv.pass_no_help", "violated"),
        ("exclusive", "exclusive(r.a, r.b)", "violated"),
    ]
    violated = explained.findings[0]
    assert violated.pack == "demo.invariants@1"
    assert "verdict() = pass; rule(r.a) = true" in violated.reason.en
    assert violated.location == "policies/demo/invariants/1.yaml:12"
    en, zh = explained.render("en"), explained.render("zh")
    assert "finding: invariant inv.pass_no_help (demo.invariants@1) violated" in en
    assert "finding: exclusive rules exclusive(r.a, r.b) (demo.batch@1) violated" in en
    assert "发现：不变式 inv.pass_no_help（demo.invariants@1）不成立" in zh
    assert "demo.invariants@1" in {f"{p.id}@{p.version}" for p in explained.packs}
    data = explained.to_json()
    assert [f["id"] for f in data["findings"]] == ["inv.pass_no_help", "exclusive(r.a, r.b)"]
    (frame,) = policies.decide_table([household], DAY)
    assert frame["findings"].to_list() == [list(fast.findings)]


def test_each_finding_is_its_own(full_root: Path) -> None:
    policies = _policies(full_root)
    expectations = {
        6000: (),  # passes, no rule holds
        4500: ("demo.invariants:inv.pass_no_help",),  # passes and rule A holds (B does not)
        2000: ("demo.batch:exclusive(r.a, r.b)",),  # fails income, helped: both rules hold
    }
    for income, expected in expectations.items():
        household = _household(income)
        fast = policies.decide(household, DAY)
        assert fast.findings == expected, income
        assert policies.evaluate(household, DAY).outcome() == fast
        (frame,) = policies.decide_table([household], DAY)
        assert frame["findings"].to_list() == [list(expected)]


def test_criterion_reads_the_decisions_own_verdict_pack_in_every_engine(full_root: Path) -> None:
    """Decided with another verdict pack (`exit_pack=`), `criterion("demo.income")` is not that
    pack's: unknown, never false, and the engines agree."""
    policies = _policies(full_root)
    for income in (2000, 3500, 6000):
        household = _household(income)
        fast = policies.decide(household, DAY, exit_pack="demo.batch")
        (frame,) = policies.decide_table([household], DAY, exit_pack="demo.batch")
        assert frame["findings"].to_list() == [list(fast.findings)], income
        assert all("fail_gets_help" not in f for f in fast.findings)


def test_an_invariant_that_cannot_be_told_is_no_finding_and_names_what_would_settle_it(
    full_root: Path,
) -> None:
    policies = _policies(full_root)
    household = _household(None)
    assert policies.decide(household, DAY).findings == ()
    explained = policies.evaluate(household, DAY)
    undetermined = {f.id: f for f in explained.findings}
    assert set(undetermined) == {"inv.b_needs_a", "inv.fail_gets_help"}
    assert all(f.status == "undetermined" for f in undetermined.values())
    assert undetermined["inv.b_needs_a"].missing == ("income.per_capita",)
    assert "cannot be checked: missing income.per_capita" in undetermined["inv.b_needs_a"].reason.en


def test_without_invariants_or_exclusive_groups_nothing_is_checked(full_root: Path) -> None:
    policy_set, problems = _load(full_root, batch=BATCH, invariants=None)
    assert policy_set is not None, _errors(problems)
    policies = Policies(policy_set)
    assert policies.decide(_household(3500), DAY).findings == ()
    assert policies.evaluate(_household(3500), DAY).findings == ()
    (frame,) = policies.decide_table([_household(3500)], DAY)
    assert frame["findings"].to_list() == [[]]


def test_exclusive_groups_and_invariants_are_in_the_content_hash(full_root: Path) -> None:
    with_group, _ = _load(full_root)
    assert with_group is not None
    without, _ = _load(full_root, batch=BATCH)
    assert without is not None
    batch = {p.id: p for p in with_group.packs}["demo.batch"]
    assert content_hash(batch.pack) != content_hash({p.id: p for p in without.packs}["demo.batch"].pack)

    def invariants_hash(text: str) -> str:
        policy_set, problems = _load(full_root, invariants=text)
        assert policy_set is not None, _errors(problems)
        return content_hash({p.id: p for p in policy_set.packs}["demo.invariants"].pack)

    # the statement's meaning is hashed, not how it is written
    same = INVARIANTS.replace(
        'not (verdict() == "pass" and rule("r.a"))', 'not(verdict()=="pass"  and rule("r.a"))'
    )
    assert invariants_hash(same) == invariants_hash(INVARIANTS)
    other = INVARIANTS.replace(
        'not (verdict() == "pass" and rule("r.a"))', 'not (verdict() == "fail" and rule("r.a"))'
    )
    assert invariants_hash(other) != invariants_hash(INVARIANTS)


def test_the_summary_counts_the_findings(full_root: Path) -> None:
    policies = _policies(full_root)
    households = [{**_household(i), "id": f"H-{i}"} for i in (2000, 3500, 4500, 6000)]
    (frame,) = policies.decide_table(households, DAY)
    outcomes = [policies.decide(h, DAY) for h in households]
    plan = summary_plan(policies.policy_set, DAY)

    def summary(lang: Lang) -> str:
        return table_summary(
            frame,
            lang,
            as_of=DAY,
            plan=plan,
            county_of=["-"] * 4,
            settle_of=lambda row: exit_settle(outcomes[row]),
        )

    text = summary("en")
    section = text[text.index("Invariants violated and exclusive rules broken (households): ") :]
    assert "demo.batch:exclusive(r.a, r.b) 2" in section  # 2000 and 3500
    assert "demo.invariants:inv.pass_no_help 2" in section  # 3500 and 4500
    assert "违反的不变式与互斥规则（户数）：" in summary("zh")


def test_a_pack_case_states_the_findings_it_expects(full_root: Path) -> None:
    policy_set, problems = _load(full_root)
    assert policy_set is not None, _errors(problems)
    cases = write(
        full_root,
        "demo/invariants/tests/cases.yaml",
        "pack: demo.invariants\n"
        "cases:\n"
        "  - {name: passes with rule A, as_of: 2019-08-01, household: {id: H-1, income: {per_capita: 4500}},\n"
        "     expect: {findings: [inv.pass_no_help]}}\n"
        "  - {name: a wrong expectation, as_of: 2019-08-01, household: {id: H-1, income: {per_capita: 4500}},\n"
        "     expect: {findings: []}}\n",
    )
    write(
        full_root,
        "demo/batch/tests/cases.yaml",
        "pack: demo.batch\n"
        "cases:\n"
        "  - {name: both rules, as_of: 2019-08-01, household: {id: H-1, income: {per_capita: 2000}},\n"
        "     expect: {findings: ['exclusive(r.a, r.b)']}}\n",
    )
    results, problems = run_files([cases, full_root / "demo/batch/tests/cases.yaml"], policy_set)
    assert not [d for d in problems if d.is_error], _errors(problems)
    assert [r.passed for r in results] == [True, False, True]
    assert results[1].mismatches == (("findings", "[]", "[inv.pass_no_help]"),)


# -- misuse -----------------------------------------------------------------------------------------


def _only(problems: list[Diagnostic], code: str) -> Diagnostic:
    found = [d for d in problems if d.is_error]
    assert [d.code for d in found] == [code], _errors(problems)
    return found[0]


def test_an_exclusive_group_names_rules_of_its_pack(full_root: Path) -> None:
    _, problems = _load(full_root, batch=BATCH + "exclusive:\n  - [r.a, r.c]\n")
    d = _only(problems, "pack/unknown-rule")
    assert d.render("en").startswith("policies/demo/batch/1.yaml:29:11:")
    assert "did you mean `r.b`, `r.a`?" in d.render("en")


def test_an_exclusive_group_names_two_rules(full_root: Path) -> None:
    _, problems = _load(full_root, batch=BATCH + "exclusive:\n  - [r.a, r.a]\n")
    _only(problems, "pack/exclusive-group")


def test_invariants_belong_to_a_pack_of_their_kind(full_root: Path) -> None:
    _, problems = _load(
        full_root,
        batch=BATCH
        + "invariants:\n  - {id: i, title: {zh: 甲, en: A}, holds: 'true', cite: {source: doc}}\n",
    )
    _only(problems, "pack/invariants-elsewhere")


def test_a_pack_of_invariants_decides_nothing(full_root: Path) -> None:
    extra = "rules:\n  - {id: r.x, title: {zh: 甲, en: A}, when: size > 0, cite: {source: doc}}\n"
    _, problems = _load(full_root, invariants=INVARIANTS + extra)
    assert "`rules`" in _only(problems, "pack/invariants-only").render("en")


def test_an_outcome_function_is_for_invariants_only(full_root: Path) -> None:
    _, problems = _load(full_root, batch=BATCH.replace("when: income.per_capita < 4000", 'when: rule("r.a")'))
    d = _only(problems, "type/outcome-function")
    assert "`rule()` reads a decision's outcome" in d.render("en")


def test_an_outcome_function_takes_a_name_written_out(full_root: Path) -> None:
    _, problems = _load(full_root, invariants=INVARIANTS.replace('rule("r.b")', "rule(r.b)"))
    assert "type/outcome-name" in [d.code for d in problems if d.is_error]


@pytest.mark.parametrize("reading", ["income.per_capita > 3000", "present(income.per_capita)"])
def test_an_invariant_reads_no_record(full_root: Path, reading: str) -> None:
    _, problems = _load(full_root, invariants=INVARIANTS.replace('criterion("demo.income")', reading))
    d = _only(problems, "pack/invariant-reads-record")
    assert "reads `income.per_capita`" in d.render("en")


def test_an_invariant_names_what_its_subject_declares(full_root: Path) -> None:
    _, problems = _load(full_root, invariants=INVARIANTS.replace('granted("help")', 'granted("hlep")'))
    d = _only(problems, "pack/invariant-unknown-name")
    text = d.render("en")
    assert 'granted("hlep")' in text
    assert "did you mean `help`" in text
