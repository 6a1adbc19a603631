"""`buffer.combine`: how a measure both granted by a rule now and retained by the buffer is counted.

The rule is the buffer pack's (the bundled one: `higher`, "support is not reduced"), never the
engine's: the reader takes it with its citations and refuses an unknown value where it is written;
the support of a decision, of its outcome, of the columnar runner and the ledger's plan follow it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, get_args

import pytest

from gspolicy._location import Source
from gspolicy.api import load_policies
from gspolicy.engine.outcome import retained_replaces, support_from
from gspolicy.errors import Diagnostic
from gspolicy.pack.book import _COMBINE_WORDS
from gspolicy.pack.format import COMBINE_RULES
from gspolicy.pack.model import CombineRule, PackSource
from gspolicy.pack.read import read_pack
from gspolicy.schema.records import load_records_from
from gspolicy.store.ledger import Ledger
from gspolicy.store.log import DecisionLog
from unit.store._support import AS_OF, EXAMPLES, make_policy_root

BUFFER = """\
format: 1
pack: demo.buffer
version: "1"
kind: buffer
valid_from: 2019-01-01
title: {zh: 缓冲, en: Buffer}
department: office
departments: {office: {zh: 扶贫办, en: Office}}
sources:
  doc: {title: {zh: 文件, en: Document}, confidence: H}
buffer:
  title: {zh: 缓冲期, en: The buffer}
  retained: held_on(support, registration.exited_on)
  bases:
    - {id: b.one, title: {zh: 依据, en: Basis}, active: "True", until: as_of, amounts: at_exit, cite: {source: doc}}
