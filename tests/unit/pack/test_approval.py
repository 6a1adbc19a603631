"""Approval provenance: a pack version may name the document that approved it (its number, 文号,
the issuing body, the day issued and the day in force), shown beside the content hash in
decisions, the policy book and the decision log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

import gspolicy
from gspolicy.analysis.lint import check_paths
from gspolicy.explain.build import decide
from gspolicy.pack.book import render_book
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.records import validate_record
from gspolicy.store.log import DecisionLog
from unit.pack._root import write

REPO = Path(__file__).resolve().parents[3]
DECISION_SCHEMA = json.loads(
    (Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text("utf-8")
)
DAY = dt.date(2019, 8, 1)

APPROVAL = """\
approval:
  document: 甘政办发〔2019〕1号
  issuer: {zh: 甘肃省人民政府办公厅, en: General Office of the Gansu Provincial Government}
  issued: 2019-05-20
  in_force: 2019-06-01
"""

PACK = """\
format: 1
pack: demo.check
version: "1"
kind: exit
valid_from: 2019-06-01
title: {zh: 测试, en: Test}
department: office
departments: {office: {zh: 扶贫办, en: Office}}
sources:
  doc: {title: {zh: 文件, en: Document}, confidence: H}
criteria:
  - id: demo.income
    title: {zh: 收入为正, en: Income above zero}
    require: income.per_capita > 0
    cite: {source: doc}
"""


def write_pack(root: Path, text: str) -> Path:
    return write(root, "demo/check.yaml", text)


def loaded(root: Path) -> PolicySet:
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    return policy_set


def test_an_approved_version_shows_its_approval_in_decisions_the_book_and_the_log(root: Path) -> None:
    write_pack(root, PACK + APPROVAL)
    policy_set = loaded(root)
    (checked,) = policy_set.packs
    assert checked.pack.approval is not None
    assert checked.pack.approval.document == "甘政办发〔2019〕1号"
    record, _ = validate_record({"income": {"per_capita": 10}}, policy_set.schema)
    assert record is not None
    decision = decide(policy_set, record, DAY)
    assert (
        "approved by 甘政办发〔2019〕1号 (General Office of the Gansu Provincial Government, issued 2019-05-20, "
        "in force from 2019-06-01)" in decision.render("en", detail="full")
    )
    assert (
        "批准文件：甘政办发〔2019〕1号（甘肃省人民政府办公厅，2019-05-20 印发，2019-06-01 起施行）"
        in decision.render("zh", detail="full")
    )
    data = decision.to_json()
    jsonschema.validate(data, DECISION_SCHEMA)
    assert data["packs"][0]["approval"]["document"] == "甘政办发〔2019〕1号"
    assert data["packs"][0]["approval"]["in_force"] == "2019-06-01"
    page = render_book(policy_set)["demo.check.md"]
    assert "- approval / 批准文件: 甘政办发〔2019〕1号（甘肃省人民政府办公厅" in page
    with DecisionLog.open(Path("log.db")) as log:
        log.record(record, decision, policy_set, actor="test")
        (listed,) = log.entry(1).pack_list()
    assert listed["approval"] == "甘政办发〔2019〕1号"
    assert listed["content_hash"] == checked.content_hash


def test_a_version_without_approval_says_nothing_of_it(root: Path) -> None:
    write_pack(root, PACK)
    policy_set = loaded(root)
    record, _ = validate_record({"income": {"per_capita": 10}}, policy_set.schema)
    assert record is not None
    decision = decide(policy_set, record, DAY)
    assert "approved by" not in decision.render("en", detail="full")
    assert "approval" not in decision.to_json()["packs"][0]
    jsonschema.validate(decision.to_json(), DECISION_SCHEMA)


def test_the_approval_is_part_of_the_content_hash(root: Path) -> None:
    write_pack(root, PACK)
    plain = loaded(root).packs[0].content_hash
    write_pack(root, PACK + APPROVAL)
    approved = loaded(root).packs[0].content_hash
    write_pack(root, PACK + APPROVAL.replace("1号", "2号"))
    other = loaded(root).packs[0].content_hash
    assert len({plain, approved, other}) == 3


def test_an_approval_in_force_before_it_was_issued_is_refused_located(root: Path) -> None:
    write_pack(root, PACK + APPROVAL.replace("in_force: 2019-06-01", "in_force: 2019-05-01"))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    (problem,) = [d for d in problems if d.is_error]
    assert problem.code == "pack/approval-dates"
    assert "demo/check.yaml:20:13" in problem.render("en")  # at `in_force`
    assert "before it was issued on 2019-05-20" in problem.render("en")


def test_an_approval_without_its_number_is_refused(root: Path) -> None:
    write_pack(root, PACK + APPROVAL.replace("  document: 甘政办发〔2019〕1号\n", ""))
    _, problems = load_policies([root])
    assert [d.code for d in problems if d.is_error] == ["shape/missing-key"]
    assert "`document`" in problems[0].render("en")


def test_an_approval_taking_effect_on_another_day_than_the_version_is_a_warning(root: Path) -> None:
    write_pack(root, PACK + APPROVAL.replace("in_force: 2019-06-01", "in_force: 2019-07-01"))
    report = check_paths([root])
    found = [d for d in report.diagnostics if d.code == "lint/approval-date"]
    assert len(found) == 1
    assert "takes effect on 2019-07-01, but this version is in force from 2019-06-01" in found[0].render("en")
