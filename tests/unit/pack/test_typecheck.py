"""Checking a read pack against the household schema: the `pack/*` diagnostics of the checker
(fact cycles, unknown subject, unknown enum), type errors located in the file, and what a
checked pack holds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import attrs
import pytest

from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy.errors import Diagnostic
from gspolicy.pack.hash import canonical
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Schema, UnitSpec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packs"

HEAD = """\
format: 1
pack: demo.t
version: "1"
kind: exit
valid_from: 2019-01-01
title: {zh: 测试, en: Test}
department: office
departments: {office: {zh: 扶贫办, en: Office}}
sources:
  doc: {title: {zh: 文件, en: Document}, confidence: H}
"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    found, problems = read_schema(FIXTURES / "good" / "schema" / "household.yaml")
    assert found is not None, problems
    return found


def checked(schema: Schema, extra: str) -> tuple[CheckedPack | None, list[Diagnostic]]:
    pack, problems = read_pack(Source("t.yaml", HEAD + textwrap.dedent(extra)))
    assert pack is not None, [d.render("en") for d in problems]
    return check_pack(pack, schema)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


THREE_CYCLE = """\
facts:
  a:
    title: {zh: 甲, en: A}
    expr: b + 1
  b:
    title: {zh: 乙, en: B}
    expr: c + 1
  c:
    title: {zh: 丙, en: C}
    expr: a + 1
"""


def test_a_cycle_among_facts_is_reported_at_every_fact_on_it(schema: Schema) -> None:
    result, problems = checked(schema, THREE_CYCLE)
    assert result is None
    cycle = [d for d in problems if d.code == "pack/fact-cycle"]
    assert [d.context[0] for d in cycle] == [("fact", "a"), ("fact", "b"), ("fact", "c")]
    assert cycle[0].render("en") == expect(
        """
        t.yaml:12:3: pack/fact-cycle: in fact `a` of pack `demo.t@1`: facts refer to each other in a cycle: `a` → `b` → `c` → `a`
          12 |   a:
             |   ^
          help: a fact may use only facts that do not use it back
        """
    )
    assert cycle[2].render("zh") == expect(
        """
        t.yaml:18:3: pack/fact-cycle: 在政策包 `demo.t@1` 的派生事实 `c`中：派生事实之间循环引用：`a` → `b` → `c` → `a`
          18 |   c:
             |   ^
          帮助：派生事实只能引用不反过来引用它的事实
        """
    )


def test_a_fact_referring_to_itself_is_a_cycle(schema: Schema) -> None:
    _, problems = checked(
        schema,
        """\
        facts:
          a:
            title: {zh: 甲, en: A}
            expr: a + 1
        """,
    )
    [d] = [d for d in problems if d.code == "pack/fact-cycle"]
    assert d.message("en") == (
        "in fact `a` of pack `demo.t@1`: facts refer to each other in a cycle: `a` → `a`"
    )


def test_facts_in_a_chain_are_ordered_not_a_cycle(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        facts:
          c:
            title: {zh: 丙, en: C}
            expr: b * 2
          b:
            title: {zh: 乙, en: B}
            expr: a + 1
          a:
            title: {zh: 甲, en: A}
            expr: income.per_capita - income.transfers
        """,
    )
    assert problems == []
    assert result is not None
    assert list(result.facts) == ["a", "b", "c"]


def test_unknown_subject(schema: Schema) -> None:
    result, problems = checked(schema, "subject: person\n")
    assert result is None
    [d] = problems
    assert d.render("en") == expect(
        """
        t.yaml:1:1: pack/unknown-subject: in pack `demo.t@1`: the schema has no record type `person` to decide on
           1 | format: 1
             | ^^^^^^^^^
        """
    )
    assert d.message("zh") == "在政策包 `demo.t@1`中：数据结构中没有可供判定的记录类型 `person`"


def test_another_record_type_can_be_the_subject(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        subject: member
        criteria:
          - id: m.insured
            title: {zh: 参保, en: Insured}
            require: insured
            cite: {source: doc}
        """,
    )
    assert problems == []
    assert result is not None
    assert result.subject == "member"


def test_unknown_enum(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        parameters:
          causes:
            title: {zh: 原因, en: Causes}
            type: list
            enum: couse
            values:
              2019-01-01: {value: [illness], source: doc}
        """,
    )
    assert result is None
    [d] = problems
    assert d.render("en") == expect(
        """
        t.yaml:12:3: pack/unknown-enum: in parameter `causes` of pack `demo.t@1`: the schema has no enum `couse`
          12 |   causes:
             |   ^^^^^^
        """
    )


def test_a_list_parameter_of_enum_codes_types_membership(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        parameters:
          causes:
            title: {zh: 原因, en: Causes}
            type: list
            enum: cause
            values:
              2019-01-01: {value: [illness, disability], source: doc}
        rules:
          - id: r.cause
            title: {zh: 因病因残, en: Illness or disability}
            when: main_cause in causes
            cite: {source: doc}
        """,
    )
    assert problems == []
    assert result is not None
    assert "r.cause" in result.rules


