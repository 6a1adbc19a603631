"""`gspolicy check`: each lint defect planted in a copy of a bundled pack is reported, coded, at
its line — by the command (exit code and rendered `file:line:col: code`) and by the API
(`check_paths`).  The loader's own findings (unknown fields, measures, departments, overlapping
versions, duplicate YAML keys) come first, as the loader reports them.

Exit codes: 0 clean or only notes, 1 errors, 2 warnings and no error.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gspolicy.analysis.lint import check_paths
from gspolicy.cli import main
from gspolicy.errors import Diagnostic, Severity
from unit.analysis._plant import EXIT_2016, EXIT_2018, copy_policies, line_of, plant

# the first day of the 2018 income period, a parameter the exit pack declares itself
START = (
    "      2018-01-01:\n"
    "        value: 2017-10-01\n"
    "        source: gansu_2018_verification\n"
    "        clause: 将农户家庭收入计算周期定为2017年10月1日至2018年9月30日\n"
)

FOOD = """\
  - id: exit.food_clothing
    title: {zh: 不愁吃、不愁穿, en: Food and clothing secured}
    department: poverty_office
    require: food_and_clothing_secured
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


def _check(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["check", str(root), "--lang", "en", *extra])
    return code, capsys.readouterr().out


def _found(root: Path, code: str, **options: bool) -> list[Diagnostic]:
    report = check_paths([root], **options)  # type: ignore[arg-type]
    return [d for d in report.diagnostics if d.code == code]


def _lines(found: list[Diagnostic]) -> list[int]:
    return [d.location.line for d in found if d.location is not None]  # type: ignore[union-attr]


def _assert_reported(out: str, path: Path, line: int, code: str) -> None:
    assert f"{path.name}:{line}:" in out
    located = [row for row in out.splitlines() if f":{line}:" in row and code in row]
    assert located, f"`{code}` not reported at line {line}:\n{out}"


# --- the bundled packs ------------------------------------------------------------------------------


