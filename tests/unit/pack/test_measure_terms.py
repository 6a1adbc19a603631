"""Measures with terms: every measure declares its `form`; a loan declares its `ceiling` and
`term` (never an `amount`) and is shown as a loan; `lapses_when` ends a retained item and may
not read what never ends a retention (income, exit, status).  Each misuse is refused where it is
written."""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy.engine.outcome import measure_text
from gspolicy.errors import Diagnostic
from gspolicy.pack.hash import content_hash
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from unit.pack._root import write

HEAD = """\
format: 1
pack: demo.batch
version: "1"
kind: batch
valid_from: 2016-01-01
title: {zh: 测试, en: Test}
department: office
departments: {office: {zh: 扶贫办, en: Office}}
sources:
  doc: {title: {zh: 文件, en: Document}, confidence: H}
facts:
  low_income:
    title: {zh: 低收入, en: Low income}
    expr: income.per_capita < 3000
  has_preschooler:
    title: {zh: 有学前儿童, en: A member in preschool}
    expr: any(members, enrolled and schooling == "preschool")
rules:
  - id: demo.rule
    title: {zh: 规则, en: A rule}
    when: has_preschooler
    grant: [help]
    cite: {source: doc}
measures:
  help:
    title: {zh: 帮扶, en: Help}
    department: office
"""


def _load(root: Path, measure: str) -> tuple[PolicySet | None, list[Diagnostic]]:
    write(root, "demo/batch/1.yaml", HEAD + measure)
    return load_policies([root])


def _codes(problems: list[Diagnostic]) -> list[str]:
    return [d.code for d in problems if d.is_error]


def _at(problems: list[Diagnostic], code: str) -> str:
    found = [d for d in problems if d.code == code]
    assert len(found) == 1, [d.render("en") for d in problems]
    location = found[0].location
    assert location is not None
    return location.header()


# -- good -------------------------------------------------------------------------------------------


def test_a_loan_declares_its_ceiling_and_term_and_is_shown_as_a_loan(full_root: Path) -> None:
    policy_set, problems = _load(
        full_root,
        "    form: loan\n"
        "    ceiling: {value: 50000, unit: yuan/household, source: doc}\n"
        "    term: {value: 36, unit: months, source: doc, clause: 期限 3 年}\n",
    )
    assert policy_set is not None, [d.render("en") for d in problems]
    (pack,) = policy_set.packs
    help_ = pack.pack.measures["help"]
    assert (help_.form, help_.amount.value, help_.term.value if help_.term else None) == ("loan", 50000, 36)
    assert measure_text(help_) == "loan, ceiling 50000, term 36 months"


def test_every_form_and_a_lapse_condition_are_read(full_root: Path) -> None:
    for form in ("grant", "subsidy", "waiver", "service"):
        policy_set, problems = _load(
            full_root,
            f"    form: {form}\n"
            "    amount: {value: 1000, unit: yuan, source: doc}\n"
            "    lapses_when: not has_preschooler\n",
        )
        assert policy_set is not None, [d.render("en") for d in problems]
        (pack,) = policy_set.packs
        assert pack.pack.measures["help"].form == form
        assert measure_text(pack.pack.measures["help"]) == "1000"
        assert set(pack.lapses) == {"help"}


def test_the_lapse_condition_and_the_form_are_in_the_content_hash(full_root: Path) -> None:
    hashes = set()
    for measure in (
        "    form: grant\n    amount: {value: 1, source: doc}\n",
        "    form: subsidy\n    amount: {value: 1, source: doc}\n",
        "    form: grant\n    amount: {value: 1, source: doc}\n    lapses_when: not has_preschooler\n",
        "    form: grant\n    amount: {value: 1, source: doc}\n    lapses_when: has_preschooler\n",
    ):
        policy_set, problems = _load(full_root, measure)
        assert policy_set is not None, [d.render("en") for d in problems]
        hashes.add(content_hash(policy_set.packs[0].pack))
    assert len(hashes) == 4