"""


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def read(combine: str) -> tuple[PackSource | None, list[Diagnostic]]:
    return read_pack(Source("t.yaml", BUFFER + textwrap.indent(textwrap.dedent(combine), "  ")))


@pytest.mark.parametrize("rule", ["higher", "retained", "granted"])
def test_the_rule_is_read_with_its_citations(rule: str) -> None:
    pack, problems = read(
        f"""\
        combine:
          amount: {rule}
          cite: {{source: doc, clause: 支持力度不减}}
          note: {{zh: 说明, en: Why}}
        """
    )
    assert problems == []
    assert pack is not None
    assert pack.buffer is not None
    combine = pack.buffer.combine
    assert combine.amount == rule
    assert [(c.source, c.clause) for c in combine.cites] == [("doc", "支持力度不减")]
    assert combine.note is not None
    assert combine.note.en == "Why"


def test_an_unknown_rule_is_a_located_error_with_a_suggestion() -> None:
    _, problems = read(
        """\
        combine:
          amount: highest
          cite: {source: doc}
        """
    )
    (problem,) = problems
    assert problem.render("en") == expect(
        """
        t.yaml:17:13: shape/bad-value: in option `combine` of option `buffer` of pack `demo.buffer@1`: `highest` is not a valid choice for `amount`
          17 |     amount: highest
             |             ^^^^^^^
          help: did you mean `higher`? one of `higher`, `retained`, `granted`
        """
    )
    assert (
        problem.render("zh").splitlines()[-1]
        == "  帮助：您是否想写 `higher`？可选：`higher`, `retained`, `granted`"
    )


@pytest.mark.parametrize(
    ("combine", "where"),
    [
        # a buffer pack must say how a retained measure combines: there is no default
        (
            "",
            "t.yaml:12:3: shape/missing-key: in option `buffer` of pack `demo.buffer@1`: "
            "missing key `combine` in `buffer`",
        ),
        # the rule comes from a source
        (
            "combine: {amount: higher}\n",
            "t.yaml:16:12: shape/missing-key: in option `combine` of option `buffer` of pack "
            "`demo.buffer@1`: missing key `cite` in `combine`",
        ),
    ],
)
def test_the_rule_and_its_source_are_required(combine: str, where: str) -> None:
    _, problems = read(combine)
    assert [d.code for d in problems] == ["shape/missing-key"], [d.render("en") for d in problems]
    assert problems[0].render("en").splitlines()[0] == where


GRANTED = [("grant", "5000", "batch.rule")]


@pytest.mark.parametrize(
    ("rule", "kept", "expected"),
    [
        ("higher", "7900", ("grant", "7900", "b.one")),
        ("higher", "3000", ("grant", "5000", "batch.rule")),
        ("higher", None, ("grant", "5000", "batch.rule")),  # an unknown amount never replaces
        ("retained", "3000", ("grant", "3000", "b.one")),
        ("retained", None, ("grant", None, "b.one")),
        ("granted", "7900", ("grant", "5000", "batch.rule")),
    ],
)
def test_support_follows_the_rule(rule: Any, kept: str | None, expected: tuple[str, str | None, str]) -> None:
    retained = [("grant", kept, "b.one", "support[0]"), ("other", "10", "b.one", "support[1]")]
    assert support_from(GRANTED, retained, rule) == (expected, ("other", "10", "b.one"))


def test_a_range_granted_is_replaced_by_an_exact_amount_under_higher() -> None:
    assert retained_replaces("higher", "100", "[3000, 4000]")
    assert not retained_replaces("higher", "[3000, 4000]", "100")


def test_retained_support_without_a_rule_is_refused() -> None:
    retained = [("grant", "7900", "b.one", "support[0]")]
    with pytest.raises(ValueError, match="combine"):
        support_from(GRANTED, retained, None)
    # nothing to combine: no rule needed
    assert support_from(GRANTED, [("new", "1", "b.one", "support[0]")], None)[0] == (
        "grant",
        "5000",
        "batch.rule",
    )


# -- the bundled buffer pack's rule decides, end to end ---------------------------------------------------


def _root_with(tmp_path: Path, rule: str) -> Path:
    root = make_policy_root(tmp_path / rule)
    pack = root / "buffer_period" / "household" / "2016.1.yaml"
    text = pack.read_text(encoding="utf-8")
    assert text.count("\n    amount: higher\n") == 1, (
        "the bundled buffer pack no longer says `amount: higher`"
    )
    pack.write_text(text.replace("\n    amount: higher\n", f"\n    amount: {rule}\n"), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("rule", "held", "paid"),
    [
        ("higher", 7900, ("7900", "buffer.campaign")),
        ("higher", 3000, ("5000", "batch.industry")),
        ("retained", 3000, ("3000", "buffer.campaign")),
        ("granted", 7900, ("5000", "batch.industry")),
    ],
)
def test_the_packs_rule_decides_the_support(
    tmp_path: Path, rule: str, held: int, paid: tuple[str, str]
) -> None:
    """Household 621126-0001 is granted 5,000 of `industry_grant` by a rule and held `held` at exit:
    the decision, its outcome, the per-record and columnar runners and the ledger's plan count the
    amount the pack's rule keeps."""
    root = _root_with(tmp_path, rule) if rule != "higher" else make_policy_root(tmp_path)
    policies = load_policies(root)
    data = json.loads(EXAMPLES.read_text(encoding="utf-8").splitlines()[0])
    assert data["id"] == "621126-0001"
    for item in data["support"]:
        if item["measure"] == "industry_grant":
            item["amount"] = held
    households = tmp_path / "households.jsonl"
    households.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    (record,), _ = load_records_from([households], policies.policy_set.schema)
    decision = policies.evaluate(record, AS_OF)
    assert [(a, w) for m, a, w in decision.support if m == "industry_grant"] == [paid]
    assert decision.outcome().support == decision.support
    assert policies.decide(record, AS_OF).support == decision.support
    (row,) = [r for frame in policies.decide_table([record], AS_OF) for r in frame.iter_rows(named=True)]
    assert f"industry_grant={paid[0]} ({paid[1]})" in row["support"]
    with DecisionLog.open(tmp_path / "log.db") as log:
        entry = log.record(record, decision, policies.policy_set, actor="tester").entry
        plan = Ledger(log).plan(entry, actor="planner")
    (item,) = [i for i in plan.items if i.measure == "industry_grant"]
    assert (item.amount, item.batch) == paid


def test_every_rule_is_declared_once_and_said_in_the_book() -> None:
    assert tuple(COMBINE_RULES) == get_args(CombineRule)
    assert set(_COMBINE_WORDS) == set(COMBINE_RULES)
