"""The tutorial (`docs/tutorial/first-pack.md`) works as written.

Its final pack (between `<!-- tutorial:pack -->` and `<!-- /tutorial:pack -->`) is written into a
fresh folder and every command marked `<!-- tutorial:run pack -->` is run on it, its output compared
with the page; the mistake (`<!-- tutorial:mistake -->`) is patched in and the command marked
`<!-- tutorial:run mistake -->` must print what the page shows.  Every other YAML snippet on the page
is an excerpt of the final pack, word for word.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from gspolicy.cli import main

from support.cli import split_header

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorial" / "first-pack.md"
TEXT = PAGE.read_text(encoding="utf-8")
PACK_FILE = Path("my_policies/demo/income_check/2019.1.yaml")

_FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
_MARKED = re.compile(r"<!-- tutorial:(\w+)(?: (\w+))? -->\n```\w+\n(.*?)```", re.DOTALL)


def _marked(kind: str) -> list[tuple[str | None, str]]:
    return [(arg, body) for k, arg, body in _MARKED.findall(TEXT) if k == kind]


def final_pack() -> str:
    [(_, body)] = _marked("pack")
    assert "<!-- /tutorial:pack -->" in TEXT
    return body


def with_mistake() -> str:
    [(_, mistake)] = _marked("mistake")
    wrong = mistake.rstrip("\n")
    key = wrong[: wrong.index(":") + 1]  # the same key at the same indentation
    lines = final_pack().splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if line.startswith(key + " ")]
    lines[index] = wrong + "\n"
    return "".join(lines)


RUNS = [(arg, body) for arg, body in _marked("run")]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / PACK_FILE).parent.mkdir(parents=True)
    return tmp_path


def test_the_page_has_a_pack_a_mistake_and_commands() -> None:
    assert final_pack().startswith("format: 1\n")
    assert with_mistake() != final_pack()
    assert {arg for arg, _ in RUNS} == {"pack", "mistake"}


def test_every_yaml_snippet_is_an_excerpt_of_the_final_pack() -> None:
    [(_, mistake)] = _marked("mistake")
    snippets = [body for lang, body in _FENCE.findall(TEXT) if lang == "yaml"]
    assert len(snippets) >= 6
    for body in snippets:
        assert body == mistake or body in final_pack(), body


@pytest.mark.parametrize(("variant", "shown"), RUNS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(RUNS)])
def test_the_command_prints_what_the_page_shows(
    folder: Path, capsys: pytest.CaptureFixture[str], variant: str, shown: str
) -> None:
    (folder / PACK_FILE).write_text(final_pack() if variant == "pack" else with_mistake(), encoding="utf-8")
    command, *expected = shown.splitlines()
    assert command.startswith("$ gspolicy ")
    code = main(shlex.split(command)[2:])
    out, err = capsys.readouterr()
    header, rest = split_header(err)  # stderr names the policy set run; the page shows stdout
    assert rest == ""
    assert header.startswith("policy set: my_policies/ (given on the command line)")
    assert code == (0 if variant == "pack" else 1)
    actual = out.splitlines()
    assert len(actual) == len(expected), out
    for got, want in zip(actual, expected, strict=True):
        if want.startswith("  help: did you mean"):
            # the suggestions also draw on the bundled household schema, which grows
            assert got.startswith("  help: did you mean"), got
            assert "`income_line`" in got, got
        else:
            assert got == want


def test_the_mistake_is_reported_with_the_code_shown(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / PACK_FILE).write_text(with_mistake(), encoding="utf-8")
    assert main(["validate", "my_policies", "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "2019.1.yaml:44:30: type/unknown-name: " in out
    assert "未知名称 `income_lin`" in out
