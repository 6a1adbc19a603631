"""The decision commands of the command line: `evaluate`, `explain` and `test`.

Each runs `gspolicy.cli.main` in-process and checks the exit code and what a user sees: summary
counts that add up, JSON that parses (and validates against the published schema), an explanation
in either language, a did-you-mean for an unknown household, the pack test runner's summary, a
wrong case shown as expected vs actual with the explanation of the actual decision, and a bad case
file reported as located diagnostics.  No traceback ever reaches the user.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.api import load_households
from gspolicy.cli import main
from gspolicy.testing.cases import find_case_files, load_cases

from support.bundled import shared_policies

REPO = bundled_policies().parent
EXAMPLES = REPO / "examples" / "households.jsonl"
EXIT_TESTS = bundled_policies() / "exit_criteria" / "household" / "tests"
SCHEMA = json.loads(
    (Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text(encoding="utf-8")
)
AS_OF = "2018-12-31"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def example_count() -> int:
    return sum(1 for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip())


# -- evaluate ----------------------------------------------------------------------------------------


def test_evaluate_table_counts_every_household(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "evaluate", str(EXAMPLES), "--as-of", AS_OF, "--lang", "en")
    assert code == 0, err
    n = example_count()
    assert out.startswith(f"{n} households decided as of {AS_OF} by ")
    assert "(exit: exit_criteria.household@2018.1)" in out.splitlines()[0]
    verdicts = out.splitlines()[1]
    assert verdicts.startswith("Exit verdicts: ")
    counts = re.findall(r"(pass|fail|undetermined|not applicable) (\d+)", verdicts)
    assert counts, out
    assert sum(int(c) for _, c in counts) == n


def test_evaluate_table_in_chinese_with_a_listing_and_explanations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "evaluate", str(EXAMPLES), "--as-of", AS_OF, "--lang", "zh", "--list", "--explain", "2"
    )
    assert code == 0
    n = example_count()
    assert out.startswith(f"截至 {AS_OF} 判定 {n} 户")
    assert "户编号 / 结论 / 未通过 / 待定" in out
    assert out.count("退出验收判定（截至") == 2  # two explanations follow the table


@pytest.mark.slow
def test_evaluate_json_forms_hold_one_valid_decision_per_household(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "evaluate", str(EXAMPLES), "--as-of", AS_OF, "--format", "json")
    assert code == 0
    decisions = json.loads(out)
    code, out, _ = run(capsys, "evaluate", str(EXAMPLES), "--as-of", AS_OF, "--format", "jsonl")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    # the two forms hold the same decisions, one per household, each valid against the schema
    assert lines == decisions
    assert len(decisions) == example_count()
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for d in decisions:
        assert list(validator.iter_errors(d)) == []
        assert d["as_of"] == AS_OF
    ids = [d["household"] for d in decisions]
    assert len(set(ids)) == len(ids)


def test_evaluate_bad_records_exit_1_with_a_located_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "X-1", "income": {"per_capita": "lots"}}\n', encoding="utf-8")
    code, out, err = run(capsys, "evaluate", str(bad), "--as-of", AS_OF, "--lang", "en")
    assert code == 1
    assert out == ""
    assert "bad.jsonl:1" in err
    assert "income.per_capita" in err


# -- explain --------------------------------------------------------------------------------------------


def first_household_id() -> str:
    return json.loads(EXAMPLES.read_text(encoding="utf-8").splitlines()[0])["id"]


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Household {id}: exit acceptance as of"), ("zh", "农户 {id} 退出验收判定")]
)
def test_explain_a_household_as_text(capsys: pytest.CaptureFixture[str], lang: str, title: str) -> None:
    ident = first_household_id()
    code, out, _ = run(
        capsys, "explain", str(EXAMPLES), "--household", ident, "--as-of", AS_OF, "--lang", lang
    )
    assert code == 0
    assert out.startswith(title.format(id=ident))
    for cid in (
        "exit.income",
        "exit.food_clothing",
        "exit.water",
        "exit.education",
        "exit.medical",
        "exit.housing",
    ):
        assert cid in out


def test_explain_a_household_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    ident = first_household_id()
    code, out, _ = run(
        capsys, "explain", str(EXAMPLES), "--household", ident, "--as-of", AS_OF, "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["household"] == ident
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)) == []
    # the same decision the API makes, brief unless asked otherwise
    policies = shared_policies()
    (record,) = (r for r in load_households(EXAMPLES, policies=policies) if r.get("id") == ident)
    decision = policies.evaluate(record, AS_OF)
    assert data == decision.to_json(detail="brief")
    code, out, _ = run(
        capsys,
        "explain",
        str(EXAMPLES),
        "--household",
        ident,
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--detail",
        "full",
    )
    assert json.loads(out) == decision.to_json()


@pytest.mark.parametrize(("lang", "words"), [("en", "did you mean"), ("zh", "您是否想写")])
def test_explain_an_unknown_household_suggests_close_ids(
    capsys: pytest.CaptureFixture[str], lang: str, words: str
) -> None:
    ident = first_household_id()
    typo = ident[:-2] + ident[-1]  # one character left out
    code, out, err = run(
        capsys, "explain", str(EXAMPLES), "--household", typo, "--as-of", AS_OF, "--lang", lang
    )
    assert code == 1
    assert out == ""
    assert f"`{typo}`" in err
    assert words in err
    assert f"`{ident}`" in err


# -- test -------------------------------------------------------------------------------------------------


def bundled_case_count() -> int:
    policy_set = shared_policies().policy_set
    return sum(len(load_cases(path, policy_set)[0]) for path in find_case_files([bundled_policies()]))


@pytest.mark.slow
def test_test_on_the_bundled_policies_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "--lang", "en")
    n = bundled_case_count()
    assert n >= 30
    assert out.endswith(f"{n} passed, 0 failed\n")
    assert code == 0


@pytest.mark.slow  # a whole folder of cases through the command: full suite
def test_test_on_the_exit_packs_own_cases_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", str(EXIT_TESTS), "--lang", "en")
    assert code == 0
    assert re.fullmatch(r"(\d+) passed, 0 failed\n", out)


WRONG_CASE = """\
  - name: a deliberately wrong case
    as_of: 2018-12-31
    household: {housing: {grade: c}}
    expect: {verdict: pass, failing: []}
