"""The household schema reference page is generated from the bundled schema and must not drift."""

from pathlib import Path

from gspolicy.schema.doc import BEGIN, END, generated_part, render_schema_markdown, splice_generated
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "policies" / "schema" / "household.yaml"
PAGE = ROOT / "docs" / "reference" / "household-schema.md"
REGENERATE = (
    "run `python -m gspolicy.schema.doc policies/schema/household.yaml docs/reference/household-schema.md`"
)


def _schema() -> Schema:
    schema, diagnostics = read_schema(SCHEMA)
    assert schema is not None, diagnostics
    return schema


def test_page_matches_the_schema() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page.count(BEGIN) == 1
    assert page.count(END) == 1
    assert generated_part(page) == render_schema_markdown(_schema()), REGENERATE


def test_rendering_is_deterministic_and_complete() -> None:
    schema = _schema()
    text = render_schema_markdown(schema)
    assert text == render_schema_markdown(_schema())
    for name in schema.records:
        assert f'<a id="record-{name}"></a>' in text
    for enum in schema.enums.values():
        assert f'<a id="enum-{enum.name}"></a>' in text
        for value in enum.values:
            assert f"| `{value.code}` | {value.title.zh} | {value.title.en} |" in text
    assert "| `income.per_capita` | money |" in text
    assert "| `members[].age` | int |" in text


def test_splice_replaces_only_the_block() -> None:
    page = f"intro\n\n{BEGIN}\nold\n{END}\n\nafter\n"
    spliced = splice_generated(page, "new\n")
    assert spliced == f"intro\n\n{BEGIN}\n\nnew\n\n{END}\n\nafter\n"
    assert generated_part(spliced) == "new\n"
    assert splice_generated(spliced, "new\n") == spliced


def test_the_units_are_listed_with_both_languages() -> None:
    schema = _schema()
    text = render_schema_markdown(schema)
    assert '<a id="units"></a>' in text
    assert schema.units
    for unit in schema.units.values():
        shown = "percentage" if unit.percent else "number and unit"
        assert f"| `{unit.code}` | {unit.title.zh} | {unit.title.en} | {shown} |" in text
    assert "| `ratio` | 比率 | ratio | percentage |" in text
