"""A bilingual Markdown reference of a `Schema`, generated from the schema itself.

``docs/reference/household-schema.md`` holds a hand-written introduction followed by the output
of `render_schema_markdown` between the markers `BEGIN` and `END`; a test checks that the page
and the schema agree.  Regenerate the page with::

    python -m gspolicy.schema.doc policies/schema/household.yaml docs/reference/household-schema.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from gspolicy.errors import render_diagnostics
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import EnumSpec, FieldSpec, RecordSpec, Schema

__all__ = ["BEGIN", "END", "generated_part", "render_schema_markdown", "splice_generated"]

BEGIN = "<!-- BEGIN GENERATED -->"
END = "<!-- END GENERATED -->"


def render_schema_markdown(schema: Schema) -> str:
    """The reference of `schema`: one table per record type, then one per enum (deterministic)."""
    places = _record_places(schema)
    lines = [
        f"## {_cell(schema.title.zh)} / {_cell(schema.title.en)}",
        "",
        f"Schema `{schema.id}`, version `{schema.version}`; root record type "
        f"[`{schema.root}`](#record-{schema.root}).",
        "",
        "### 记录类型 / Record types",
        "",
        "Paths start at the root record; `a.b` is field `b` of the record in field `a`, and "
        "`a[].b` is field `b` of each item of the list `a`.",
        "",
    ]
    for name in places:
        lines.extend(_record_section(schema, schema.records[name], places[name]))
    lines.extend(["### 枚举 / Enums", ""])
    for enum in schema.enums.values():
        lines.extend(_enum_section(enum))
    return "\n".join(lines).rstrip("\n") + "\n"


def generated_part(page: str) -> str | None:
    """The text between the markers of `page` (without the newlines next to them), or None."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        return None
    return page[start + len(BEGIN) : end].strip("\n") + "\n"