# -- bad --------------------------------------------------------------------------------------------


def test_a_measure_without_a_form_is_refused_where_it_is(full_root: Path) -> None:
    _, problems = _load(full_root, "    amount: {value: 1, source: doc}\n")
    assert "shape/missing-key" in _codes(problems)
    assert "`form`" in next(d for d in problems if d.code == "shape/missing-key").render("en")


def test_an_unknown_form_names_the_forms(full_root: Path) -> None:
    _, problems = _load(full_root, "    form: gift\n    amount: {value: 1, source: doc}\n")
    assert len(_codes(problems)) == 1
    text = next(d for d in problems if d.is_error).render("en")
    assert "gift" in text
    assert "loan" in text
    assert text.startswith("policies/demo/batch/1.yaml:28:")


def test_a_loan_with_an_amount_is_refused(full_root: Path) -> None:
    _, problems = _load(
        full_root,
        "    form: loan\n"
        "    amount: {value: 50000, source: doc}\n"
        "    term: {value: 3, unit: years, source: doc}\n",
    )
    assert _codes(problems) == ["pack/loan-amount", "pack/loan-terms"]
    assert _at(problems, "pack/loan-amount") == "policies/demo/batch/1.yaml:29:13"
    assert "`ceiling`" in next(d for d in problems if d.code == "pack/loan-terms").render("en")


def test_a_loan_without_its_term_is_refused(full_root: Path) -> None:
    _, problems = _load(full_root, "    form: loan\n    ceiling: {value: 50000, source: doc}\n")
    assert _codes(problems) == ["pack/loan-terms"]
    assert "`term`" in next(d for d in problems if d.is_error).render("en")


def test_a_term_is_in_years_or_months(full_root: Path) -> None:
    _, problems = _load(
        full_root,
        "    form: loan\n"
        "    ceiling: {value: 50000, source: doc}\n"
        "    term: {value: 90, unit: days, source: doc}\n",
    )
    assert _codes(problems) == ["pack/term-unit"]
    assert _at(problems, "pack/term-unit") == "policies/demo/batch/1.yaml:30:11"


def test_loan_terms_on_another_form_are_refused(full_root: Path) -> None:
    _, problems = _load(
        full_root,
        "    form: grant\n"
        "    amount: {value: 1, source: doc}\n"
        "    term: {value: 3, unit: years, source: doc}\n",
    )
    assert _codes(problems) == ["pack/not-a-loan"]
    assert _at(problems, "pack/not-a-loan") == "policies/demo/batch/1.yaml:30:11"
    assert "form is `grant`" in next(d for d in problems if d.is_error).render("en")


def test_a_measure_other_than_a_loan_declares_its_amount(full_root: Path) -> None:
    _, problems = _load(full_root, "    form: waiver\n")
    assert _codes(problems) == ["pack/measure-amount"]


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ("income.per_capita > 5000", "income.per_capita"),
        ('registration.status == "exited"', "registration.status"),
        ("not low_income", "income.per_capita"),  # through a fact
    ],
)
def test_a_lapse_never_reads_income_exit_or_status(full_root: Path, condition: str, path: str) -> None:
    _, problems = _load(
        full_root, f"    form: grant\n    amount: {{value: 1, source: doc}}\n    lapses_when: {condition}\n"
    )
    assert _codes(problems) == ["pack/lapse-reads-status"]
    text = next(d for d in problems if d.is_error).render("en")
    assert f"reads `{path}`" in text
    assert "measure `help`" in text


def test_a_lapse_is_a_condition(full_root: Path) -> None:
    _, problems = _load(
        full_root, "    form: grant\n    amount: {value: 1, source: doc}\n    lapses_when: size\n"
    )
    errors = [d for d in problems if d.is_error]
    assert len(errors) == 1
    assert errors[0].code.startswith("type/")
    assert ("measure", "help") in errors[0].context
