"""`gspolicy fmt`'s layout on small files: key order, flow or block, comments, scalars as written,
and bad input refused with located diagnostics (never a traceback, nothing written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gspolicy.errors import PolicyError
from gspolicy.pack.fmt import WIDTH, format_text, layout_orders
from gspolicy.pack.fmt_files import FmtResult, format_paths

PACK = "policies/demo/x.yaml"

MESSY = """\
# yaml-language-server: $schema=../../docs/reference/pack.schema.json
# a demo pack
version: '1'
pack: demo.x
format: 1
title:
    en: Demo
    zh: 示例
sources:
    doc:
        confidence: H   # read twice
        title: {en: The document, zh: 文件}
kind: batch

valid_from: 2016-01-01
criteria:
-   cite: [{clause: "吃穿不愁, 两不愁", source: doc}]
    title: {en: Income, zh: 收入}
    # the income test
    require: |
        income.per_capita
          > 3500
    id: c.income
department: office
departments: {office: {en: Office, zh: 办公室}}
"""

CANONICAL = """\
# yaml-language-server: $schema=../../docs/reference/pack.schema.json
# a demo pack
format: 1
pack: demo.x
version: '1'
kind: batch

valid_from: 2016-01-01
title: {zh: 示例, en: Demo}
department: office
departments:
  office: {zh: 办公室, en: Office}
sources:
  doc:
    title: {zh: 文件, en: The document}
    confidence: H  # read twice
criteria:
  - id: c.income
    title: {zh: 收入, en: Income}
    # the income test
    require: |
      income.per_capita
        > 3500
    cite:
      - {source: doc, clause: "吃穿不愁, 两不愁"}
