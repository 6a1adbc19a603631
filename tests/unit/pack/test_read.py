"""Reading one pack file: every `pack/*` diagnostic of the reader, located and underlined.

Each error test asserts the whole rendering — ``file:line:col: code: message``, the source line,
the underline and the help line — so a change in any of them is a visible diff.  The packs are
written here as text: a minimal valid head (`HEAD`, ten lines) and the part under test after it,
so line numbers in the expected renderings start at 11 for the part under test.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pytest

from gspolicy._location import Source
from gspolicy.errors import Diagnostic
from gspolicy.pack.model import PackSource
from gspolicy.pack.read import read_pack

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


def read(extra: str = "", head: str = HEAD) -> tuple[PackSource | None, list[Diagnostic]]:
    return read_pack(Source("t.yaml", head + textwrap.dedent(extra)))


def read_ok(extra: str = "") -> PackSource:
    pack, problems = read(extra)
    assert pack is not None, [d.render("en") for d in problems]
    assert problems == []
    return pack


def only(problems: list[Diagnostic], code: str) -> Diagnostic:
    """The one diagnostic of `problems`, which must have `code`."""
    assert [d.code for d in problems] == [code], [d.render("en") for d in problems]
    return problems[0]


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- a good pack ---------------------------------------------------------------------------------


def test_a_minimal_pack_reads() -> None:
    pack = read_ok()
    assert pack.key == "demo.t@1"
    assert pack.format == 1
    assert pack.valid_from == dt.date(2019, 1, 1)
    assert pack.valid_to is None
    assert pack.sources["doc"].confidence == "H"
    assert pack.departments["office"].en == "Office"


def test_dated_values_are_sorted_and_exact() -> None:
    pack = read_ok(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2020-01-01: {at_least: {value: 3300, source: doc}, at_most: {value: 3815.38, source: doc, confidence: L}}
              2019-01-01: {value: 3300.0, source: doc}
              2021-01-01: {not_established: true}
        """
    )
    values = pack.parameters["line"].values
    assert [v.effective for v in values] == [dt.date(2019, 1, 1), dt.date(2020, 1, 1), dt.date(2021, 1, 1)]
    assert [v.kind for v in values] == ["exact", "range", "not_established"]
    assert values[0].value == Decimal("3300")
    assert values[1].low is not None
    assert values[1].low.value == Decimal("3300")
    assert values[1].high is not None
    assert values[1].high.value == Decimal("3815.38")
    assert values[1].high.confidence == "L"
    assert [v.is_gap for v in values] == [False, True, True]


def test_an_inferred_citation_is_read_as_inferred() -> None:
    pack = read_ok(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            require: size > 1
            cite:
              - {source: doc, clause: 第一条}
              - {inferred_from: doc, clause: 部门分工, confidence: L-M}
        """
    )
    first, second = pack.criteria[0].cites
    assert (first.source, first.inferred, first.clause) == ("doc", False, "第一条")
    assert (second.source, second.inferred, second.confidence) == ("doc", True, "L-M")


@pytest.mark.parametrize(("written", "read_as"), [("H-M", "M-H"), ("M–L", "L-M"), ("l", "L")])
def test_confidence_spellings_are_normalised(written: str, read_as: str) -> None:
    pack = read_ok(
        f"""\
        parameters:
          line:
            title: {{zh: 标准, en: Line}}
            values:
              2019-01-01: {{value: 1, source: doc, confidence: "{written}"}}
        """
    )
    assert pack.parameters["line"].values[0].confidence == read_as


# --- pack/format-too-new ---------------------------------------------------------------------------


def test_format_too_new() -> None:
    pack, problems = read(head=HEAD.replace("format: 1", "format: 2"))
    assert pack is None
    d = only(problems, "pack/format-too-new")
    assert d.render("en") == expect(
        """
        t.yaml:1:9: pack/format-too-new: this pack uses pack format 2, but this gspolicy reads format 1
           1 | format: 2
             |         ^
          help: upgrade gspolicy to a version that reads pack format 2 (see docs/changelog.md)
        """
    )
    assert d.render("zh") == expect(
        """
        t.yaml:1:9: pack/format-too-new: 此政策包使用格式版本 2，而当前 gspolicy 只能读取格式版本 1
           1 | format: 2
             |         ^
          帮助：请升级 gspolicy 到能读取格式版本 2 的版本（见 docs/changelog.md）
        """
    )


def test_a_newer_format_is_said_plainly_not_as_unknown_keys() -> None:
    """A newer format may add keys this version does not know: the reader says only that the
    format is too new, not that the new keys are unknown (BUG: today it reports both)."""
    pack, problems = read("exceptions: []\n", head=HEAD.replace("format: 1", "format: 2"))
    assert pack is None
    assert [d.code for d in problems] == ["pack/format-too-new"], [d.render("en") for d in problems]


def test_the_current_format_is_accepted() -> None:
    assert read_ok().format == 1


# --- references: sources, departments, measures ----------------------------------------------------


def test_unknown_source() -> None:
    pack, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            require: size > 1
            cite: {source: dco}
        """
    )
    # the pack is still read (so that checking it reports its other problems) but is in error
    assert pack is not None
    assert not pack.criteria[0].cites
    d = only(problems, "pack/unknown-source")
    assert d.render("en") == expect(
        """
        t.yaml:15:20: pack/unknown-source: in criterion `c.one` of pack `demo.t@1`: unknown source `dco`
          15 |     cite: {source: dco}
             |                    ^^^
          help: did you mean `doc`? declare it under `sources`
        """
    )
    assert d.render("zh") == expect(
        """
        t.yaml:15:20: pack/unknown-source: 在政策包 `demo.t@1` 的指标 `c.one`中：未知来源 `dco`
          15 |     cite: {source: dco}
             |                    ^^^
          帮助：您是否想写 `doc`？请在 `sources` 下声明该来源
        """
    )