"""


def _tests_copy(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "tests"
    shutil.copytree(EXIT_TESTS, folder)
    case_file = folder / "exit_2018.yaml"
    case_file.write_text(case_file.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return folder


@pytest.mark.parametrize("lang", ["en", pytest.param("zh", marks=pytest.mark.slow)])
def test_a_wrong_case_fails_showing_expected_actual_and_the_explanation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lang: str
) -> None:
    folder = _tests_copy(tmp_path, WRONG_CASE)
    code, out, _ = run(capsys, "test", str(folder), "--lang", lang)
    assert code == 1
    assert re.search(r"exit_2018\.yaml:\d+: (case|用例) `a deliberately wrong case`", out)
    if lang == "en":
        assert "  verdict: expected pass, actual fail" in out
        assert "  failing: expected [], actual [exit.housing]" in out
        assert "explanation of the actual decision:" in out
        assert "      verdict: FAIL" in out
    else:
        assert "  verdict: 预期 pass, 实际 fail" in out
        assert "实际判定的说明：" in out
    assert "✗ exit.housing" in out
    assert re.search(r"(\d+) passed, 1 failed\n$", out)


def test_a_bad_case_file_gives_located_diagnostics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = """\
  - name: a case with mistakes
    as_of: 2018-12-31
    expect: {verdict: passed, criteria: {exit.incme: pass}}
"""
    folder = _tests_copy(tmp_path, bad)
    lines = (folder / "exit_2018.yaml").read_text(encoding="utf-8").splitlines()
    line = len(lines)  # the `expect` line is the last one
    code, out, _ = run(capsys, "test", str(folder), "--lang", "en")
    assert code == 1
    assert re.search(
        rf"exit_2018\.yaml:{line}:\d+: case/bad-expectation: .*`passed` is not a valid expectation for `verdict`",
        out,
    )
    assert re.search(
        rf"exit_2018\.yaml:{line}:\d+: case/unknown-criterion: .*has no criterion `exit.incme`", out
    )
    assert "did you mean `exit.income`" in out
    assert "^^^" in out  # the mistake is underlined


def test_a_test_file_naming_an_unknown_pack_is_located(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "cases.yaml").write_text(
        "pack: exit_criteria.househld\ncases:\n  - {name: x, as_of: 2018-12-31, expect: {verdict: pass}}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "test", str(folder), "--lang", "en")
    assert code == 1
    assert "cases.yaml:1:" in out
    assert "case/unknown-pack" in out
    assert "`exit_criteria.household`" in out


def test_a_wrong_cases_explanation_follows_detail(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`gspolicy test --detail`: the failing case's explanation at the level asked (brief by
    default); the passing criteria are one line each at brief, absent at fails, reasoned at full."""
    # the case file's defaults and the wrong case alone (the other cases pass: not needed here)
    text = (EXIT_TESTS / "exit_2018.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "exit_2018.yaml").write_text(
        text[: text.index("\ncases:\n")] + "\ncases:\n" + WRONG_CASE, "utf-8"
    )
    said = {}
    for detail in ("fails", "brief", "full"):
        code, out, _ = run(capsys, "test", str(folder), "--lang", "en", "--detail", detail)
        assert code == 1
        said[detail] = out[out.index("explanation of the actual decision:") :]
        assert "✗ exit.housing" in said[detail]
    code, out, _ = run(capsys, "test", str(folder), "--lang", "en")
    assert out[out.index("explanation of the actual decision:") :] == said["brief"]
    assert "✓ exit.income" not in said["fails"]
    assert "✓ exit.income" in said["brief"]
    assert len(said["fails"]) < len(said["brief"]) < len(said["full"])
