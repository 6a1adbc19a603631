"""`gspolicy validate`: every problem printed located (file:line:col), underlined, with help;
exit 1 on problems, 0 on good packs (acknowledged gaps are notes), 2 on bad usage; never a
traceback.

The bad fixture (`tests/fixtures/packs/bad/`) is one pack with four planted defects: a misspelled
field in an expression, a type error, a bad date and a cycle among derived facts.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from gspolicy.cli import main

from support.cli import split_header

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "packs"

# the four planted defects as the user sees them (file names relative to the working folder)
MISSPELLED = """\
bad/demo/broken.yaml:32:21: type/unknown-field: in criterion `demo.income` of pack `demo.broken@1`: record type `income` has no field `per_capta`
  32 |     require: income.per_capta > income_line
     |                     ^^^^^^^^^
  help: did you mean `per_capita`?"""
TYPE_ERROR = """\
bad/demo/broken.yaml:36:14: type/incomparable: in criterion `demo.registered` of pack `demo.broken@1`: cannot compare a date with a number using `>`
  36 |     require: registered_on > income_line
     |              ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  help: `<`, `<=`, `>` and `>=` compare two numbers or two dates"""
BAD_DATE = """\
bad/demo/broken.yaml:10:11: shape/bad-value: in pack `demo.broken@1`: `2019-02-30` is not a valid date for `valid_to`
  10 | valid_to: 2019-02-30
     |           ^^^^^^^^^^
  help: write dates as YYYY-MM-DD"""
CYCLE = """\
bad/demo/broken.yaml:23:3: pack/fact-cycle: in fact `gross` of pack `demo.broken@1`: facts refer to each other in a cycle: `gross` → `net` → `gross`
  23 |   gross:
     |   ^^^^^
  help: a fact may use only facts that do not use it back"""
CYCLE_NET = """\
bad/demo/broken.yaml:26:3: pack/fact-cycle: in fact `net` of pack `demo.broken@1`: facts refer to each other in a cycle: `gross` → `net` → `gross`
  26 |   net:
     |   ^^^
  help: a fact may use only facts that do not use it back"""

DEFECTS = {"misspelled field": MISSPELLED, "type error": TYPE_ERROR, "bad date": BAD_DATE, "cycle": CYCLE}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)


@pytest.fixture
def date_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bad fixture with its bad date corrected, as `bad/` in the working folder."""
    shutil.copytree(FIXTURES / "bad", tmp_path / "bad")
    path = tmp_path / "bad" / "demo" / "broken.yaml"
    text = path.read_text(encoding="utf-8")
    assert "valid_to: 2019-02-30" in text
    path.write_text(text.replace("valid_to: 2019-02-30", "valid_to: 2019-12-31"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("in_fixtures")
def test_the_bad_pack_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--lang", "en", "bad")
    assert code == 1
    assert "Traceback" not in out + err
    assert BAD_DATE in out


@pytest.mark.usefixtures("in_fixtures")
@pytest.mark.parametrize("defect", list(DEFECTS))
def test_the_bad_pack_prints_all_four_defects(capsys: pytest.CaptureFixture[str], defect: str) -> None:
    """BUG: a read error (the bad date) stops the pack before it is checked, so the misspelled
    field, the type error and the cycle are not printed until the date is fixed."""
    _, out, _ = run(capsys, "validate", "--lang", "en", "bad")
    assert DEFECTS[defect] in out


@pytest.mark.usefixtures("date_fixed")
def test_with_the_date_fixed_the_other_three_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--lang", "en", "bad")
    assert code == 1
    for block in (MISSPELLED, TYPE_ERROR, CYCLE, CYCLE_NET):
        assert block in out
    # sorted by place in the file
    assert out.index(CYCLE) < out.index(CYCLE_NET) < out.index(MISSPELLED) < out.index(TYPE_ERROR)
    assert out.rstrip().endswith("errors, 0 warnings")


@pytest.mark.usefixtures("date_fixed")
def test_the_defects_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--lang", "zh", "bad")
    assert code == 1
    assert (
        textwrap.dedent(
            """\
            bad/demo/broken.yaml:32:21: type/unknown-field: 在政策包 `demo.broken@1` 的指标 `demo.income`中：记录类型 `income` 没有字段 `per_capta`
              32 |     require: income.per_capta > income_line
                 |                     ^^^^^^^^^
              帮助：您是否想写 `per_capita`？"""
        )
        in out
    )
    assert "bad/demo/broken.yaml:23:3: pack/fact-cycle: 在政策包 `demo.broken@1` 的派生事实 `gross`中" in out
    assert "无法用 `>` 比较日期和数字" in out
    assert "个错误，0 个警告" in out


@pytest.mark.usefixtures("in_fixtures")
def test_the_bad_date_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "validate", "--lang", "zh", "bad")
    assert "bad/demo/broken.yaml:10:11: shape/bad-value: 在政策包 `demo.broken@1`中：`2019-02-30` 不是" in out
    assert "  帮助：日期格式为 YYYY-MM-DD" in out


@pytest.mark.usefixtures("in_fixtures")
def test_errors_inside_multi_line_expressions_point_at_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--lang", "en", "multiline")
    assert code == 1
    literal = """\
multiline/demo/blocks.yaml:25:18: type/unknown-field: in criterion `demo.literal` of pack `demo.blocks@1`: record type `income` has no field `transfer`
  25 |       and income.transfer < income.per_capita
     |                  ^^^^^^^^
  help: did you mean `transfers`?"""
    folded = """\
multiline/demo/blocks.yaml:31:7: type/incomparable: in criterion `demo.folded` of pack `demo.blocks@1`: cannot compare a text with a number using `>`
  31 |       village > income_line
     |       ^^^^^^^^^^^^^^^^^^^^^
  help: `<`, `<=`, `>` and `>=` compare two numbers or two dates"""
    assert literal in out
    assert folded in out
    assert out.rstrip().endswith("2 errors, 0 warnings")


@pytest.mark.usefixtures("in_fixtures")
def test_the_good_fixture_validates_and_lists_its_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--lang", "en", "--as-of", "2019-08-01", "good")
    assert code == 0
    header, rest = split_header(err)
    assert rest == ""
    assert header.startswith("policy set: good/ (given on the command line) sha256:")
    assert "good/demo/income/2019.1.yaml:29:7: gap/range (note): in pack `demo.income@2019.1`" in out
    assert out.count("(note)") == 5
    assert out.rstrip().splitlines()[-1] == (
        "checked 2 packs (3 versions); 5 acknowledged gaps in force on 2019-08-01"
    )


def test_the_bundled_policies_validate_with_gaps_as_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--lang", "en", "--as-of", "2019-06-30")
    assert code == 0
    header, rest = split_header(err)
    assert rest == ""
    # run in the repository, whose `policies/` is the bundled set itself (an editable install)
    assert header.startswith("policy set: policies/ (the local policy set; the bundled set itself)")
    assert (
        "gap/range (note): in pack `parameters.household@2016.1`: acknowledged gap: `exit_income_line`" in out
    )
    assert "gap/low-confidence (note)" in out
    assert "0 errors, 0 warnings" in out
    # (other bundled packs may come and go: the counts are not pinned here)
    assert re.fullmatch(
        r"checked \d+ packs \(\d+ versions\); \d+ acknowledged gaps in force on 2019-06-30",
        out.rstrip().splitlines()[-1],
    )


def test_the_bundled_policies_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--lang", "zh", "--as-of", "2019-06-30")
    assert code == 0
    assert "gap/range (提示)" in out
    assert re.fullmatch(
        r"已检查 \d+ 个政策包（\d+ 个版本），截至 2019-06-30 有 \d+ 个已知缺口", out.rstrip().splitlines()[-1]
    )


def test_a_path_that_does_not_exist(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "packs"
    code, out, err = run(capsys, "validate", "--lang", "en", str(missing))
    assert code == 1
    assert f"io/not-found: no such file or folder `{missing}`" in out
    assert "Traceback" not in out + err


@pytest.mark.parametrize("bad", ["2019-13-01", "yesterday", "2019/01/01"])
def test_a_bad_as_of_is_a_usage_error(capsys: pytest.CaptureFixture[str], bad: str) -> None:
    code, out, err = run(capsys, "validate", "--as-of", bad)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        f"Error: Invalid value for '--as-of': `{bad}` is not a date: write YYYY-MM-DD, e.g. 2018-12-31"
    )


def test_the_command_line_run_again_in_one_process_reuses_the_checked_packs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running `main()` again (as tests do) reads no pack file again; what it prints is the same."""
    import gspolicy.pack.load as load_module

    assert main(["validate", "--as-of", "2018-12-31", "--lang", "en"]) == 0
    first = capsys.readouterr()
    reads: list[str] = []
    original = load_module.read_pack
    monkeypatch.setattr(
        load_module, "read_pack", lambda source: reads.append(source.name) or original(source)
    )
    assert main(["validate", "--as-of", "2018-12-31", "--lang", "en"]) == 0
    assert reads == []
    assert capsys.readouterr() == first
