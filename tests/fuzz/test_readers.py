"""Fuzzing the readers (the "record files" family): whatever the input, they return diagnostics
and never raise, and every problem in a file's content says where it is.

Random text and mutated YAML documents go to `load_yaml` and `schema_from_source`; random and
mutated records (JSON, JSONL, YAML) go to `load_records`.  Every diagnostic has a known code and
renders in zh and en.  Valid generated records load with no diagnostics and round-trip through
`Record.to_data`.  Nothing is executed, imported or opened meanwhile (harness.py).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, count, watched
from fuzz.harness import check_diagnostics as _check
from fuzz.mutations import TEXTS, mutated_text
from gspolicy._location import Source
from gspolicy._resources import bundled_schema_path
from gspolicy._yaml import Limits, load_yaml
from gspolicy.errors import Diagnostic
from gspolicy.schema.load import read_schema, schema_from_source
from gspolicy.schema.model import Schema
from gspolicy.schema.records import load_records

from support.records import TINY_SCHEMA, Mutant, dump_records, mutated_records, records, tiny_schema

SCHEMA = tiny_schema()
FORMATS = st.sampled_from(["json", "jsonl", "yaml"])
FUZZ = budget(25, long=2_000)  # ten tests share the family's long budget


def check_diagnostics(diagnostics: list[Diagnostic]) -> None:
    """Every diagnostic is known, renders in both languages, and says where in the file it is."""
    count("record files")
    _check(diagnostics, about_content=True)


# -- text and YAML ---------------------------------------------------------------------------


@FUZZ
@given(TEXTS)
def test_load_yaml_never_raises_on_random_text(text: str) -> None:
    tree, diagnostics = load_yaml(Source("fuzz.yaml", text), Limits(max_values=5_000, max_depth=20))
    check_diagnostics(diagnostics)
    assert tree is not None or diagnostics


@FUZZ
@given(mutated_text(TINY_SCHEMA))
def test_load_yaml_never_raises_on_mutated_documents(text: str) -> None:
    tree, diagnostics = load_yaml(Source("tiny.yaml", text))
    check_diagnostics(diagnostics)
    assert tree is not None or diagnostics


@FUZZ
@given(st.one_of(TEXTS, mutated_text(TINY_SCHEMA)))
def test_schema_from_source_never_raises(text: str) -> None:
    schema, diagnostics = schema_from_source(Source("tiny.yaml", text))
    check_diagnostics(diagnostics)
    if schema is None:
        assert any(d.is_error for d in diagnostics)
    else:
        assert not any(d.is_error for d in diagnostics)


# -- records -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["是", "否", "2018-09-30", "2018-02-30", "低保", "H0001", "M01", "healthy"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
FIELD_NAMES = st.sampled_from(
    ["id", "size", "dibao", "category", "registered_on", "exited_on", "income", "members", "sise", "户编号"]
)
RANDOM_RECORDS = st.dictionaries(FIELD_NAMES | st.text(max_size=6), JSON_VALUES, max_size=8)


def load(items: list[Any], fmt: str) -> tuple[tuple[Any, ...], list[Diagnostic]]:
    return load_records(Source(f"h.{fmt}", dump_records(items, fmt)), SCHEMA, fmt=fmt)


@FUZZ
@given(st.lists(RANDOM_RECORDS | JSON_VALUES, max_size=4), FORMATS)
def test_load_records_never_raises_on_random_data(items: list[Any], fmt: str) -> None:
    with watched():
        loaded, diagnostics = load(items, fmt)
    check_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        assert loaded == ()


@FUZZ
@given(TEXTS, FORMATS)
def test_load_records_never_raises_on_random_text(text: str, fmt: str) -> None:
    with watched():
        loaded, diagnostics = load_records(Source(f"h.{fmt}", text), SCHEMA, fmt=fmt)
    check_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        assert loaded == ()


@FUZZ
@given(st.lists(records(SCHEMA), max_size=3, unique_by=lambda r: r["id"]), FORMATS, st.data())
def test_load_records_never_raises_on_mutated_text(items: list[Any], fmt: str, data: st.DataObject) -> None:
    text = data.draw(mutated_text(dump_records(items, fmt)))
    with watched():
        loaded, diagnostics = load_records(Source(f"h.{fmt}", text), SCHEMA, fmt=fmt)
    check_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        assert loaded == ()


@FUZZ
@given(mutated_records(SCHEMA), FORMATS)
def test_a_planted_defect_is_reported_and_nothing_loads(mutant: Mutant, fmt: str) -> None:
    loaded, diagnostics = load([mutant.data], fmt)
    check_diagnostics(diagnostics)
    assert loaded == ()
    found = {(d.code, str(getattr(d.location, "path", ""))) for d in diagnostics}
    assert (mutant.code, str(mutant.path)) in found, (mutant, [d.render() for d in diagnostics])


# -- valid records -------------------------------------------------------------------------


@FUZZ
@given(st.lists(records(SCHEMA), max_size=4, unique_by=lambda r: r["id"]), FORMATS)
def test_valid_records_load_without_diagnostics(items: list[dict[str, Any]], fmt: str) -> None:
    loaded, diagnostics = load(items, fmt)
    assert diagnostics == [], [d.render() for d in diagnostics]
    assert [r["id"] for r in loaded] == [item["id"] for item in items]


@FUZZ
@given(records(SCHEMA))
def test_the_three_formats_read_the_same_record(item: dict[str, Any]) -> None:
    loaded = [load([item], fmt)[0] for fmt in ("json", "jsonl", "yaml")]
    assert loaded[0] == loaded[1] == loaded[2]
    assert len(loaded[0]) == 1


@FUZZ
@given(st.lists(records(SCHEMA), min_size=1, max_size=3, unique_by=lambda r: r["id"]), FORMATS)
def test_valid_records_round_trip_through_to_data(items: list[dict[str, Any]], fmt: str) -> None:
    loaded, diagnostics = load(items, fmt)
    assert diagnostics == []
    again, diagnostics = load([r.to_data() for r in loaded], fmt)
    assert diagnostics == [], [d.render() for d in diagnostics]
    assert again == loaded


# -- village and county records (the bundled schema) -------------------------------------------------

AREA_FIELDS = st.sampled_from(
    ["code", "name", "county_code", "rural_population", "indicators", "survey", "households", "villages",
     "registered_poor", "exited_on", "households_surveyed", "clinic", "pension_coverage", "人口"]
)  # fmt: skip
AREA_RECORDS = st.dictionaries(AREA_FIELDS | st.text(max_size=6), JSON_VALUES, max_size=8)


def _bundled() -> Schema:
    found, problems = read_schema(bundled_schema_path())
    assert found is not None, problems
    return found


BUNDLED = _bundled()


@FUZZ
@given(st.lists(AREA_RECORDS | JSON_VALUES, max_size=4), FORMATS, st.sampled_from(["village", "county"]))
def test_village_and_county_files_never_raise_and_never_carry_a_gathered_list(
    items: list[Any], fmt: str, kind: str
) -> None:
    loaded, diagnostics = load_records(
        Source(f"a.{fmt}", dump_records(items, fmt)), BUNDLED, fmt=fmt, record=kind
    )
    check_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        assert loaded == ()
    for record in loaded:
        assert "households" not in record
        assert "villages" not in record