def test_unknown_source_of_a_bound() -> None:
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {at_least: {value: 1, source: doc}, at_most: {value: 2, source: news}}
        """
    )
    # (the bound then also reads as having no source: a follow-on diagnostic, see the report)
    [d] = [d for d in problems if d.code == "pack/unknown-source"]
    assert d.message("en") == "in parameter `line` of pack `demo.t@1`: unknown source `news`"
    assert (d.location.line, d.location.text) == (15, "news")  # type: ignore[union-attr]


def test_unknown_department() -> None:
    _, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            department: ofice
            require: size > 1
            cite: {source: doc}
        """
    )
    d = only(problems, "pack/unknown-department")
    assert d.render("en") == expect(
        """
        t.yaml:14:17: pack/unknown-department: in criterion `c.one` of pack `demo.t@1`: unknown department `ofice`
          14 |     department: ofice
             |                 ^^^^^
          help: did you mean `office`? declare it under `departments`
        """
    )


def test_unknown_department_of_the_pack() -> None:
    _, problems = read(head=HEAD.replace("department: office", "department: poverty_office"))
    d = only(problems, "pack/unknown-department")
    assert d.render("en") == expect(
        """
        t.yaml:7:13: pack/unknown-department: in pack `demo.t@1`: unknown department `poverty_office`
           7 | department: poverty_office
             |             ^^^^^^^^^^^^^^
          help: did you mean `office`? declare it under `departments`
        """
    )


def test_unknown_measure() -> None:
    _, problems = read(
        """\
        measures:
          grant:
            title: {zh: 补助, en: Grant}
            department: office
            form: grant
            amount: {value: 500, source: doc}
        rules:
          - id: r.one
            title: {zh: 一, en: One}
            when: dibao
            grant: [grnat]
            cite: {source: doc}
        """
    )
    d = only(problems, "pack/unknown-measure")
    assert d.render("en") == expect(
        """
        t.yaml:21:13: pack/unknown-measure: in rule `r.one` of pack `demo.t@1`: unknown measure `grnat`
          21 |     grant: [grnat]
             |             ^^^^^
          help: did you mean `grant`? declare it under `measures`
        """
    )


# --- ids and validity --------------------------------------------------------------------------------


