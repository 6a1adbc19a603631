"""Golden tests: the full rendered diagnostics of bad schema and record files, in zh and en.

Inputs live in ``cases/diagnostics/bad/``: ``schema_*.yaml`` are schema files, ``records_*``
(``.json``, ``.jsonl``, ``.yaml``) are record files read against the tiny schema of
``tests/support/records.py``.  The expected renderings are ``expected/diagnostics/<case>.<lang>.txt``.
A difference fails with a unified diff; ``pytest --update-goldens`` rewrites the expected files,
and the rewrite is reviewed like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy._location import Source
from gspolicy.errors import render_diagnostics
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.records import load_record_file

from support.golden import compare_golden
from support.records import tiny_schema

HERE = Path(__file__).parent
CASES = HERE / "cases" / "diagnostics" / "bad"
EXPECTED = HERE / "expected" / "diagnostics"
LANGS = ("en", "zh")

CASE_FILES = sorted(p for p in CASES.iterdir() if p.suffix in (".yaml", ".json", ".jsonl"))


def render_case(path: Path, lang: str) -> str:
    """What a user sees for the case file (its name shown without folders)."""
    if path.name.startswith("schema_"):
        schema, diagnostics = schema_from_source(Source(path.name, path.read_text(encoding="utf-8")))
        assert schema is None, f"{path.name} is a bad case but its schema loaded"
    else:
        records, diagnostics = load_record_file(path, tiny_schema(), name=path.name)
        assert records == (), f"{path.name} is a bad case but records loaded"
    assert diagnostics, f"{path.name} is a bad case but nothing was reported"
    return render_diagnostics(diagnostics, lang) + "\n"  # type: ignore[arg-type]


def test_cases_exist_and_have_distinct_names() -> None:
    assert len(CASE_FILES) >= 6
    stems = [p.stem for p in CASE_FILES]
    assert len(stems) == len(set(stems))
    assert all(p.name.startswith(("schema_", "records_")) for p in CASE_FILES)


def test_no_expected_file_without_its_case() -> None:
    cases = {p.stem for p in CASE_FILES}
    orphans = [p.name for p in EXPECTED.glob("*.txt") if p.name.split(".")[0] not in cases]
    assert orphans == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: p.name)
def test_golden_diagnostics(case: Path, lang: str, update_goldens: bool) -> None:
    actual = render_case(case, lang)
    expected_path = EXPECTED / f"{case.stem}.{lang}.txt"
    compare_golden(
        actual, expected_path, update=bool(update_goldens), what=f"the rendering of {case.name} ({lang})"
    )
