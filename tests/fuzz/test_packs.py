"""Fuzzing packs (the "packs as text" and "packs as structure" families): a bundled pack edited
as text, or its data edited and written back, is read and checked against the bundled schema.
Whatever the edit, reading never raises, every error says where in the file it is, nothing is
executed, and a pack that reads without error is checked without raising."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, check_diagnostics, count, watched
from fuzz.mutations import mutated_data, mutated_text
from gspolicy._location import Source
from gspolicy._resources import bundled_policies
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import check_pack

from support.bundled import shared_policies

PACK_FILES = sorted(
    p for p in bundled_policies().rglob("*.yaml") if "tests" not in p.parts and "schema" not in p.parts
)
TEXTS = {p: p.read_text(encoding="utf-8") for p in PACK_FILES}
SCHEMA = shared_policies().schema


def read_and_check(name: str, text: str) -> None:
    with watched():
        pack, problems = read_pack(Source(name, text))
        checked_problems = []
        if pack is not None and not any(d.is_error for d in problems):
            _, checked_problems = check_pack(pack, SCHEMA)
    check_diagnostics([*problems, *checked_problems], about_content=True)


def test_there_are_packs_to_break() -> None:
    assert len(PACK_FILES) >= 15


@budget(30)
@given(st.sampled_from(PACK_FILES), st.data())
def test_a_pack_edited_as_text_is_read_or_refused_with_located_problems(
    path: Path, data: st.DataObject
) -> None:
    count("packs as text")
    text = data.draw(mutated_text(TEXTS[path]))
    read_and_check(str(path.relative_to(bundled_policies().parent)), text)


@pytest.fixture(scope="module")
def plain() -> dict[Path, object]:
    return {p: yaml.safe_load(t) for p, t in TEXTS.items()}


@budget(30)
@given(st.sampled_from(PACK_FILES), st.data())
def test_a_pack_edited_as_data_is_read_or_refused_with_located_problems(
    path: Path, data: st.DataObject
) -> None:
    count("packs as structure")
    base = yaml.safe_load(TEXTS[path])
    changed = data.draw(mutated_data(base))
    text = yaml.safe_dump(changed, allow_unicode=True, sort_keys=False, width=200)
    read_and_check(str(path.relative_to(bundled_policies().parent)), text)
