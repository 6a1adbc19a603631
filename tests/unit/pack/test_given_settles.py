"""What would settle a criterion whose data precondition (`given`) is false: the data it reads,
or — when it reads none — the criterion itself; never nothing, in every runner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gspolicy.api import Policies
from gspolicy.explain.build import decide
from gspolicy.pack.load import load_policies
from gspolicy.schema.records import validate_record
from unit.pack._root import write

PACK = """\
format: 1
pack: demo.check
version: "1"
kind: exit
valid_from: 2019-01-01
title: {zh: 测试, en: Test}
department: office
departments: {office: {zh: 扶贫办, en: Office}}
sources:
  doc: {title: {zh: 文件, en: Document}, confidence: H}
criteria:
  - id: demo.income
    title: {zh: 收入为正, en: Income above zero}
    given: GIVEN
    require: income.per_capita > 0
    cite: {source: doc, clause: 收入须为正数}
"""


def _income(root: Path, given: str, as_of: dt.date) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    write(root, "demo/check.yaml", PACK.replace("GIVEN", given))
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    record, _ = validate_record(
        {"registered_on": "2018-09-30", "income": {"per_capita": 10}}, policy_set.schema
    )
    assert record is not None
    decision = decide(policy_set, record, as_of)
    (income,) = decision.criteria
    outcome = Policies(policy_set).decide(record, as_of)
    (result,) = outcome.packs[0].criteria
    return income.verdict, income.missing, result.settle


def test_a_false_given_names_the_data_it_reads(root: Path) -> None:
    verdict, missing, settle = _income(root, "year(registered_on) >= 2019", dt.date(2019, 12, 31))
    assert (verdict, missing, settle) == ("undetermined", ("registered_on",), ("registered_on",))


def test_a_false_given_that_reads_no_data_names_the_criterion(root: Path) -> None:
    verdict, missing, settle = _income(root, "year(as_of) >= 2020", dt.date(2019, 12, 31))
    assert (verdict, missing, settle) == (
        "undetermined",
        ("criterion:demo.income",),
        ("criterion:demo.income",),
    )
