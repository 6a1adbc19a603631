"""`write_editor_settings`: a workspace's YAML editor settings point pack and case files at the
schemas copied into it, merging into existing settings without losing a key, and refusing (with
nothing written) a settings file it cannot read as a JSON object."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.errors import PolicyError
from gspolicy.schemas import (
    EDITOR_SCHEMAS,
    WORKSPACE_SCHEMAS,
    schema_names,
    schema_text,
    write_editor_settings,
)

ROOT = Path(__file__).resolve().parents[2]


def _glob(pattern: str) -> re.Pattern[str]:
    """A yaml-language-server glob as a regex: `**/` any folders (or none), `*` within a name."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:[^/]+/)*"
            i += 3
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def _matches(globs: list[str], path: str) -> bool:
    included = any(_glob(g).fullmatch(path) for g in globs if not g.startswith("!"))
    return included and not any(_glob(g[1:]).fullmatch(path) for g in globs if g.startswith("!"))


def _settings(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    return data


def test_a_new_workspace_gets_the_schemas_and_the_settings(tmp_path: Path) -> None:
    written = write_editor_settings(tmp_path)
    folder = tmp_path / WORKSPACE_SCHEMAS
    assert sorted(written) == sorted(
        [*(folder / f"{n}.schema.json" for n in schema_names()), tmp_path / ".vscode" / "settings.json"]
    )
    for name in schema_names():
        assert (folder / f"{name}.schema.json").read_text(encoding="utf-8") == schema_text(name)
    mapping = _settings(tmp_path)["yaml.schemas"]
    assert set(mapping) == {f"./.gspolicy/schemas/{n}.schema.json" for n in EDITOR_SCHEMAS}
    for key in mapping:
        assert (tmp_path / key).is_file()


def test_the_globs_pick_the_packs_and_the_cases_of_the_bundled_set(tmp_path: Path) -> None:
    mapping = {Path(k).name: v for k, v in _settings(_written(tmp_path))["yaml.schemas"].items()}
    packs, cases = mapping["pack.schema.json"], mapping["case.schema.json"]
    files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "policies").rglob("*.yaml")]
    assert len(files) > 30
    for path in files:
        is_case = "/tests/" in path
        is_schema = path.startswith("policies/schema/")
        assert _matches(packs, path) == (not is_case and not is_schema), path
        assert _matches(cases, path) == is_case, path


def _written(root: Path) -> Path:
    write_editor_settings(root)
    return root


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=25, deadline=None)
@given(
    others=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "yaml.schemas"), json_values, max_size=4
    ),
    entries=st.dictionaries(
        st.text(min_size=1, max_size=8), st.lists(st.text(max_size=5), max_size=2), max_size=3
    ),
)
def test_existing_settings_are_kept(
    tmp_path_factory: pytest.TempPathFactory, others: dict[str, Any], entries: dict[str, Any]
) -> None:
    root = tmp_path_factory.mktemp("ws")
    (root / ".vscode").mkdir()
    (root / ".vscode" / "settings.json").write_text(
        json.dumps({**others, "yaml.schemas": entries}), encoding="utf-8"
    )
    write_editor_settings(root)
    first = _settings(root)
    ours = {f"./.gspolicy/schemas/{n}.schema.json" for n in EDITOR_SCHEMAS}
    assert {k: v for k, v in first.items() if k != "yaml.schemas"} == others
    assert {k: v for k, v in first["yaml.schemas"].items() if k not in ours} == {
        k: v for k, v in entries.items() if k not in ours
    }
    assert ours <= set(first["yaml.schemas"])
    write_editor_settings(root)  # again: the same settings
    assert _settings(root) == first


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ('{\n  // my settings\n  "editor.tabSize": 2\n}\n', {"en": "not JSON at line 2", "zh": "第 2 行"}),
        ("[1, 2]", {"en": "not a JSON object", "zh": "不是 JSON 对象"}),
        (
            '{"yaml.schemas": ["a.json"]}',
            {"en": "`yaml.schemas` is not an object", "zh": "`yaml.schemas` 不是对象"},
        ),
    ],
)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_settings_file_it_cannot_read_is_left_alone(
    tmp_path: Path, text: str, reasons: dict[str, str], lang: str
) -> None:
    path = tmp_path / ".vscode" / "settings.json"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        write_editor_settings(tmp_path)
    (problem,) = caught.value.diagnostics
    assert problem.code == "jsonschema/bad-settings"
    message = problem.message(lang)  # type: ignore[arg-type]
    assert str(path) in message
    assert reasons[lang] in message
    assert "yaml.schemas" in (problem.help(lang) or "")  # type: ignore[arg-type]
    assert path.read_text(encoding="utf-8") == text
    assert not (tmp_path / ".gspolicy").exists()


def test_a_workspace_with_its_own_schema_gets_its_household_schema(tmp_path: Path) -> None:
    from gspolicy.pack.workspace import copy_bundled

    policies = copy_bundled(tmp_path)
    schema = policies / "schema" / "household.yaml"
    text = schema.read_text(encoding="utf-8")
    anchor = "      food_and_clothing_secured:\n"
    assert text.count(anchor) == 1
    schema.write_text(
        text.replace(
            anchor,
            "      phone_checked:\n        type: bool\n        title: {zh: 已电话核实, en: Checked by phone}\n"
            + anchor,
        ),
        encoding="utf-8",
    )
    write_editor_settings(tmp_path)
    own = json.loads((tmp_path / WORKSPACE_SCHEMAS / "household.schema.json").read_text(encoding="utf-8"))
    assert "phone_checked" in own["$defs"]["record.household"]["properties"]
    assert (
        "phone_checked" not in json.loads(schema_text("household"))["$defs"]["record.household"]["properties"]
    )
