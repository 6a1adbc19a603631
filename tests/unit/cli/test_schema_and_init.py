"""`gspolicy schema [NAME]` prints the shipped JSON Schemas; `gspolicy init` also writes the editor
settings that map packs and cases to them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gspolicy.cli import main
from gspolicy.schemas import EDITOR_SCHEMAS, schema_names, schema_text


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", schema_names())
def test_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = _run(capsys, "schema", name)
    assert code == 0
    assert out.rstrip("\n") == schema_text(name).rstrip("\n")
    assert json.loads(out)["$schema"].startswith("https://json-schema.org/")


def test_schema_without_a_name_lists_every_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "schema")
    assert code == 0
    listed = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in listed] == list(schema_names())
    assert all(row[1] and Path(row[2]).is_file() for row in listed)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unknown_schema_is_a_usage_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    code = main(["--lang", lang, "schema", "packk"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "jsonschema/unknown-name" in err
    assert "`pack`" in err
    assert ("没有名为" if lang == "zh" else "no JSON Schema") in err


def test_init_writes_the_editor_settings_beside_the_policies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "ws"
    code, out, _ = _run(capsys, "init", str(folder))
    assert code == 0
    settings = json.loads((folder / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    mapped = settings["yaml.schemas"]
    for name, globs in EDITOR_SCHEMAS.items():
        target = f"./.gspolicy/schemas/{name}.schema.json"
        assert mapped[target] == list(globs)
        assert (folder / target).is_file()
    assert "editor settings" in out
    assert (folder / "policies").is_dir()


def test_init_keeps_a_settings_file_it_cannot_read_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "ws"
    (folder / ".vscode").mkdir(parents=True)
    bad = folder / ".vscode" / "settings.json"
    bad.write_text('{ // a comment\n "editor.tabSize": 2 }\n', encoding="utf-8")
    code, out, err = _run(capsys, "init", str(folder))
    assert code == 0  # the workspace is made; only the editor settings are left to the user
    assert bad.read_text(encoding="utf-8").startswith("{ // a comment")
    assert "jsonschema/bad-settings" in err
    assert "yaml.schemas" in err
    assert "editor settings" not in out
    assert (folder / "policies").is_dir()
