"""No false green in the officer's loop (edit → validate → test → diff): each step runs what the
officer edited, says which policy set it ran, and never answers green about something else.

Each test reproduces a false green first seen in use: an edit in a local `policies/` folder was
ignored (the installed copy ran), `pytest draft/` collected nothing, a file-versus-file diff
decided no village, an evaluation without `--as-of` answered with no verdict at all."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.cli import main
from gspolicy.pack.workspace import ENVIRONMENT, choose, find_local

from support.cli import split_header

REPO = bundled_policies().parent
EXIT_2018 = Path("exit_criteria") / "household" / "2018.1.yaml"
SHARED = Path("parameters") / "household" / "2016.1.yaml"  # the income line the packs import
LINE = "      2018-01-01:\n        value: 3500\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([*argv, "--lang", "en"])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An officer's workspace made with `gspolicy init`, the income standard raised to 3,800,
    and the working folder inside it."""
    assert run("init", str(tmp_path / "ws"))[0] == 0
    ws = tmp_path / "ws"
    pack = ws / "policies" / SHARED
    text = pack.read_text(encoding="utf-8")
    assert text.count(LINE) == 1
    pack.write_text(text.replace(LINE, LINE.replace("3500", "3800")), encoding="utf-8")
    (ws / "pyproject.toml").write_text("", encoding="utf-8")  # the top of the officer's project
    monkeypatch.chdir(ws)
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    return ws


# -- 1. edit what runs ------------------------------------------------------------------------------


@pytest.mark.slow  # the cases of an edited workspace copy of the packs, run: full suite
def test_1_the_local_policy_set_runs_and_says_so(workspace: Path) -> None:
    code, out, err = run("test", "policies/exit_criteria")
    header, _ = split_header(err)
    assert header.startswith(
        "policy set: policies/ (the policy set the paths given lie in; differs from the bundled set)"
    )
    assert "warning: the local policy set differs from the bundled one" in err
    # the boundary cases of the 3,500 standard now fail: the edit is what ran
    assert code == 1
    assert "stable income just above the standard passes income" in out
    assert "181 passed, 1 failed" in out


def test_1_explanations_point_into_the_workspace_not_the_installed_copy(workspace: Path) -> None:
    code, out, _ = run(
        "explain",
        str(REPO / "examples" / "households.jsonl"),
        "--household",
        "621126-0001",
        "--as-of",
        "2018-12-31",
    )
    assert code == 0
    assert "policies/exit_criteria/household/2018.1.yaml:" in out
    assert "site-packages" not in out
    assert "3,800" in out or "3800" in out


def test_1_validate_checks_the_edited_copy(workspace: Path) -> None:
    pack = workspace / "policies" / EXIT_2018
    pack.write_text(
        pack.read_text(encoding="utf-8").replace(
            "require: food_and_clothing_secured", "require: food_secured"
        ),
        "utf-8",
    )
    code, out, _ = run("validate")
    assert code == 1
    assert "policies/exit_criteria/household/2018.1.yaml:" in out
    assert "food_secured" in out


def test_1_an_environment_variable_or_an_option_names_the_set(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENVIRONMENT, str(bundled_policies()))
    header, _ = split_header(run("validate")[2])
    assert f"(from {ENVIRONMENT}" in header
    monkeypatch.delenv(ENVIRONMENT)
    header, _ = split_header(
        run(
            "evaluate",
            str(REPO / "examples" / "households.jsonl"),
            "--as-of",
            "2018-12-31",
            "--policies",
            str(bundled_policies()),
        )[2]
    )
    assert "(given on the command line" in header


def test_1_the_python_api_loads_the_bundled_set_wherever_it_runs(workspace: Path) -> None:
    here = gspolicy.load_policies()
    local = gspolicy.load_policies(workspace / "policies")
    assert here.policy_set.content_hash != local.policy_set.content_hash
    assert here.policy_set.content_hash == gspolicy.load_policies(bundled_policies()).policy_set.content_hash


def test_1_the_search_for_a_local_set_stops_at_the_top_of_a_project_and_at_home(tmp_path: Path) -> None:
    (tmp_path / "home" / "policies").mkdir(parents=True)
    project = tmp_path / "home" / "work" / "project"
    (project / "sub").mkdir(parents=True)
    home = tmp_path / "home"
    # from inside a project without its own policies/, the search stops at the project's top
    (project / ".git").mkdir()
    assert find_local(project / "sub", home=home) is None
    (project / ".git").rmdir()
    # without a project top, it goes up to the home folder, and no further
    assert find_local(project / "sub", home=home) == (home / "policies").resolve()
    assert find_local(project / "sub", home=project) is None
    (project / "policies").mkdir()
    assert find_local(project / "sub", home=home) == (project / "policies").resolve()


def test_1_without_a_local_set_the_bundled_one_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert choose(None).origin == "bundled"
    header, _ = split_header(run("validate")[2])
    assert "(the bundled policy set)" in header


def test_1_init_never_overwrites(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "ws"))[0] == 0
    assert (tmp_path / "ws" / "policies" / "schema" / "household.yaml").is_file()
    code, _, err = run("init", str(tmp_path / "ws"))
    assert code == 1
    assert "cli/workspace-exists" in err


# -- 2. tests of a draft test the draft ----------------------------------------------------------


pytest_plugins = ["pytester"]


