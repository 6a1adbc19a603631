"""Shared parameters: a pack of `kind: parameters` declares them once, other packs `import:` them.

The importing pack is checked and decided as if it declared them (one history, so a change in
the parameters pack reaches every importer); the import is part of its content hash and shown in
its explanations; every misuse is refused where it is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gspolicy.errors import Diagnostic
from gspolicy.explain.build import decide
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.records import validate_record
from unit.pack._root import write

DAY = dt.date(2019, 8, 1)

HEAD = """\
format: 1
pack: {id}
version: "1"
kind: {kind}
valid_from: {valid_from}
title: {{zh: 测试, en: Test}}
department: office
departments: {{office: {{zh: 扶贫办, en: Office}}}}
sources:
  doc: {{title: {{zh: 文件, en: Document}}, confidence: H}}
"""

SHARED = (
    HEAD.format(id="shared.lines", kind="parameters", valid_from="2019-01-01")
    + """\
parameters:
  income_line:
    title: {zh: 收入标准, en: Income standard}
    unit: yuan/person/year
    values:
      2019-01-01: {value: 3300, source: doc, clause: 第二条}
  unused_line:
    title: {zh: 另一标准, en: Another standard}
    values:
      2019-01-01: {value: 1, source: doc}
"""
)

USER = (
    HEAD.format(id="demo.check", kind="exit", valid_from="2019-06-01")
    + """\
import:
  shared.lines: [income_line]
criteria:
  - id: demo.income
    title: {zh: 收入超过标准, en: Income above the standard}
    require: income.per_capita > income_line
    cite: {source: doc}
"""
)


def load(root: Path) -> tuple[PolicySet | None, list[Diagnostic]]:
    policy_set, problems = load_policies([root])
    return policy_set, [d for d in problems if d.is_error]


def test_an_imported_parameter_decides_as_if_declared_and_is_shown_with_its_origin(root: Path) -> None:
    write(root, "shared/lines.yaml", SHARED)
    write(root, "demo/check.yaml", USER)
    policy_set, problems = load(root)
    assert problems == []
    assert policy_set is not None
    (user,) = policy_set.versions("demo.check")
    line = user.pack.parameters["income_line"]
    assert line.imported_from == "shared.lines@1"
    assert "unused_line" not in user.pack.parameters  # only the names imported
    assert [(i.pack, i.names, i.version) for i in user.pack.imports] == [
        ("shared.lines", ("income_line",), "1")
    ]
    record, _ = validate_record({"income": {"per_capita": 3400}}, policy_set.schema)
    assert record is not None
    decision = decide(policy_set, record, DAY)
    assert decision.verdict == "pass"
    used = next(p for c in decision.criteria for p in c.parameters if p.name == "income_line")
    assert used.imported_from == "shared.lines@1"
    assert "shared/lines.yaml:" in (used.location or "")  # the value's own line, in the parameters pack
    assert ", imported from shared.lines@1)" in decision.render("en", detail="full")
    assert "，导入自 shared.lines@1）" in decision.render("zh", detail="full")
    as_json = decision.to_json()
    shown = [p for c in as_json["criteria"] for p in c["parameters"]]
    assert [p["imported_from"] for p in shown if p["name"] == "income_line"] == ["shared.lines@1"]


def test_the_import_is_part_of_the_content_hash_and_one_history_reaches_every_importer(root: Path) -> None:
    write(root, "shared/lines.yaml", SHARED)
    write(root, "demo/check.yaml", USER)
    write(
        root,
        "demo/other.yaml",
        USER.replace("demo.check", "demo.other").replace("kind: exit", "kind: finding"),
    )
    before, _ = load(root)
    assert before is not None
    hashes = {p.id: p.content_hash for p in before.packs}
    # an unrelated parameter of the parameters pack: the importers keep their hash
    write(root, "shared/lines.yaml", SHARED.replace("{value: 1, source: doc}", "{value: 2, source: doc}"))
    same, _ = load(root)
    assert same is not None
    assert {p.id: p.content_hash for p in same.packs if p.id != "shared.lines"} == {
        k: v for k, v in hashes.items() if k != "shared.lines"
    }
    # the imported value: both importers change, and decide by the new value
    write(root, "shared/lines.yaml", SHARED.replace("value: 3300", "value: 3500"))
    after, _ = load(root)
    assert after is not None
    for pack_id in ("demo.check", "demo.other"):
        (checked,) = after.versions(pack_id)
        assert checked.content_hash != hashes[pack_id]
        assert checked.pack.parameters["income_line"].values[0].value == 3500
    record, _ = validate_record({"income": {"per_capita": 3400}}, after.schema)
    assert record is not None
    assert decide(after, record, DAY).verdict == "fail"


@pytest.mark.parametrize(
    ("change", "code", "shown"),
    [
        (("shared.lines: [income_line]", "shared.line: [income_line]"), "pack/import-unknown", "shared.line"),
        (("[income_line]", "[income_lin]"), "pack/import-unknown-parameter", "income_lin"),
        (("valid_from: 2019-06-01", "valid_from: 2018-06-01"), "pack/import-not-covered", "2018-06-01"),
    ],
)
def test_an_import_that_cannot_be_resolved_is_refused_at_the_import(
    root: Path, change: tuple[str, str], code: str, shown: str
) -> None:
    write(root, "shared/lines.yaml", SHARED)
    write(root, "demo/check.yaml", USER.replace(*change))
    policy_set, problems = load(root)
    assert policy_set is None
    (problem,) = problems
    assert problem.code == code
    text = problem.render("en")
    assert "demo/check.yaml:12:" in text  # the line of the import
    assert shown in text
    assert problem.render("zh") != text


def test_a_parameter_both_imported_and_declared_is_refused(root: Path) -> None:
    write(root, "shared/lines.yaml", SHARED)
    declared = """\
