"""The published JSON Schema of pack files is generated from the pack shape and every bundled pack
validates against it (so editors complete and underline pack files correctly)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from gspolicy._location import Source
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.pack.load import discover
from gspolicy.pack.shape import json_schema, render_json_schema

ROOT = Path(__file__).resolve().parents[3]
PACKS = discover([ROOT / "policies"])[1]


def _plain(node: YNode) -> object:
    """YAML as an editor's YAML 1.2 reader sees it: dates are text, numbers are numbers."""
    if isinstance(node, YMap):
        return {str(k.text): _plain(v) for k, v in node.items}
    if isinstance(node, YSeq):
        return [_plain(v) for v in node.items]
    assert isinstance(node, YScalar)
    value = node.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def test_published_schema_is_current() -> None:
    page = (ROOT / "docs" / "reference" / "pack.schema.json").read_text(encoding="utf-8")
    assert page == render_json_schema(), "run `python -m gspolicy.pack.shape` and commit the schema"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_there_are_bundled_packs() -> None:
    assert len(PACKS) >= 2


@pytest.mark.parametrize("path", PACKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_pack_validates_against_the_schema(path: Path) -> None:
    tree, problems = load_yaml(Source(str(path), path.read_text(encoding="utf-8")))
    assert tree is not None, problems
    errors = sorted(jsonschema.Draft202012Validator(json_schema()).iter_errors(_plain(tree)), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_schema_rejects_an_unknown_key() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    path = PACKS[0]
    tree, _ = load_yaml(Source(str(path), path.read_text(encoding="utf-8")))
    assert tree is not None
    data = _plain(tree)
    assert isinstance(data, dict)
    data["valid_form"] = "2018-01-01"
    assert any("valid_form" in e.message for e in validator.iter_errors(json.loads(json.dumps(data))))