def _draft(where: Path) -> Path:
    """A draft folder: the exit pack alone with the parameters it imports (no schema: the bundled
    one), the standard raised to 3,800, and its own test file."""
    draft = where / "draft"
    shutil.copytree(bundled_policies() / "exit_criteria" / "household", draft / "exit_criteria" / "household")
    shutil.copytree(bundled_policies() / "parameters", draft / "parameters")
    pack = draft / SHARED
    pack.write_text(pack.read_text(encoding="utf-8").replace(LINE, LINE.replace("3500", "3800")), "utf-8")
    (draft / "exit_criteria" / "household" / "2016.1.yaml").unlink()
    return draft


@pytest.mark.parametrize("flag", [[], ["--gspolicy"]])
def test_2_pytest_on_a_draft_runs_its_cases_against_its_own_packs(
    pytester: pytest.Pytester, flag: list[str]
) -> None:
    _draft(pytester.path)
    result = pytester.runpytest("draft", *flag, "-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 10  # the draft's cases were collected
    # the 2018 boundary cases written for 3,500 fail against the draft's 3,800: the draft ran
    assert outcomes.get("failed", 0) >= 1
    assert "stable income" in result.stdout.str()


def test_2_the_plugin_gives_pack_authors_a_policies_fixture_and_a_profile(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_authors="""
        import datetime as dt
        from hypothesis import settings

        def test_the_fixture_is_the_project_set(policies):
            assert "exit_criteria.household" in policies.pack_ids
            decision = policies.evaluate({"id": "X-1", "registration": {"identified_on": "2014-06-01"}}, dt.date(2018, 12, 31))
            assert decision.verdict == "undetermined"

        def test_the_profile_is_registered():
            settings.load_profile("gspolicy")
            assert settings().deadline is None
            assert settings().max_examples == 200
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


# -- 3. diff of two files decides areas too -----------------------------------------------------


@pytest.fixture
def small_registry(tmp_path: Path) -> tuple[Path, Path]:
    """Two villages of the example registry: one whose verdict the 3,800 standard changes, one
    whose figures it changes, with their households."""
    villages = {"620521103202", "620521102201"}
    lines = (REPO / "examples" / "registry" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line).get("village_code") in villages]
    households = tmp_path / "h.jsonl"
    households.write_text("\n".join(kept) + "\n", encoding="utf-8")
    rows = (REPO / "examples" / "registry" / "villages.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = tmp_path / "v.jsonl"
    chosen.write_text(
        "\n".join(r for r in rows if json.loads(r)["code"] in villages) + "\n", encoding="utf-8"
    )
    return households, chosen


def _areas(out: str) -> str:
    return out[out.index("villages:") :] if "villages:" in out else ""


@pytest.mark.slow  # two diffs with their impact on the example registry: full suite
def test_3_a_file_versus_file_diff_decides_villages_as_a_root_versus_root_diff_does(
    tmp_path: Path, small_registry: tuple[Path, Path]
) -> None:
    households, villages = small_registry
    new_root = tmp_path / "new"
    shutil.copytree(bundled_policies(), new_root)
    new_pack = new_root / SHARED
    new_pack.write_text(
        new_pack.read_text(encoding="utf-8").replace(LINE, LINE.replace("3500", "3800")), "utf-8"
    )
    common = ["--population", str(households), "--villages", str(villages), "--as-of", "2018-12-31"]
    _, roots, _ = run("diff", str(bundled_policies()), str(new_root), *common)
    code, files, err = run("diff", str(bundled_policies() / SHARED), str(new_pack), *common)
    assert code == 0
    assert "pass → fail" in _areas(roots)
    assert _areas(files) == _areas(roots)
    assert "is completed with the other packs" in err


@pytest.mark.slow  # a diff of two policy sets over a registry and its villages: full suite
def test_3_a_side_that_cannot_decide_a_level_says_so(
    tmp_path: Path, small_registry: tuple[Path, Path]
) -> None:
    households, villages = small_registry
    lone = tmp_path / "lone"
    (lone / "schema").mkdir(parents=True)
    shutil.copy(bundled_policies() / "schema" / "household.yaml", lone / "schema")
    shutil.copytree(bundled_policies() / "exit_criteria" / "household", lone / "exit_criteria" / "household")
    shutil.copytree(bundled_policies() / "parameters", lone / "parameters")
    code, _, err = run(
        "diff", str(lone), str(bundled_policies()), "--population", str(households), "--villages", str(villages),
        "--as-of", "2018-12-31",
    )  # fmt: skip
    assert code == 0
    assert "the old side has no village pack in force on 2018-12-31" in err


# -- 4. no silent empty answer -------------------------------------------------------------------


def test_4_without_as_of_and_no_exit_pack_in_force_today_the_run_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Later(dt.date):
        @classmethod
        def today(cls) -> dt.date:  # a day no version of the exit pack covers
            return dt.date(2026, 12, 6)

    monkeypatch.setattr(dt, "date", Later)
    code, out, err = run("evaluate", str(REPO / "examples" / "households.jsonl"))
    assert code == 2
    assert out == ""
    assert "cli/no-pack-today" in err
    assert "2018-08-21 – 2020-12-31" in err
    assert "--as-of 2020-12-31" in err


def test_4_an_empty_input_says_it_is_empty_and_keeps_the_date_given(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    code, out, err = run("evaluate", str(empty), "--as-of", "2018-12-31")
    assert code == 0
    assert out.startswith("0 households decided as of 2018-12-31 by ")
    assert "(exit: exit_criteria.household@2018.1)" in out
    assert f"the input holds no records: {empty}" in err