def test_duplicate_criterion_id() -> None:
    _, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            require: size > 1
            cite: {source: doc}
          - id: c.one
            title: {zh: 二, en: Two}
            require: size > 2
            cite: {source: doc}
        """
    )
    d = only(problems, "pack/duplicate-id")
    assert d.render("en") == expect(
        """
        t.yaml:16:9: pack/duplicate-id: in criterion `c.one` of pack `demo.t@1`: duplicate criterion id `c.one`
          16 |   - id: c.one
             |         ^^^^^
          help: ids must be unique within a pack
        """
    )
    assert d.render("zh").splitlines()[0] == (
        "t.yaml:16:9: pack/duplicate-id: 在政策包 `demo.t@1` 的指标 `c.one`中：重复的指标编号 `c.one`"
    )


def test_duplicate_rule_id() -> None:
    _, problems = read(
        """\
        rules:
          - id: r.one
            title: {zh: 一, en: One}
            when: dibao
            cite: {source: doc}
          - id: r.one
            title: {zh: 二, en: Two}
            when: not dibao
            cite: {source: doc}
        """
    )
    d = only(problems, "pack/duplicate-id")
    assert d.message("en") == "in rule `r.one` of pack `demo.t@1`: duplicate rule id `r.one`"
    assert d.location.header() == "t.yaml:16:9"  # type: ignore[union-attr]


def test_valid_to_before_valid_from() -> None:
    _, problems = read("valid_to: 2018-12-31\n")
    d = only(problems, "pack/bad-validity")
    assert d.render("en") == expect(
        """
        t.yaml:11:11: pack/bad-validity: in pack `demo.t@1`: `valid_to` (2018-12-31) is before `valid_from` (2019-01-01)
          11 | valid_to: 2018-12-31
             |           ^^^^^^^^^^
        """
    )
    assert d.help("en") is None


def test_a_one_day_validity_is_fine() -> None:
    pack = read_ok("valid_to: 2019-01-01\n")
    assert pack.in_force(dt.date(2019, 1, 1))
    assert not pack.in_force(dt.date(2019, 1, 2))
    assert not pack.in_force(dt.date(2018, 12, 31))


def test_a_bad_date_is_located() -> None:
    _, problems = read("valid_to: 2019-02-30\n")
    d = only(problems, "shape/bad-value")
    assert d.render("en") == expect(
        """
        t.yaml:11:11: shape/bad-value: in pack `demo.t@1`: `2019-02-30` is not a valid date for `valid_to`
          11 | valid_to: 2019-02-30
             |           ^^^^^^^^^^
          help: write dates as YYYY-MM-DD
        """
    )


# --- dated values ---------------------------------------------------------------------------------------


def test_a_dated_value_with_two_forms() -> None:
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {value: 3000, at_least: 2900, source: doc}
        """
    )
    d = only(problems, "pack/bad-value")
    assert d.render("en") == expect(
        """
        t.yaml:15:19: pack/bad-value: in parameter `line` of pack `demo.t@1`: a dated value must be exactly one of `value`, a range (`at_least` / `at_most`) or `not_established: true`
          15 |       2019-01-01: {value: 3000, at_least: 2900, source: doc}
             |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )


@pytest.mark.parametrize(
    "value",
    [
        "{not_established: true, value: 1, source: doc}",
        "{not_established: true, at_most: 1, source: doc}",
        "{source: doc}",
        "{not_established: false}",
    ],
)
def test_other_dated_values_without_exactly_one_form(value: str) -> None:
    _, problems = read(
        f"""\
        parameters:
          line:
            title: {{zh: 标准, en: Line}}
            values:
              2019-01-01: {value}
        """
    )
    d = only(problems, "pack/bad-value")
    assert d.location.line == 15  # type: ignore[union-attr]


def test_an_amount_with_two_forms() -> None:
    _, problems = read(
        """\
        measures:
          grant:
            title: {zh: 补助, en: Grant}
            department: office
            form: grant
            amount: {value: 500, not_established: true}
        """
    )
    d = only(problems, "pack/bad-value")
    assert d.context == (("measure", "grant"), ("pack", "demo.t@1"))
    assert d.location.header() == "t.yaml:16:13"  # type: ignore[union-attr]


def test_empty_range() -> None:
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {at_least: 3600, at_most: 3300, source: doc}
        """
    )
    d = only(problems, "pack/empty-range")
    assert d.render("en") == expect(
        """
        t.yaml:15:19: pack/empty-range: in parameter `line` of pack `demo.t@1`: the range is empty: `at_least` 3600 is above `at_most` 3300
          15 |       2019-01-01: {at_least: 3600, at_most: 3300, source: doc}
             |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )


def test_a_range_of_one_value_is_not_empty() -> None:
    pack = read_ok(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {at_least: 3300, at_most: 3300.00, source: doc}
        """
    )
    assert pack.parameters["line"].values[0].kind == "range"


def test_a_value_without_a_source() -> None:
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {value: 3000}
        """
    )
    d = only(problems, "pack/no-source")
    assert d.render("en") == expect(
        """
        t.yaml:15:19: pack/no-source: in parameter `line` of pack `demo.t@1`: the value has no source
          15 |       2019-01-01: {value: 3000}
             |                   ^^^^^^^^^^^^^
          help: name a `source` (or give each bound of a range its own source)
        """
    )


def test_a_bound_without_a_source() -> None:
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01:
                at_least: {value: 3000, source: doc}
                at_most: 3600
        """
    )
    d = only(problems, "pack/no-source")
    assert d.render("en") == expect(
        """
        t.yaml:17:18: pack/no-source: in parameter `line` of pack `demo.t@1`: the value has no source
          17 |         at_most: 3600
             |                  ^^^^
          help: name a `source` (or give each bound of a range its own source)
        """
    )


