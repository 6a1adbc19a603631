"""`paraphrase: true`: a clause that restates its source in other words (a translation, a summary)
is never shown in quotation marks as if it were the source's text — not in explanations, the
decision's JSON or the policy book — and a clause given verbatim still is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

import gspolicy
from gspolicy.explain.build import decide
from gspolicy.pack.book import render_book
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.records import validate_record
from unit.pack._root import write

REPO = Path(__file__).resolve().parents[3]
DECISION_SCHEMA = json.loads(
    (Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text("utf-8")
)
DAY = dt.date(2019, 8, 1)

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
    cite:
      - {source: doc, clause: 年人均纯收入稳定超过国家扶贫标准}
      - {source: doc, clause: 收入须为正数（英文转述）PARA}
"""


def pack_text(mark: str = "") -> str:
    """The pack with `mark` (e.g. ``, paraphrase: true``) added to its second citation."""
    return PACK.replace("PARA", mark)


def loaded(root: Path, text: str) -> PolicySet:
    write(root, "demo/check.yaml", text)
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    return policy_set


def test_a_paraphrase_is_shown_without_quotation_marks_and_a_verbatim_clause_with_them(root: Path) -> None:
    policy_set = loaded(root, pack_text(", paraphrase: true"))
    (checked,) = policy_set.packs
    verbatim, restated = checked.pack.criteria[0].cites
    assert (verbatim.paraphrase, restated.paraphrase) == (False, True)
    record, _ = validate_record({"income": {"per_capita": 10}}, policy_set.schema)
    assert record is not None
    decision = decide(policy_set, record, DAY)
    zh, en = decision.render("zh", detail="full"), decision.render("en", detail="full")
    assert "“年人均纯收入稳定超过国家扶贫标准”" in zh
    assert "大意：收入须为正数（英文转述）" in zh
    assert "“收入须为正数" not in zh
    assert "“收入须为正数" not in en
    assert "Document, paraphrased: 收入须为正数（英文转述）, confidence H" in en
    data = decision.to_json()
    jsonschema.validate(data, DECISION_SCHEMA)
    cites = json.dumps(data, ensure_ascii=False)
    assert "paraphrased: 收入须为正数（英文转述）" in cites
    assert "“收入须为正数" not in cites
    page = render_book(policy_set)["demo.check.md"]
    assert "《文件》 “年人均纯收入稳定超过国家扶贫标准” (H)" in page
    assert "《文件》 paraphrased / 大意: 收入须为正数（英文转述） (H)" in page


def test_a_dated_value_and_a_bound_may_be_paraphrases(root: Path) -> None:
    text = pack_text() + (
        "parameters:\n"
        "  line:\n"
        "    title: {zh: 标准, en: Line}\n"
        "    values:\n"
        "      2019-06-01: {value: 3218, source: doc, clause: 约 3218 元（转述）, paraphrase: true}\n"
        "      2020-01-01:\n"
        "        at_least: {value: 4000, source: doc, clause: 约 4000 元（转述）, paraphrase: true}\n"
        "        at_most: {value: 4742, source: doc, clause: 4742 元}\n"
    )
    policy_set = loaded(root, text)
    (checked,) = policy_set.packs
    exact, ranged = checked.pack.parameters["line"].values
    assert exact.paraphrase is True
    assert ranged.paraphrase is False
    assert ranged.low is not None
    assert ranged.low.paraphrase is True
    assert ranged.high is not None
    assert ranged.high.paraphrase is False
    page = render_book(policy_set)["demo.check.md"]
    assert "(source `doc` paraphrased / 大意: 约 3218 元（转述）)" in page
    # an explanation's parameter lines: the exact value and the range's low bound unquoted
    reads_line = text.replace("require: income.per_capita > 0", "require: income.per_capita > line")
    policy_set = loaded(root, reads_line)
    record, _ = validate_record({"income": {"per_capita": 5000}}, policy_set.schema)
    assert record is not None
    for day, shown in ((DAY, "约 3218 元（转述）"), (dt.date(2020, 6, 1), "约 4000 元（转述）")):
        decision = decide(policy_set, record, day)
        zh, en = decision.render("zh", detail="full"), decision.render("en", detail="full")
        assert f"大意：{shown}" in zh
        assert f"paraphrased: {shown}" in en
        assert f"“{shown}" not in zh + en
        data = decision.to_json()
        jsonschema.validate(data, DECISION_SCHEMA)
        (use,) = [p for c in data["criteria"] for p in c["parameters"] if p["name"] == "line"]
        marked = use.get("paraphrase") or any(b.get("paraphrase") for b in use["bounds"])
        assert marked is True
    assert "“4742 元”" in decide(policy_set, record, dt.date(2020, 6, 1)).render("zh", detail="full")
    assert "≥ `doc` paraphrased / 大意: 约 4000 元（转述）; ≤ `doc` “4742 元”" in page


def test_paraphrase_without_a_clause_is_refused_located(root: Path) -> None:
    text = PACK.replace("clause: 收入须为正数（英文转述）PARA", "paraphrase: true")
    write(root, "demo/check.yaml", text)
    policy_set, problems = load_policies([root])
    assert policy_set is None
    (problem,) = [d for d in problems if d.is_error]
    assert problem.code == "pack/paraphrase-without-clause"
    assert problem.render("en") == (
        "policies/demo/check.yaml:17:35: pack/paraphrase-without-clause: in criterion `demo.income` of pack "
        "`demo.check@1`: `paraphrase: true` marks a `clause` written in other words than the source's; there "
        "is no `clause` here\n"
        "  17 |       - {source: doc, paraphrase: true}\n"
        "     |                                   ^^^^\n"
        "  help: add the clause it marks, or remove `paraphrase`"
    )
    assert "此处没有 `clause`" in problem.render("zh")


def test_the_mark_is_in_the_content_hash_only_when_true(root: Path) -> None:
    plain = loaded(root, pack_text()).packs[0].content_hash
    unmarked = loaded(root, pack_text(", paraphrase: false")).packs[0].content_hash
    marked = loaded(root, pack_text(", paraphrase: true")).packs[0].content_hash
    assert plain == unmarked  # a pack that does not use the key keeps the hash it always had
    assert marked != plain
