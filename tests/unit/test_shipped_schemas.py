"""The JSON Schemas shipped in the package (`gspolicy.schemas`): generated from the code without
drift, valid JSON Schemas, and true of what gspolicy reads and writes — every bundled pack and case
file, the example registry's households, outcome rows and a run manifest — while rejecting what it
refuses (a bad date, an unknown key)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings

from gspolicy._location import Source
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.errors import PolicyError
from gspolicy.schemas import SCHEMA_FOLDER, schema_names, schema_path, schema_text
from gspolicy.schemas.build import GENERATED, generated_texts, outcome_schema, record_schema

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"


def _plain(node: YNode) -> object:
    """YAML as an editor's YAML 1.2 reader sees it: dates are text, numbers are numbers."""
    if isinstance(node, YMap):
        return {str(k.text if not isinstance(k.value, str) else k.value): _plain(v) for k, v in node.items}
    if isinstance(node, YSeq):
        return [_plain(v) for v in node.items]
    assert isinstance(node, YScalar)
    value = node.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in node.text else float(value)
    return value


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(schema_text(name)), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _yaml_files() -> dict[str, dict[Path, Any]]:
    """Every bundled pack and case file, read once as plain data."""
    found: dict[str, dict[Path, Any]] = {"pack": {}, "case": {}}
    for path in sorted(POLICIES.rglob("*.yaml")):
        rel = path.relative_to(POLICIES)
        if rel.parts[0] == "schema":
            continue
        tree, problems = load_yaml(Source(str(path), path.read_text(encoding="utf-8")))
        assert tree is not None, problems
        found["case" if "tests" in rel.parts[:-1] else "pack"][path] = _plain(tree)
    return found


def _errors(name: str, data: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator(name).iter_errors(data)]


def test_generated_files_are_current() -> None:
    for name, text in generated_texts().items():
        shipped = (SCHEMA_FOLDER / f"{name}.schema.json").read_text(encoding="utf-8")
        assert shipped == text, f"run `python -m gspolicy.schemas.build` and commit {name}.schema.json"


def test_names_are_the_shipped_files_and_each_is_a_json_schema() -> None:
    names = schema_names()
    assert set(GENERATED) <= set(names)
    if (SCHEMA_FOLDER / "decision.schema.json").is_file():
        assert "decision" in names
    assert names == tuple(
        sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_FOLDER.glob("*.schema.json"))
    )
    for name in names:
        schema = json.loads(schema_text(name))
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema_path(name).read_text(encoding="utf-8") == schema_text(name)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unknown_name_is_refused_listing_the_names(lang: str) -> None:
    with pytest.raises(PolicyError) as caught:
        schema_text("outcomes")
    (problem,) = caught.value.diagnostics
    assert problem.code == "jsonschema/unknown-name"
    text = problem.message(lang)  # type: ignore[arg-type]
    assert "`outcomes`" in text
    for name in schema_names():
        assert f"`{name}`" in text
    assert problem.suggestions == ("outcome",)


def test_every_bundled_pack_and_case_file_validates() -> None:
    files = _yaml_files()
    assert len(files["pack"]) >= 14
    assert len(files["case"]) >= 10
    for kind, found in files.items():
        for path, data in found.items():
            assert not (errors := _errors(kind, data)), f"{path.relative_to(ROOT)}: {errors[:5]}"


def test_a_pack_with_a_bad_date_or_an_unknown_key_is_rejected() -> None:
    path, pack = next(iter(_yaml_files()["pack"].items()))
    bad = copy.deepcopy(pack)
    bad["valid_from"] = "2018-02-30"
    assert any("2018-02-30" in e for e in _errors("pack", bad)), path
    bad = copy.deepcopy(pack)
    bad["valid_form"] = "2018-01-01"
    assert any("valid_form" in e for e in _errors("pack", bad)), path


def test_a_case_file_with_a_bad_date_or_an_unknown_key_is_rejected() -> None:
    path, cases = next(iter(_yaml_files()["case"].items()))
    bad = copy.deepcopy(cases)
    bad["cases"][0]["as_of"] = "2018-13-01"
    assert any("2018-13-01" in e for e in _errors("case", bad)), path
    bad = copy.deepcopy(cases)
    bad["cases"][0]["expect"]["verdicts"] = "pass"
    assert any("verdicts" in e for e in _errors("case", bad)), path
    bad = copy.deepcopy(cases)
    bad["cases"][0]["household"] = bad["cases"][0]["subject"] = {}
    assert _errors("case", bad), "a case gives `household` or `subject`, not both"


