"""The pytest plugin: `pytest policies/` collects the packs' YAML cases and gives the results of
`gspolicy test policies/`; nothing is collected unless asked; golden and malformed fixtures never are."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gspolicy._resources import bundled_policies
from gspolicy.cli import main
from gspolicy.testing.pytest_plugin import EXCLUDED

pytest_plugins = ["pytester"]

FAILING_CASE = """\
  - name: a C-grade house passes (deliberately wrong)
    as_of: 2018-12-31
    household: {housing: {grade: c}}
    expect: {verdict: pass}
"""


def _project(pytester: pytest.Pytester) -> Path:
    """A project with a copy of the bundled exit and buffer packs (and the parameters they import), one case made to fail, and a
    `tests/` folder holding a golden file and a malformed fixture that look like cases."""
    root = pytester.path / "policies"
    for part in ("schema", "parameters", "exit_criteria", "buffer_period"):
        shutil.copytree(bundled_policies() / part, root / part)
    cases = root / "exit_criteria" / "household" / "tests" / "exit_2018.yaml"
    cases.write_text(cases.read_text("utf-8") + FAILING_CASE, "utf-8")
    for folder in EXCLUDED:
        bad = pytester.path / folder / "tests" / "bad.yaml"
        bad.parent.mkdir(parents=True)
        bad.write_text("pack: exit_criteria.household\ncases: [{name: broken\n", "utf-8")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (pytester.path / "tests" / "test_nothing.py").write_text("def test_ok():\n    assert True\n", "utf-8")
    return root


def _cli_counts(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    main(["test", "--lang", "en", "--policies", str(root), str(root)])
    out = capsys.readouterr().out
    match = re.search(r"(\d+) passed, (\d+) failed", out)
    assert match is not None, out
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow  # a pytest run in a subprocess over every case file: full suite
def test_pytest_policies_runs_the_cases_of_gspolicy_test(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(pytester)
    result = pytester.runpytest("policies", "-p", "no:cacheprovider")
    passed, failed = _cli_counts(root, capsys)
    result.assert_outcomes(passed=passed, failed=failed)
    assert failed >= 1
    out = result.stdout.str()
    assert "exit_2018.yaml::a C-grade house passes (deliberately wrong)" in out
    # the failure reads as `gspolicy test` reports it: expected vs actual, then the explanation
    assert "verdict: expected pass, actual fail" in out
    assert "explanation of the actual decision:" in out
    assert "exit.housing" in out
    assert "bad.yaml" not in out


@pytest.mark.slow  # a pytest run inside the test: full suite
def test_failure_reports_in_chinese(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest("policies", "--gspolicy-lang", "zh", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "verdict: 预期 pass, 实际 fail" in out
    assert "实际判定的说明：" in out


def test_a_plain_run_of_the_test_suite_collects_no_pack_cases(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow  # a pytest run inside the test: full suite
def test_the_gspolicy_option_adds_the_policy_roots(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(pytester)
    passed, failed = _cli_counts(root, capsys)
    result = pytester.runpytest("--gspolicy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed + 1, failed=failed)


def test_golden_and_fixture_folders_are_never_collected(pytester: pytest.Pytester) -> None:
    """Even with `tests` configured as a policy root and the files named on the command line."""
    _project(pytester)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ngspolicy_roots = ["tests", "policies"]\n')
    result = pytester.runpytest("tests/golden", "tests/fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes()
    assert "bad.yaml" not in result.stdout.str()
    # the same files under a policy root that is not excluded would be collected (and fail)
    shutil.copytree(pytester.path / "tests" / "golden", pytester.path / "tests" / "other")
    result = pytester.runpytest("tests/other", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "bad.yaml" in result.stdout.str()


def test_mistakes_in_a_test_file_fail_as_one_item(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    cases = root / "exit_criteria" / "household" / "tests" / "exit_2018.yaml"
    cases.write_text(cases.read_text("utf-8") + "    bogus: 1\n", "utf-8")
    result = pytester.runpytest(str(cases), "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "[test file]" in out
    assert "exit_2018.yaml" in out