"""


def test_a_messy_pack_gets_the_canonical_layout() -> None:
    assert format_text(MESSY, path=PACK) == CANONICAL
    assert format_text(CANONICAL, path=PACK) == CANONICAL


def test_a_text_pair_goes_to_block_style_exactly_when_its_line_passes_the_width() -> None:
    # the line `  a: {zh: 中…, en: x…}` is 2 + 4 + 10 + 2·n + 6 + m columns wide: find n, m at the edge
    def pack(zh: str, en: str) -> str:
        return f"format: 1\npack: demo.x\nnote: {{zh: {zh}, en: {en}}}\n"

    fits = pack("中" * 20, "e" * (WIDTH - len("note: {zh: , en: }") - 40))
    assert max(len(line) for line in fits.splitlines()) <= WIDTH  # ASCII part; the Chinese counts two
    assert format_text(fits, path=PACK) == fits
    over = pack("中" * 20, "e" * (WIDTH - len("note: {zh: , en: }") - 39))
    assert format_text(over, path=PACK).splitlines()[2:] == [
        "note:",
        f"  zh: {'中' * 20}",
        f"  en: {'e' * 53}",
    ]


def test_scalars_are_written_exactly_as_written() -> None:
    text = (
        "format: 1\npack: demo.x\nversion: '2018.1'\nvalid_from: 2018-08-21\n"
        'note: {zh: "引号\\u4e2d", en: 3500.00}\n'
        "kind: batch\n"
        "title:\n  zh: 一行很长的中文" + "长" * 60 + "\n  en: x\n"
    )
    out = format_text(text, path=PACK)
    for written in ("'2018.1'", "2018-08-21", '"引号\\u4e2d"', "3500.00", "长" * 60):
        assert written in out
    assert "valid_from: 2018-08-21" in out.splitlines()


def test_a_comment_inside_a_collection_keeps_it_a_block_and_every_comment_survives() -> None:
    text = "format: 1\npack: demo.x\ntitle:\n  zh: 示例  # the Chinese\n  en: Demo\nnote:\n  # why\n  zh: 注\n  en: n\n"
    out = format_text(text, path=PACK)
    assert "  zh: 示例  # the Chinese" in out
    assert "  # why\n  zh: 注" in out
    assert out.count("#") == text.count("#")


def test_a_pack_under_a_tests_folder_is_laid_out_as_a_pack() -> None:
    text = "pack: demo.x\nformat: 1\n"
    assert format_text(text, path="tests/fixtures/packs/demo/x.yaml") == "format: 1\npack: demo.x\n"
    case = "note: n\npack: demo.x\n"  # a case file without its cases yet
    assert format_text(case, path="policies/demo/tests/x.yaml") == "pack: demo.x\nnote: n\n"


def test_unknown_keys_keep_their_order_after_the_known_ones() -> None:
    text = "zeta: 1\nformat: 1\nalpha: 2\npack: demo.x\n"
    assert format_text(text, path=PACK) == "format: 1\npack: demo.x\nzeta: 1\nalpha: 2\n"


def test_a_case_file_orders_cases_and_keeps_records_compact() -> None:
    text = (
        "cases:\n"
        "- expect: {verdict: pass}\n"
        "  as_of: 2018-12-31\n"
        "  name: passes\n"
        "  household:\n    income:\n      per_capita: 5200\n"
        "pack: exit_criteria.household\n"
    )
    out = format_text(text, path="policies/exit_criteria/household/tests/t.yaml")
    assert out == (
        "pack: exit_criteria.household\n"
        "cases:\n"
        "  - name: passes\n"
        "    as_of: 2018-12-31\n"
        "    household: {income: {per_capita: 5200}}\n"
        "    expect: {verdict: pass}\n"
    )


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("format: 1\npack: [a\n", "yaml/syntax", ":3:1:"),
        ("a: 1\nb: 2\n", "fmt/not-policy-yaml", ":1:1:"),
        ("- format: 1\n", "fmt/not-policy-yaml", ":1:1:"),
        ("format: 1\npack: a\npack: b\n", "yaml/duplicate-key", ":3:1:"),
    ],
)
def test_bad_input_is_a_located_diagnostic(text: str, code: str, where: str) -> None:
    with pytest.raises(PolicyError) as caught:
        format_text(text, path=PACK)
    codes = [d.code for d in caught.value.diagnostics]
    assert code in codes
    rendered = caught.value.render("en")
    assert f"{PACK}{where} {code}" in rendered
    assert "Traceback" not in rendered
    assert re.search("[\u4e00-\u9fff]", caught.value.render("zh"))


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    good = tmp_path / "policies" / "demo" / "x.yaml"
    good.parent.mkdir(parents=True)
    good.write_text(MESSY, encoding="utf-8")
    done = tmp_path / "policies" / "demo" / "tests" / "done.yaml"
    done.parent.mkdir()
    done.write_text("pack: demo.x\ncases: []\n", encoding="utf-8")
    return good, done


def test_check_reports_the_files_to_change_with_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    good, done = _tree(tmp_path)
    result = format_paths([tmp_path / "policies"], write=False)
    assert (result.changed, result.unchanged, result.exit_code) == ((good,), (done,), 1)
    assert f"--- {good}\n+++ {good} (formatted)\n" in result.diff
    assert "+format: 1\n" in result.diff
    assert good.read_text(encoding="utf-8") == MESSY
    assert result.summary("en") == "1 file would be reformatted, 1 file already formatted"
    assert result.summary("zh") == "1 个文件需要重排，1 个文件已符合格式"


def test_write_rewrites_and_a_second_check_finds_nothing(tmp_path: Path) -> None:
    good, _ = _tree(tmp_path)
    written = format_paths([tmp_path / "policies"], write=True)
    assert (written.written, written.exit_code) == (True, 0)
    assert good.read_text(encoding="utf-8") == CANONICAL
    assert written.summary("en") == "1 file reformatted, 1 file already formatted"
    again = format_paths([good], write=False)
    assert again == FmtResult(changed=(), unchanged=(good,), diagnostics=(), diff="", written=False)


def test_bad_input_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    good, _ = _tree(tmp_path)
    (good.parent / "broken.yaml").write_text("format: 1\npack: [\n", encoding="utf-8")
    (good.parent / "latin1.yaml").write_bytes("pack: caf\xe9\n".encode("latin-1"))
    result = format_paths([tmp_path / "policies", tmp_path / "nowhere"], write=True)
    assert result.exit_code == 2
    assert not result.written
    assert good.read_text(encoding="utf-8") == MESSY
    assert {d.code for d in result.diagnostics} == {"yaml/syntax", "io/not-utf8", "io/not-found"}
    assert (result.summary("en"), result.summary("zh")) == (
        "3 errors, nothing written",
        "3 个错误，未写入任何文件",
    )


def test_the_documented_order_is_the_order_followed() -> None:
    """docs/reference/packs.md ("Layout") lists the key order of every position; fmt follows it."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "reference" / "packs.md").read_text(
        encoding="utf-8"
    )
    section = doc.split("## Layout", 1)[1].split("\n## ", 1)[0]
    documented = {
        m.group(1): tuple(re.findall(r"`([a-z_]+)`", m.group(2)))
        for m in re.finditer(r"^\| `([^`]*)` \| (.*) \|$", section, re.MULTILINE)
    }
    assert documented == layout_orders()


def test_the_order_names_every_key_the_pack_format_declares() -> None:
    from gspolicy.pack import format as shape

    orders = layout_orders()
    pairs = {
        "pack file": shape.PACK,
        "approval": shape.APPROVAL,
        "applies": shape.APPLIES,
        "buffer": shape.BUFFER,
        "citation": shape.CITATION,
        "explain": shape.EXPLAIN,
        "text": shape.TEXT,
        "source": shape.SOURCE,
        "parameter": shape.PARAMETER,
        "fact": shape.FACT,
        "criterion": shape.CRITERION,
        "measure": shape.MEASURE,
        "rule": shape.RULE,
        "invariant": shape.INVARIANT,
        "indicator": shape.INDICATOR,
        "combine": shape.COMBINE,
        "reason": shape.APPLIES_REASON,
        "amount, ceiling, term": shape.AMOUNT,
        "basis": shape.BASIS,
        "dated value": shape.DATED_VALUE,
        "bound": shape.BOUND_OBJ,
    }
    for name, declared in pairs.items():
        assert sorted(orders[name]) == sorted(declared.keys), name
    assert set(shape.TERM.keys) <= set(orders["amount, ceiling, term"])