@cache
def _sample() -> tuple[str, ...]:
    lines = (ROOT / "examples" / "registry" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    return tuple(lines[:: max(1, len(lines) // 100)])  # a sample of 100


def _households() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _sample()]


def test_the_example_registry_validates_against_the_household_schema() -> None:
    sample = _households()
    assert len(sample) >= 100
    for record in sample:
        assert not (errors := _errors("household", record)), f"{record['id']}: {errors[:5]}"


def test_household_records_the_reader_refuses_are_rejected(bundled: Any) -> None:
    from gspolicy.schema.records import validate_record

    record = _households()[0]
    schema = bundled.policy_set.schema
    cases = {
        "a bad date": ("members", 0, "birth_date", "1990-02-30"),
        "an unknown field": ("members", 0, "brith_date", "1990-01-01"),
        "an unknown enum value": ("housing", "grade", "e"),
        "a wrong type": ("size", "five"),
        "out of range": ("size", 31),
    }
    for what, (*where, key, value) in cases.items():
        bad = copy.deepcopy(record)
        target = bad
        for part in where:
            target = target[part]
        target[key] = value
        assert _errors("household", bad), what
        refused, problems = validate_record(bad, schema)
        assert refused is None, f"the reader accepts {what}: the test is wrong"
        assert problems, what
    # the reader's lenient spellings are valid too: a Chinese label, a yes/no word, a number as text
    lenient = copy.deepcopy(record)
    lenient["housing"]["grade"] = "A级"
    lenient["food_and_clothing_secured"] = "是"
    lenient["size"] = str(lenient["size"])
    assert not _errors("household", lenient)
    accepted, problems = validate_record(lenient, schema)
    assert accepted is not None, problems


def test_a_required_field_and_its_companion_are_required() -> None:
    record = _households()[0]
    bad = copy.deepcopy(record)
    del bad["id"]
    assert any("'id' is a required property" in e for e in _errors("household", bad))
    bad = copy.deepcopy(record)
    bad["members"][0].pop("birth_date", None)
    bad["members"][0]["age"] = 40
    bad["members"][0].pop("age_recorded_on", None)
    assert any("age_recorded_on" in e for e in _errors("household", bad))


def test_a_record_schema_for_another_record_type(bundled: Any) -> None:
    schema = bundled.policy_set.schema
    village = record_schema(schema, "village")
    assert village["$ref"] == "#/$defs/record.village"
    # the lists the evaluator gathers are never read from a file
    assert "households" not in village["$defs"]["record.village"]["properties"]
    with pytest.raises(KeyError):
        record_schema(schema, "villa")


def test_outcome_rows_validate(bundled: Any, registry: Any) -> None:
    as_of = dt.date(2018, 12, 31)
    rows = [row for frame in bundled.decide_table(registry[:40], as_of=as_of) for row in frame.to_dicts()]
    assert len(rows) == 40
    rows += [bundled.decide(h, as_of=as_of).to_row() for h in registry[:5]]
    for row in rows:
        # a frame's dates are dates; written as JSON Lines they are text
        plain = json.loads(json.dumps(row, default=lambda v: v.isoformat()))
        assert not (errors := _errors("outcome", plain)), f"{row['id']}: {errors[:5]}"
    bad = json.loads(json.dumps(rows[0], default=str))
    bad["as_of"] = "31/12/2018"
    assert _errors("outcome", bad)
    bad = json.loads(json.dumps(rows[0], default=str))
    bad["verdicts"] = "pass"
    assert _errors("outcome", bad)


def test_the_outcome_schema_follows_the_table_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from gspolicy import tables

    assert list(outcome_schema()["properties"]) == list(tables.TABLE_COLUMNS)
    monkeypatch.setattr(tables, "TABLE_COLUMNS", (*tables.TABLE_COLUMNS, "new_column"))
    with pytest.raises(ValueError, match="new_column"):
        outcome_schema()


def test_a_written_table_and_its_manifest_validate(tmp_path: Path, bundled: Any, registry: Any) -> None:
    from gspolicy.tables import TABLE_FORMAT, run_manifest, write_table

    as_of = dt.date(2018, 12, 31)
    out = tmp_path / "out.jsonl"
    manifest = run_manifest(
        command="test", as_of=as_of, inputs=[], packs=[], runner="columnar", fallback=[], version="0"
    )
    body = write_table(bundled.decide_table(registry[:20], as_of=as_of), out, manifest=manifest)
    assert body["format"] == TABLE_FORMAT
    written = json.loads((tmp_path / "out.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert written == body
    assert not _errors("manifest", written)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 20
    for row in rows:
        assert not (errors := _errors("outcome", row)), errors[:5]


@cache
def _record_validator(record: str) -> jsonschema.Draft202012Validator:
    from support.bundled import shared_policies

    schema = record_schema(shared_policies().policy_set.schema, record)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _generated_records() -> Any:
    from hypothesis import strategies as st

    from gspolicy.strategies import from_schema

    from support.bundled import shared_policies

    schema = shared_policies().policy_set.schema

    def records(name: str) -> Any:
        # the lists the evaluator gathers are never read from a file (`record/gathered-field`)
        gathered = {f: st.none() for f, spec in schema.records[name].fields.items() if spec.gather}
        return st.tuples(st.just(name), from_schema(schema, record=name, overrides=gathered, max_items=2))

    return st.sampled_from(["household", "village", "county"]).flatmap(records)


@pytest.mark.slow  # 30 generated records: full suite
@settings(max_examples=30, deadline=None)
@given(drawn=_generated_records())
def test_every_record_the_reader_accepts_validates(drawn: tuple[str, Any]) -> None:
    """Records drawn from the household schema (valid by construction: the strategies' own tests
    read them back) validate against the record schema generated from it, as JSON."""
    name, record = drawn
    data = json.loads(json.dumps(record.to_data()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _record_validator(name).iter_errors(data)]
    assert not errors, errors[:5]
