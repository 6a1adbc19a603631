"""The bundled household schema loads cleanly, and so do the example households."""

from pathlib import Path

import pytest

from gspolicy.errors import render_diagnostics
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import load_record_file, validate_record

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "policies" / "schema" / "household.yaml"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def schema() -> Schema:
    loaded, diagnostics = read_schema(SCHEMA)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert loaded is not None
    return loaded


def test_schema_shape(schema: Schema) -> None:
    assert schema.id == "household"
    assert schema.root == "household"
    assert schema.root_record.key == "id"
    assert schema.root_record.fields["id"].required
    assert schema.enums["poverty_cause"].codes[:11] == (
        "illness",
        "disability",
        "schooling",
        "disaster",
        "lack_of_land",
        "lack_of_water",
        "lack_of_skills",
        "lack_of_labour",
        "lack_of_funds",
        "poor_transport",
        "lack_of_drive",
    )
    paths = dict(schema.field_paths())
    for path in ("income.per_capita", "water.litres_per_person_day", "registration.status", "housing.grade"):
        assert path in paths, path
    for enum in schema.enums.values():
        for value in enum.values:
            assert value.title.zh
            assert value.title.en
            assert value.code == value.code.lower()


@pytest.mark.parametrize("name", ["households.jsonl", "households.yaml"])
def test_examples_load(schema: Schema, name: str) -> None:
    records, diagnostics = load_record_file(EXAMPLES / name, schema)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert len(records) > 0
    assert all(isinstance(r, Record) and r.type_name == "household" for r in records)


def test_chinese_labels_canonicalise_to_codes(schema: Schema) -> None:
    data = {
        "id": "620000-0001",
        "registration": {"category": "五保户", "status": "新脱贫", "main_cause": "因病"},
        "housing": {"grade": "危房D类", "resettlement": "集中"},
        "food_and_clothing_secured": "是",
        "members": [{"id": "1", "relation": "户主", "labour": "半劳动力", "schooling": "初中"}],
    }
    record, diagnostics = validate_record(data, schema)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert record is not None
    registration = record["registration"]
    assert isinstance(registration, Record)
    assert registration["main_cause"] == "illness"
    assert registration["category"] == "tekun"
    assert registration["status"] == "exited"
    housing = record["housing"]
    assert isinstance(housing, Record)
    assert housing["grade"] == "d"
    assert housing["resettlement"] == "central"
    assert record["food_and_clothing_secured"] is True
    members = record["members"]
    assert isinstance(members, tuple)
    assert (members[0]["relation"], members[0]["labour"], members[0]["schooling"]) == (
        "head",
        "weak",
        "junior_secondary",
    )


def test_safe_housing_label_is_its_own_grade(schema: Schema) -> None:
    """有安全住房 says A or B without saying which: it is its own value `safe`, not A or B."""
    grades = schema.enums["housing_grade"]
    assert grades.canonical("有安全住房") == "safe"
    assert grades.canonical("A级") == "a"


def test_age_needs_its_recording_date(schema: Schema) -> None:
    data = {"id": "620000-0002", "members": [{"id": "1", "age": 40}]}
    record, diagnostics = validate_record(data, schema)
    assert record is None
    assert [d.code for d in diagnostics] == ["record/missing-companion"]
