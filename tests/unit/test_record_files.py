"""The acceptance test: the same defects in a JSON, a JSONL and a YAML record file.

Each fixture under ``tests/fixtures/records/`` holds two households against the tiny schema; the
second carries three planted defects: a misspelled field (``registerd_on``), a wrong type
(``size: "four"``) and an out-of-range age (``members[1].age: 130``).  Each defect is reported
with its file, its own line (not the record's), its column, its data path, the underlined value and,
for the misspelling, "did you mean" — in Chinese and in English.  No record is loaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy._location import RecordLocation, Source
from gspolicy.errors import Diagnostic, HouseholdError, render_diagnostics
from gspolicy.schema.records import load_record_file, load_records

from support.records import tiny_schema

FIXTURES = Path(__file__).parent.parent / "fixtures" / "records"
SCHEMA = tiny_schema()

# file -> (line of the defective record, {code: (line, col, data path, underlined)})
EXPECTED: dict[str, tuple[int, dict[str, tuple[int, int, str, str]]]] = {
    "households.json": (
        24,
        {
            "record/wrong-type": (27, 13, "size", '"four"'),
            "record/unknown-field": (30, 5, "registerd_on", '"registerd_on"'),
            "record/out-of-range": (41, 16, "members[1].age", "130"),
        },
    ),
    "households.jsonl": (
        3,
        {
            "record/wrong-type": (3, 50, "size", '"four"'),
            "record/unknown-field": (3, 93, "registerd_on", '"registerd_on"'),
            "record/out-of-range": (3, 243, "members[1].age", "130"),
        },
    ),
    "households.yaml": (
        20,
        {
            "record/wrong-type": (22, 9, "size", "four"),
            "record/unknown-field": (25, 3, "registerd_on", "registerd_on"),
            "record/out-of-range": (33, 12, "members[1].age", "130"),
        },
    ),
}

MESSAGES = {
    "record/wrong-type": (
        "size: expected a whole number, found the text `four`",
        "size: 应为整数，实际为文本 `four`",
    ),
    "record/unknown-field": (
        "registerd_on: unknown field `registerd_on` in a Household record",
        "registerd_on: 农户记录中有未知字段 `registerd_on`",
    ),
    "record/out-of-range": (
        "members[1].age: 130 is out of range: from 0 to 120",
        "members[1].age: 130 超出范围：应在 0 到 120 之间",
    ),
}


def load(name: str) -> list[Diagnostic]:
    records, diagnostics = load_record_file(FIXTURES / name, SCHEMA, name=name)
    assert records == (), "a file with errors loads no record at all"
    return diagnostics


@pytest.fixture(params=sorted(EXPECTED))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_three_fixtures_hold_the_same_households() -> None:
    def fixed(text: str) -> str:
        return (
            text.replace('"four"', "4")
            .replace("four", "4")
            .replace("registerd_on", "registered_on")
            .replace("130", "45")
        )

    loaded = []
    for file in sorted(EXPECTED):
        fmt = file.rsplit(".", 1)[1]
        text = fixed((FIXTURES / file).read_text(encoding="utf-8"))
        records, diagnostics = load_records(Source(file, text), SCHEMA, fmt=fmt)
        assert diagnostics == [], [d.render() for d in diagnostics]
        assert len(records) == 2
        loaded.append(records)
    assert loaded[0] == loaded[1] == loaded[2]


def test_all_three_defects_are_reported_together(name: str) -> None:
    diagnostics = load(name)
    assert sorted(d.code for d in diagnostics) == sorted(EXPECTED[name][1])


def test_each_defect_is_located_on_its_own_line(name: str) -> None:
    record_line, expected = EXPECTED[name]
    for d in load(name):
        line, col, path, marked = expected[d.code]
        loc = d.location
        assert isinstance(loc, RecordLocation)
        assert loc.file == name
        assert str(loc.path) == path
        assert loc.span is not None
        assert (loc.span.line, loc.span.col) == (line, col), d.code
        assert loc.span.text == marked
        assert d.to_json()["line"] == line
        assert d.render("en").startswith(f"{name}:{line}:{col}: {d.code}: ")
        if not name.endswith(".jsonl"):
            # the defect's own line, not the line where its record starts
            assert line != record_line


def test_messages_in_english_and_chinese(name: str) -> None:
    for d in load(name):
        en, zh = MESSAGES[d.code]
        assert d.message("en") == en
        assert d.message("zh") == zh


def test_did_you_mean_in_both_languages(name: str) -> None:
    (misspelled,) = [d for d in load(name) if d.code == "record/unknown-field"]
    assert misspelled.suggestions[0] == "registered_on"
    en, zh = misspelled.render("en"), misspelled.render("zh")
    assert en.splitlines()[-1] == "  help: did you mean `registered_on`, `exited_on`?"
    assert zh.splitlines()[-1] == "  帮助：您是否想写 `registered_on`, `exited_on`？"


def test_rendering_shows_each_source_line_underlined(name: str) -> None:
    _, expected = EXPECTED[name]
    text = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    for lang in ("en", "zh"):
        rendered = render_diagnostics(load(name), lang)  # type: ignore[arg-type]
        for line, _col, _path, _marked in expected.values():
            assert f"{line:>4} | {text[line - 1]}" in rendered
        assert rendered.splitlines()[-1] == ("3 errors, 0 warnings" if lang == "en" else "3 个错误，0 个警告")


def test_the_full_rendering_of_the_yaml_file() -> None:
    assert render_diagnostics(load("households.yaml"), "en") == (
        "households.yaml:22:9: record/wrong-type: size: expected a whole number, found the text `four`\n"
        "  22 |   size: four\n"
        "     |         ^^^^\n"
        "households.yaml:25:3: record/unknown-field: registerd_on: unknown field `registerd_on` in a Household record\n"
        "  25 |   registerd_on: 2015-06-01\n"
        "     |   ^^^^^^^^^^^^\n"
        "  help: did you mean `registered_on`, `exited_on`?\n"
        "households.yaml:33:12: record/out-of-range: members[1].age: 130 is out of range: from 0 to 120\n"
        "  33 |       age: 130\n"
        "     |            ^^^\n"
        "3 errors, 0 warnings"
    )


def test_raised_as_one_household_error(name: str) -> None:
    error = HouseholdError(load(name))
    assert [d.code for d in error.diagnostics] == [
        "record/wrong-type",
        "record/unknown-field",
        "record/out-of-range",
    ]
    assert error.omitted == 0