parameters:
  income_line:
    title: {zh: 收入标准, en: Income standard}
    values:
      2019-01-01: {value: 3000, source: doc}
"""
    write(root, "demo/check.yaml", USER + declared)
    policy_set, problems = load(root)
    assert policy_set is None
    assert [d.code for d in problems] == ["pack/import-shadowed"]
    assert "both imported from `shared.lines` and declared here" in problems[0].render("en")


def test_an_imported_source_declared_differently_here_is_refused(root: Path) -> None:
    write(root, "shared/lines.yaml", SHARED)
    write(
        root, "demo/check.yaml", USER.replace("en: Document}, confidence: H}", "en: Another}, confidence: M}")
    )
    policy_set, problems = load(root)
    assert policy_set is None
    assert [d.code for d in problems] == ["pack/import-source-conflict"]


def test_a_parameters_pack_holds_parameters_only(root: Path) -> None:
    criteria = USER.split("criteria:", 1)[1]
    write(root, "shared/lines.yaml", SHARED + "criteria:" + criteria)
    policy_set, problems = load(root)
    assert policy_set is None
    (problem,) = problems
    assert problem.code == "pack/parameters-only"
    assert "shared/lines.yaml:21:1" in problem.render("en")  # at the key
    assert "holds parameters only, not `criteria`" in problem.render("en")


def test_a_logged_decision_of_an_importing_pack_replays_from_the_stored_packs(root: Path) -> None:
    from gspolicy.store.log import DecisionLog

    write(root, "shared/lines.yaml", SHARED)
    write(root, "demo/check.yaml", USER)
    policy_set, _ = load(root)
    assert policy_set is not None
    record, _ = validate_record({"income": {"per_capita": 3400}}, policy_set.schema)
    assert record is not None
    decision = decide(policy_set, record, DAY)
    with DecisionLog.open(Path("log.db")) as log:
        log.record(record, decision, policy_set, actor="test")
        replayed = log.replay(1)
    assert replayed.identical, replayed.differences
    assert replayed.stored["verdict"] == "pass"


def test_no_bundled_parameter_is_declared_in_two_packs() -> None:
    """One name, one history: a parameter several bundled packs use is declared once, in a pack of
    `kind: parameters`, and imported; two packs declaring one name would drift apart unseen."""
    from support.bundled import shared_policies

    declared: dict[str, set[str]] = {}
    imported = 0
    for checked in shared_policies().policy_set.packs:
        for name, param in checked.pack.parameters.items():
            if param.imported_from is None:
                declared.setdefault(name, set()).add(checked.id)
            else:
                imported += 1
    assert imported > 20  # the shared income line, working ages, school ages, water standards…
    assert {name: ids for name, ids in declared.items() if len(ids) > 1} == {}