def test_a_type_error_names_the_criterion_and_is_underlined(schema: Schema) -> None:
    _, problems = checked(
        schema,
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {value: 3000, source: doc}
        criteria:
          - id: c.registered
            title: {zh: 建档, en: Registered}
            require: registered_on > line
            cite: {source: doc}
        """,
    )
    [d] = problems
    assert d.render("en") == expect(
        """
        t.yaml:19:14: type/incomparable: in criterion `c.registered` of pack `demo.t@1`: cannot compare a date with a number using `>`
          19 |     require: registered_on > line
             |              ^^^^^^^^^^^^^^^^^^^^
          help: `<`, `<=`, `>` and `>=` compare two numbers or two dates
        """
    )


def test_a_condition_must_be_true_or_false(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        rules:
          - id: r.size
            title: {zh: 人口, en: Size}
            when: size + 1
            cite: {source: doc}
        """,
    )
    assert result is None
    assert [d.context for d in problems] == [(("rule", "r.size"), ("pack", "demo.t@1"))]
    assert problems[0].location.header() == "t.yaml:14:11"  # type: ignore[union-attr]


def test_a_checked_pack_has_typed_parts_and_a_content_hash(schema: Schema) -> None:
    result, problems = checked(
        schema,
        """\
        facts:
          stable:
            title: {zh: 稳定收入, en: Stable income}
            expr: income.per_capita - income.transfers
        applies:
          title: {zh: 低保户, en: Dibao}
          when: dibao
          cite: {source: doc}
        criteria:
          - id: c.income
            title: {zh: 收入, en: Income}
            given: present(income.per_capita)
            require: stable > 3000
            cite: {source: doc}
          - id: c.unknown
            title: {zh: 未知, en: Unknown}
            not_established: true
            cite: {source: doc}
        """,
    )
    assert problems == []
    assert result is not None
    assert result.key == "demo.t@1"
    assert set(result.facts) == {"stable"}
    assert set(result.criteria) == {"c.income"}  # a criterion not established has no condition
    assert set(result.givens) == {"c.income"}
    assert result.applies is not None
    assert result.content_hash.startswith("sha256:")
    assert len(result.content_hash) == 7 + 64


def _with_units(schema: Schema) -> Schema:
    units = {
        code: UnitSpec(code, Text(zh=zh, en=code), percent=code == "ratio")
        for code, zh in (("yuan/person/year", "元/人/年"), ("yuan", "元"), ("ratio", "比率"))
    }
    return attrs.evolve(schema, units=units)


def test_a_unit_the_schema_does_not_declare_is_an_error_at_the_unit(schema: Schema) -> None:
    result, problems = checked(
        _with_units(schema),
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            unit: yuan/persn/year
            values:
              2019-01-01: {value: 3500, source: doc}
          share:
            title: {zh: 比例, en: Share}
            unit: ratio
            values:
              2019-01-01: {value: 0.9, source: doc}
        facts:
          rate:
            title: {zh: 比率, en: Rate}
            unit: rate
            expr: income.per_capita / 1000
        measures:
          cash:
            title: {zh: 补助, en: Cash}
            department: office
            form: grant
            amount: {value: 500, unit: yuan/household, source: doc}
        """,
    )
    assert result is None
    assert [d.code for d in problems] == ["pack/unknown-unit"] * 3
    assert problems[0].render("en") == expect(
        """
        t.yaml:14:11: pack/unknown-unit: in parameter `line` of pack `demo.t@1`: unknown unit `yuan/persn/year`: the schema's `units:` table does not declare it
          14 |     unit: yuan/persn/year
             |           ^^^^^^^^^^^^^^^
          help: did you mean `yuan/person/year`? use a unit the schema declares, or declare this one under `units:` in the schema with its Chinese and English text
        """
    )
    assert [(dict(d.context)["pack"], d.context[0]) for d in problems[1:]] == [
        ("demo.t@1", ("fact", "rate")),
        ("demo.t@1", ("measure", "cash")),
    ]
    assert [d.location.text for d in problems[1:]] == ["rate", "yuan/household"]  # type: ignore[union-attr]
    assert problems[1].suggestions == ("ratio",)


def test_declared_units_pass_and_a_schema_without_a_table_allows_any(schema: Schema) -> None:
    pack = """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            unit: yuan/person/year
            values:
              2019-01-01: {value: 3500, source: doc}
        facts:
          rate:
            title: {zh: 比率, en: Rate}
            unit: ratio
            expr: income.per_capita / 1000
        """
    result, problems = checked(_with_units(schema), pack)
    assert problems == []
    assert result is not None
    assert result.pack.facts["rate"].unit == "ratio"
    assert checked(schema, pack.replace("unit: ratio", "unit: anything"))[1] == []


def test_a_fact_unit_is_in_the_content_hash_only_when_given(schema: Schema) -> None:
    fact = "facts:\n  rate:\n    title: {zh: 比率, en: Rate}\n    expr: income.per_capita / 1000\n"
    plain, _ = checked(schema, fact)
    with_unit, _ = checked(_with_units(schema), fact + "    unit: ratio\n")
    assert plain is not None
    assert with_unit is not None
    assert "unit" not in canonical(plain.pack.facts["rate"])  # type: ignore[operator]
    assert canonical(with_unit.pack.facts["rate"])["unit"] == "ratio"  # type: ignore[index]
    assert plain.content_hash != with_unit.content_hash