def splice_generated(page: str, generated: str) -> str:
    """`page` with the text between its markers replaced by `generated`."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the page has no `{BEGIN}` ... `{END}` block")
    body = generated.strip("\n")
    return f"{page[: start + len(BEGIN)]}\n\n{body}\n\n{page[end:]}"


# -- record types ----------------------------------------------------------------------------------


def _record_places(schema: Schema) -> dict[str, list[str]]:
    """Record types in reading order (depth first from the root), each with the path prefixes
    it is used at (``""`` for the root, ``"income."``, ``"members[]."``)."""
    places: dict[str, list[str]] = {}

    def visit(name: str, prefix: str, trail: tuple[str, ...]) -> None:
        first = name not in places
        places.setdefault(name, []).append(prefix)
        if not first or name in trail:
            return
        for field_name, field in schema.records[name].fields.items():
            if field.record is None or field.record not in schema.records:
                continue
            step = f"{field_name}[]." if field.kind == "list" else f"{field_name}."
            visit(field.record, prefix + step, (*trail, name))

    if schema.root in schema.records:
        visit(schema.root, "", ())
    for name in schema.records:
        places.setdefault(name, [])
    return places


def _record_section(schema: Schema, spec: RecordSpec, prefixes: Sequence[str]) -> Iterator[str]:
    yield f'<a id="record-{spec.name}"></a>'
    yield ""
    yield f"#### `{spec.name}`: {_cell(spec.title.zh)} / {_cell(spec.title.en)}"
    yield ""
    shown = [p.rstrip(".") for p in prefixes if p]
    if shown:
        yield "Used at " + ", ".join(f"`{p}`" for p in shown) + "."
        yield ""
    elif spec.name == schema.root:
        yield "The root record type: every record in a data file is one of these."
        yield ""
    if spec.key is not None and spec.name == schema.root:
        yield f"Records are identified by `{spec.key}`, unique across the files loaded together."
        yield ""
    elif spec.key is not None:
        yield f"Items of a list are identified by `{spec.key}`, unique within the list."
        yield ""
    prefix = prefixes[0] if prefixes else ""
    yield "| Field | Type | 中文 | English | Unit / bounds | Enum / record |"
    yield "|---|---|---|---|---|---|"
    notes: list[str] = []
    for name, field in spec.fields.items():
        path = f"{prefix}{name}"
        yield (
            f"| `{path}` | {_type(field)} | {_cell(field.title.zh)} | {_cell(field.title.en)} "
            f"| {_bounds(field)} | {_reference(field)} |"
        )
        if field.description is not None:
            notes.append(f"- `{path}`: {_cell(field.description.zh)} {_cell(field.description.en)}")
    yield ""
    if notes:
        yield from notes
        yield ""


def _type(field: FieldSpec) -> str:
    kind = (
        f"list of `{field.record}`"
        if field.kind == "list"
        else f"set of `{field.enum}`"
        if field.kind == "set"
        else field.kind
    )
    return f"{kind}, **required**" if field.required else kind


def _bounds(field: FieldSpec) -> str:
    parts: list[str] = []
    low, high = _value(field.min), _value(field.max)
    unit = f" {field.unit}" if field.unit else ""
    if low is not None and high is not None:
        parts.append(f"{low} – {high}{unit}")
    elif low is not None:
        parts.append(f"≥ {low}{unit}")
    elif high is not None:
        parts.append(f"≤ {high}{unit}")
    elif field.unit:
        parts.append(field.unit)
    if field.pattern is not None:
        parts.append(f"pattern `{field.pattern}`")
    if field.requires:
        parts.append("requires " + ", ".join(f"`{r}`" for r in field.requires))
    if field.not_before:
        parts.append("not before " + ", ".join(f"`{r}`" for r in field.not_before))
    return _cell("; ".join(parts))


def _value(bound: Decimal | dt.date | None) -> str | None:
    if bound is None:
        return None
    if isinstance(bound, dt.date):
        return bound.isoformat()
    return f"{bound:,}".replace(",", " ") if abs(bound) >= 10000 else str(bound)


def _reference(field: FieldSpec) -> str:
    if field.kind in ("enum", "set") and field.enum is not None:
        return f"[`{field.enum}`](#enum-{field.enum})"
    if field.record is not None:
        return f"[`{field.record}`](#record-{field.record})"
    return ""


# -- enums -----------------------------------------------------------------------------------------


def _enum_section(enum: EnumSpec) -> Iterator[str]:
    yield f'<a id="enum-{enum.name}"></a>'
    yield ""
    yield f"#### `{enum.name}`: {_cell(enum.title.zh)} / {_cell(enum.title.en)}"
    yield ""
    yield "| Code | 中文 | English | Also accepted |"
    yield "|---|---|---|---|"
    for value in enum.values:
        aliases = ", ".join(_cell(a) for a in value.aliases)
        yield f"| `{value.code}` | {_cell(value.title.zh)} | {_cell(value.title.en)} | {aliases} |"
    yield ""


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks."""
    return " ".join(text.split()).replace("|", "\\|")


# -- command line ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the generated block of a reference page from a schema file."""
    parser = argparse.ArgumentParser(prog="python -m gspolicy.schema.doc", description=main.__doc__)
    parser.add_argument("schema", type=Path, help="the schema file (YAML)")
    parser.add_argument("page", type=Path, help="the Markdown page holding the generated block")
    parser.add_argument("--check", action="store_true", help="only report whether the page is current")
    args = parser.parse_args(argv)
    schema, diagnostics = read_schema(args.schema)
    if schema is None:
        print(render_diagnostics(diagnostics, "en"), file=sys.stderr)
        return 1
    page = args.page.read_text(encoding="utf-8")
    updated = splice_generated(page, render_schema_markdown(schema))
    if args.check:
        if updated != page:
            print(f"{args.page} is out of date; run without --check", file=sys.stderr)
            return 1
        return 0
    if updated != page:
        args.page.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