def test_bundled_packs_are_clean_and_list_their_gaps_as_notes(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(root, capsys)
    assert code == 0, out
    assert ": 0 errors, 0 warnings," in out
    assert "gap/range (note)" in out
    assert "gap/not-established (note)" in out
    assert "exit code 0" in out


def test_json_output_carries_codes_lines_and_the_exit_code(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(root, capsys, "--format", "json")
    data = json.loads(out)
    assert code == data["exit_code"] == 0
    assert data["versions"] == 4  # the parameters, the exit pack's two versions, the buffer
    assert all({"code", "severity", "file", "line"} <= set(d) for d in data["diagnostics"])


# --- lint findings on packs that load -------------------------------------------------------------


def test_unused_fact_is_a_warning_and_exits_2(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        "facts:\n",
        "facts:\n  spare_income:\n    title: {zh: 备用收入, en: Spare income}\n"
        "    expr: income.per_capita * 2\n"
        "    cite: {source: gansu_2018_standard, clause: 年人均收入}\n",
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "spare_income:")
    _assert_reported(out, path, line, "lint/unused-fact (warning)")


def test_unused_parameter_is_a_note_and_a_warning_when_strict(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plant(
        root,
        EXIT_2018,
        "parameters:\n",
        "parameters:\n  spare_line:\n    title: {zh: 备用标准, en: Spare line}\n"
        "    values:\n      2018-01-01: {value: 1, source: gansu_2018_standard}\n",
    )
    line = line_of(path, "spare_line:")
    code, out = _check(root, capsys)
    assert code == 0, out
    _assert_reported(out, path, line, "lint/unused-parameter (note)")
    code, out = _check(root, capsys, "--strict")
    assert code == 2, out
    _assert_reported(out, path, line, "lint/unused-parameter (warning)")


def test_unused_source_is_a_note(root: Path) -> None:
    path = plant(
        root,
        EXIT_2018,
        "sources:\n",
        "sources:\n  spare_source:\n    title: {zh: 备用来源, en: Spare source}\n    confidence: M\n",
    )
    found = _found(root, "lint/unused-source")
    assert line_of(path, "spare_source:") in _lines(found)
    assert all(d.level is Severity.INFO for d in found)


def test_criterion_without_a_citation(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        FOOD + "    cite:\n      - {source: gansu_2018_standard, clause: 吃穿不愁}\n"
        "      - inferred_from: source_document\n"
        "        clause: 行业部门提出认定意见（部门分工为推断）\n"
        "        confidence: L\n"
        "        paraphrase: true\n",
        FOOD + "    cite: []\n",
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "cite: []")
    _assert_reported(out, path, line, "lint/no-citation")


def test_title_without_its_english_text(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        "title: {zh: 不愁吃、不愁穿, en: Food and clothing secured}",
        "title: {zh: 不愁吃、不愁穿, en: 不愁吃、不愁穿}",
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "en: 不愁吃、不愁穿}")
    _assert_reported(out, path, line, "lint/missing-text")
    assert "`title` has no English text" in out


def test_two_criteria_with_identical_conditions(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the same condition written differently: `household.` prefix and spacing do not hide it
    path = plant(
        root,
        EXIT_2018,
        "  - id: exit.water\n",
        "  - id: exit.food_again\n"
        "    title: {zh: 吃穿有保障, en: Food and clothing assured}\n"
        "    require: household.food_and_clothing_secured\n"
        "    cite: {source: gansu_2018_standard, clause: 吃穿不愁}\n"
        "  - id: exit.water\n",
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "require: household.food_and_clothing_secured")
    _assert_reported(out, path, line, "lint/identical-conditions")
    assert (
        f"same condition as `exit.food_clothing` (line {line_of(path, 'require: food_and_clothing_secured')})"
        in out
    )


def test_condition_constant_after_folding(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        "    require: food_and_clothing_secured\n",
        "    require: food_and_clothing_secured and 1 > 2\n",
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "and 1 > 2")
    _assert_reported(out, path, line, "lint/constant-condition")
    assert "always false" in out


def test_constant_part_of_a_condition(root: Path) -> None:
    path = plant(
        root,
        EXIT_2018,
        "    require: food_and_clothing_secured\n",
        '    require: food_and_clothing_secured or date("2018-01-01") > date("2019-01-01")\n',
    )
    found = _found(root, "lint/constant-part")
    assert _lines(found) == [line_of(path, 'or date("2018-01-01")')]
    assert found[0].location.text == 'date("2018-01-01") > date("2019-01-01")'  # type: ignore[union-attr]
    assert not _found(root, "lint/constant-condition")


def test_duplicate_effective_date_written_once_as_text(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # YAML sees `2018-01-01` (a date) and `"2018-01-01"` (a text) as different keys: lint does not
    path = plant(
        root,
        EXIT_2018,
        START,
        START + '      "2018-01-01": {value: 2017-11-01, source: gansu_2018_verification}\n',
    )
    code, out = _check(root, capsys)
    assert code == 1, out
    line = line_of(path, '"2018-01-01": {value: 2017-11-01')
    _assert_reported(out, path, line, "lint/duplicate-date")
    assert f"the other at line {line_of(path, 'value: 2017-10-01') - 1}" in out


def test_duplicate_effective_date_as_a_yaml_key(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        START,
        START + "      2018-01-01: {value: 2017-11-01, source: gansu_2018_verification}\n",
    )
    code, out = _check(root, capsys)
    assert code == 1, out
    _assert_reported(out, path, line_of(path, "2018-01-01: {value: 2017-11-01"), "yaml/duplicate-key")


def test_parameter_with_no_value_from_the_first_day(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        START,
        START.replace("2018-01-01", "2018-09-01"),
    )
    code, out = _check(root, capsys)
    assert code == 2, out
    line = line_of(path, "value: 2017-10-01") - 1  # the line of its date
    _assert_reported(out, path, line, "lint/parameter-starts-late")
    assert "no value in force from 2018-08-21 to 2018-08-31" in out


def test_versions_leaving_a_gap(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(root, EXIT_2016, "valid_to: 2018-08-20", "valid_to: 2018-06-30")
    code, out = _check(root, capsys)
    assert code == 2, out
    path = root / EXIT_2018
    line = line_of(path, "valid_from:")
    _assert_reported(out, path, line, "lint/version-gap")
    assert "from 2018-07-01 to 2018-08-20" in out


# --- the loader's findings, reported by check -------------------------------------------------------


def test_versions_that_overlap(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(root, EXIT_2016, "valid_to: 2018-08-20", "valid_to: 2018-09-30")
    code, out = _check(root, capsys)
    assert code == 1, out
    path = root / EXIT_2018
    _assert_reported(out, path, line_of(path, "pack: exit_criteria.household"), "pack/overlapping-versions")


def test_unknown_field(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(root, EXIT_2018, "water.quality_ok\n", "water.quality_okay\n")
    code, out = _check(root, capsys)
    assert code == 1, out
    _assert_reported(out, path, line_of(path, "water.quality_okay"), "type/unknown-field")
    assert "did you mean `quality_ok`?" in out


def test_unknown_department(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root, EXIT_2018, FOOD, FOOD.replace("department: poverty_office", "department: poverty_ofice")
    )
    code, out = _check(root, capsys)
    assert code == 1, out
    _assert_reported(out, path, line_of(path, "department: poverty_ofice"), "pack/unknown-department")


def test_unknown_measure(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plant(
        root,
        EXIT_2018,
        "criteria:\n",
        "measures:\n  dibao:\n    title: {zh: 低保, en: Minimum living allowance}\n"
        "    department: poverty_office\n"
        "    form: grant\n"
        "    amount: {not_established: true, source: gansu_2018_standard}\n"
        "rules:\n  - id: batch.dibao\n    title: {zh: 兜底保障, en: Safety net}\n"
        "    when: not food_and_clothing_secured\n"
        "    grant: [dibaoo]\n"
        "    cite: {source: gansu_2018_standard, clause: 吃穿不愁}\n"
        "criteria:\n",
    )
    code, out = _check(root, capsys)
    assert code == 1, out
    _assert_reported(out, path, line_of(path, "grant: [dibaoo]"), "pack/unknown-measure")


def test_unused_measure_is_a_warning(root: Path) -> None:
    path = plant(
        root,
        EXIT_2018,
        "criteria:\n",
        "measures:\n  dibao:\n    title: {zh: 低保, en: Minimum living allowance}\n"
        "    department: poverty_office\n"
        "    form: grant\n"
        "    amount: {not_established: true, source: gansu_2018_standard}\n"
        "criteria:\n",
    )
    found = _found(root, "lint/unused-measure")
    assert _lines(found) == [line_of(path, "  dibao:")]
    assert found[0].level is Severity.WARNING


def test_lint_still_looks_at_the_versions_that_load(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # one version broken (the loader keeps none), one with a lint warning: both are reported
    plant(root, EXIT_2016, "department: housing\n", "department: housingg\n")
    path = plant(
        root,
        EXIT_2018,
        "    require: food_and_clothing_secured\n",
        "    require: food_and_clothing_secured and 1 > 2\n",
    )
    code, out = _check(root, capsys)
    assert code == 1, out
    assert "pack/unknown-department" in out
    _assert_reported(out, path, line_of(path, "and 1 > 2"), "lint/constant-condition")


# --- options ----------------------------------------------------------------------------------------


def test_unread_schema_fields_are_notes_on_request(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unread = {dict(d.args)["path"] for d in _found(root, "lint/unread-field", unread=True)}
    assert "income.wages" in unread  # no bundled pack reads the wage income
    assert "income.per_capita" not in unread  # the exit criteria read it
    assert "members[].basic_medical_insurance" not in unread  # read inside `all(members, …)`


def test_gaps_as_of_one_date(root: Path) -> None:
    everything = check_paths([root]).gaps
    one_day = check_paths([root], as_of=dt.date(2018, 12, 31)).gaps
    assert 0 < one_day < everything


def test_missing_path_is_an_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(tmp_path / "nowhere"), "--lang", "en"])
    out = capsys.readouterr().out
    assert code == 1
    assert "io/not-found" in out
    assert "Traceback" not in out


_SECOND = """\
format: 1
pack: demo.second
version: "1"
kind: {kind}
valid_from: 2016-01-01
title: {{zh: 第二个, en: A second pack}}
department: office
departments: {{office: {{zh: 扶贫办, en: Office}}}}
sources:
  doc: {{title: {{zh: 文件, en: Document}}, confidence: H}}
parameters:
  exit_income_line:
    title: {{zh: 收入标准, en: Income line}}
    values:
      2016-01-01: {{value: {value}, source: doc}}
"""


def test_a_parameter_declared_in_two_packs_with_other_values_is_a_warning(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = root / "demo" / "second.yaml"
    second.parent.mkdir(parents=True)
    second.write_text(_SECOND.format(kind="finding", value=3000), encoding="utf-8")
    found = _found(root, "lint/parameter-histories-differ")
    shown = [d.render("en").splitlines()[0] for d in found]
    # said at the parameter, in the pack later in id order, naming the other and the first day
    assert len(shown) == 1, shown
    assert shown[0].startswith("policies/parameters/household/2016.1.yaml:")
    assert (
        "parameter `exit_income_line` is also declared in `demo.second@1`, with another value on "
        "2016-01-01: [2952, 3500] here, 3000 there" in shown[0]
    )
    assert found[0].location is not None
    assert found[0].location.text == "exit_income_line"  # type: ignore[union-attr]
    code, out = _check(root, capsys)
    assert code == 2, out
    # the same history until 2017, when the shared one turns to a range
    history = (
        "      2016-01-01: {at_least: 2952, at_most: 3500, source: doc}\n"
        "      2016-11-10: {value: 3500, source: doc}\n"
    )
    same_start = _SECOND.format(kind="finding", value=0).split("      2016-01-01:")[0] + history
    second.write_text(same_start, encoding="utf-8")
    (left,) = _found(root, "lint/parameter-histories-differ")
    assert "on 2017-01-01: [3500, 3815.38] here, 3500 there" in left.render("en")


def test_an_imported_parameter_is_not_a_second_declaration(root: Path) -> None:
    shared = root / "demo" / "second.yaml"
    shared.parent.mkdir(parents=True)
    shared.write_text(_SECOND.format(kind="parameters", value=3500), encoding="utf-8")
    user = root / "demo" / "user.yaml"
    user.write_text(
        _SECOND.replace("pack: demo.second", "pack: demo.user")
        .format(kind="batch", value=0)
        .split("parameters:")[0]
        + "import:\n  demo.second: [exit_income_line]\n",
        encoding="utf-8",
    )
    report = check_paths([root])
    assert report.loaded, [d.render("en") for d in report.diagnostics if d.is_error]
    # the parameters pack declares it (and differs from the exit packs' later ranges); the
    # importer declares nothing
    differ = [d.render("en") for d in _found(root, "lint/parameter-histories-differ")]
    assert differ
    assert not any("demo.user" in text for text in differ)
    # the importer is linted too (it was checked with what it imports): its unused import is seen
    unused = _found(root, "lint/unused-parameter", strict=True)
    assert any("demo.user" in d.render("en") for d in unused)