def test_a_range_with_one_source_for_both_bounds_is_fine() -> None:
    pack = read_ok(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {at_least: 3000, at_most: 3600, source: doc}
        """
    )
    assert pack.parameters["line"].values[0].source == "doc"


def test_a_range_for_a_date_parameter() -> None:
    _, problems = read(
        """\
        parameters:
          cutoff:
            title: {zh: 截止日, en: Cut-off}
            type: date
            values:
              2019-01-01: {at_least: 3000, at_most: 3600, source: doc}
        """
    )
    d = only(problems, "pack/wrong-value-type")
    assert d.render("en") == expect(
        """
        t.yaml:16:19: pack/wrong-value-type: in parameter `cutoff` of pack `demo.t@1`: expected a number for a `date` parameter, found a range
          16 |       2019-01-01: {at_least: 3000, at_most: 3600, source: doc}
             |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )
    assert "`date` 类型参数应为数字，实际为区间" in d.render("zh")


def test_a_scalar_for_a_list_parameter() -> None:
    _, problems = read(
        """\
        parameters:
          causes:
            title: {zh: 原因, en: Causes}
            type: list
            values:
              2019-01-01: {value: illness, source: doc}
        """
    )
    d = only(problems, "pack/wrong-value-type")
    rendered = d.render("en").splitlines()
    assert rendered[0].startswith(
        "t.yaml:16:27: pack/wrong-value-type: in parameter `causes` of pack `demo.t@1`: "
        "expected a list for a `list` parameter, found "
    )
    assert rendered[1:] == [
        "  16 |       2019-01-01: {value: illness, source: doc}",
        "     |                           ^^^^^^^",
    ]


# --- citations and criteria ---------------------------------------------------------------------------


def test_a_citation_without_source() -> None:
    _, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            require: size > 1
            cite: {clause: 第一条}
        """
    )
    d = only(problems, "pack/no-citation")
    assert d.render("en") == expect(
        """
        t.yaml:15:11: pack/no-citation: in criterion `c.one` of pack `demo.t@1`: a citation must name exactly one of `source` and `inferred_from`
          15 |     cite: {clause: 第一条}
             |           ^^^^^^^^^^^^^^^^
          help: write `source: <id>` for a text that says it, or `inferred_from: <id>` with `confidence: L` for an inference
        """
    )


def test_a_criterion_without_require() -> None:
    _, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            cite: {source: doc}
        """
    )
    d = only(problems, "pack/require-missing")
    assert d.render("en") == expect(
        """
        t.yaml:12:5: pack/require-missing: in criterion `c.one` of pack `demo.t@1`: the criterion has no `require` condition
          12 |   - id: c.one
             |     ^^^^^^^^^
          help: give the condition, or mark the criterion `not_established: true` when the sources do not give it
        """
    )


def test_a_criterion_not_established_needs_no_require() -> None:
    pack = read_ok(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            not_established: true
            cite: {source: doc}
        """
    )
    assert pack.criteria[0].not_established
    assert pack.criteria[0].require is None


# --- keys and expressions -----------------------------------------------------------------------------


def test_a_misspelled_key_gets_a_suggestion() -> None:
    _, problems = read("valid_form: 2019-12-31\n")
    d = only(problems, "shape/unknown-key")
    assert d.location.header() == "t.yaml:11:1"  # type: ignore[union-attr]
    assert d.help("en") is not None
    assert d.help("en").startswith("did you mean `valid_from`, `valid_to`?")


def test_a_syntax_error_in_a_literal_block_is_located_in_the_file() -> None:
    _, problems = read(
        """\
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            require: |
              size > 1
              and and dibao
            cite: {source: doc}
        """
    )
    d = only(problems, "parse/syntax")
    assert d.location.line == 16  # type: ignore[union-attr]
    assert d.context == (("criterion", "c.one"), ("pack", "demo.t@1"))


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    _, problems = read(
        """\
        valid_to: 2018-01-01
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {value: 3000}
        criteria:
          - id: c.one
            title: {zh: 一, en: One}
            department: nobody
            require: size > 1
            cite: {source: dco}
        """
    )
    assert sorted(d.code for d in problems) == [
        "pack/bad-validity",
        "pack/no-source",
        "pack/unknown-department",
        "pack/unknown-source",
    ]


def test_an_approximate_value_is_read_and_only_an_exact_one_may_be() -> None:
    pack = read_ok(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2019-01-01: {value: 3218, source: doc}
              2020-01-01: {value: 4000, approximate: true, source: doc}
        """
    )
    first, second = pack.parameters["line"].values
    assert (first.approximate, second.approximate) == (False, True)
    _, problems = read(
        """\
        parameters:
          line:
            title: {zh: 标准, en: Line}
            values:
              2020-01-01: {at_least: 4000, at_most: 4742.55, approximate: true, source: doc}
        """
    )
    d = only(problems, "pack/approximate-not-exact")
    assert d.location.header() == "t.yaml:15:67"  # type: ignore[union-attr]
