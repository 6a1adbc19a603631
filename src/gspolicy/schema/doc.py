"""A bilingual Markdown reference of a `Schema`, generated from the schema itself.

The reference groups the record types by subject: the root record type (the household) first, then
the other record types data files hold (villages, counties: the record types a list gathers, or
that hold a gathered list), each with the record types it uses; it says what fills gathered lists
and derived fields.

``docs/reference/household-schema.md`` holds a hand-written introduction followed by the output
of `render_schema_markdown` between the markers `BEGIN` and `END`; a test checks that the page
and the schema agree.  Regenerate the page with::

    python -m gspolicy.schema.doc policies/schema/household.yaml docs/reference/household-schema.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from gspolicy.errors import render_diagnostics
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Derive, EnumSpec, FieldSpec, RecordSpec, Schema, UnitSpec
from gspolicy.schema.roles import ROLES

__all__ = ["BEGIN", "END", "generated_part", "render_schema_markdown", "splice_generated"]

BEGIN = "<!-- BEGIN GENERATED -->"
END = "<!-- END GENERATED -->"


def render_schema_markdown(schema: Schema) -> str:
    """The reference of `schema` (deterministic): for each subject (the root record type, then the
    other record types data files hold, such as villages and counties) one table per record type
    it uses, then one table per enum, then the units."""
    subjects = _subjects(schema)
    groups, places = _record_places(schema, subjects)
    others = [_link(name) for name in subjects if name != schema.root]
    lines = [
        f"## {_cell(schema.title.zh)} / {_cell(schema.title.en)}",
        "",
        f"Schema `{schema.id}`, version `{schema.version}`; root record type {_link(schema.root)}"
        + (f"; other subjects {', '.join(others)}." if others else "."),
        "",
        "Paths start at the record of the subject (the root or another) a record type is listed under; "
        "`a.b` is field `b` of the record in field `a`, and `a[].b` is field `b` of each item of the list `a`.",
        "",
    ]
    for subject, names in groups.items():
        if not names:
            continue
        if subject is None:
            lines.extend(["### 其他记录类型 / Other record types", ""])
        else:
            title = schema.records[subject].title
            lines.extend([f"### 记录类型：{_cell(title.zh)} / Record types: {_cell(title.en)}", ""])
        for name in names:
            lines.extend(_record_section(schema, schema.records[name], places[name], subjects))
    lines.extend(_roles_section(schema))
    lines.extend(["### 枚举 / Enums", ""])
    for enum in schema.enums.values():
        lines.extend(_enum_section(enum))
    if schema.units:
        lines.extend(_units_section(schema.units.values()))
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


_Place = tuple[str, str]
"""Where a record type is used: the subject and the path prefix in it (``""`` for the subject's
own record, ``"income."``, ``"members[]."``)."""


def _subjects(schema: Schema) -> list[str]:
    """The record types data files hold: the root, then (in schema order) every record type a
    list gathers and every record type holding a gathered list (villages, counties)."""
    named = {schema.root}
    for spec in schema.records.values():
        for field in spec.fields.values():
            if field.gather is not None:
                named.update((field.gather.records, spec.name))
    ordered = [schema.root, *(name for name in schema.records if name != schema.root)]
    return [name for name in ordered if name in named and name in schema.records]


def _record_places(
    schema: Schema, subjects: Sequence[str]
) -> tuple[dict[str | None, list[str]], dict[str, list[_Place]]]:
    """Record types in reading order, grouped by the subject whose record first reaches them
    (depth first; ``None`` groups the record types no subject reaches), and every place each is
    used at.  A field that holds the gathered record itself (``derive: record``) only links to it:
    that record type is a subject of its own."""
    groups: dict[str | None, list[str]] = {subject: [] for subject in subjects}
    places: dict[str, list[_Place]] = {}

    def visit(subject: str, name: str, prefix: str, trail: tuple[str, ...]) -> None:
        first = name not in places
        places.setdefault(name, []).append((subject, prefix))
        if not first or name in trail:
            return
        groups[subject].append(name)
        for field_name, field in schema.records[name].fields.items():
            if field.record is None or field.record not in schema.records:
                continue
            if field.derive is not None and field.derive.form == "record":
                continue
            step = f"{field_name}[]." if field.kind == "list" else f"{field_name}."
            visit(subject, field.record, prefix + step, (*trail, name))

    for subject in subjects:
        if subject not in places:
            visit(subject, subject, "", ())
    groups[None] = [name for name in schema.records if name not in places]
    for name in groups[None]:
        places[name] = []
    return groups, places


def _record_section(
    schema: Schema, spec: RecordSpec, places: Sequence[_Place], subjects: Sequence[str]
) -> Iterator[str]:
    yield f'<a id="record-{spec.name}"></a>'
    yield ""
    yield f"#### `{spec.name}`: {_cell(spec.title.zh)} / {_cell(spec.title.en)}"
    yield ""
    shown = [(subject, p.rstrip(".")) for subject, p in places if p]
    if shown and all(subject == schema.root for subject, _ in shown):
        yield "Used at " + ", ".join(f"`{p}`" for _, p in shown) + "."
        yield ""
    elif shown:
        yield "Used at " + ", ".join(f"`{p}` in {_link(subject)} records" for subject, p in shown) + "."
        yield ""
    if spec.name == schema.root:
        yield "The root record type: a data file holds these unless it is read as another subject."
        yield ""
    elif spec.name in subjects:
        yield (
            f"A subject of its own, which packs decide on: a data file of these is read as record type "
            f'`{spec.name}` (for example `load_record_file(path, schema, record="{spec.name}")`).'
        )
        yield ""
    if spec.fields and all(f.derive is not None for f in spec.fields.values()):
        yield (
            "Items of a gathered list: the evaluator fills every field (see the notes below); a data file "
            "never holds them (only a pack's test cases give them directly)."
        )
        yield ""
    if spec.key is not None and spec.name in subjects:
        yield f"Records are identified by `{spec.key}`, unique across the files loaded together."
        yield ""
    elif spec.key is not None:
        yield f"Items of a list are identified by `{spec.key}`, unique within the list."
        yield ""
    if spec.keeps_retention:
        yield (
            "`keeps_retention`: what this record says never ends a measure the buffer keeps — no "
            "measure's `lapses_when` may read it (本记录的内容不终止缓冲期保留的措施)."
        )
        yield ""
    prefix = places[0][1] if places else ""
    yield "| Field | Type | 中文 | English | Unit / bounds | Enum / record | Role | Changeable by |"
    yield "|---|---|---|---|---|---|---|---|"
    notes: list[str] = []
    for name, field in spec.fields.items():
        path = f"{prefix}{name}"
        role = f"[`{field.role}`](#roles)" if field.role is not None else ""
        yield (
            f"| `{path}` | {_type(field)} | {_cell(field.title.zh)} | {_cell(field.title.en)} "
            f"| {_bounds(field)} | {_reference(field)} | {role} | {_CHANGEABLE.get(field.changeable or '', '')} |"
        )
        parts = list(_filled_by(schema, spec, field))
        if field.description is not None:
            parts.extend((_cell(field.description.zh), _cell(field.description.en)))
        if parts:
            notes.append(f"- `{path}`: " + " ".join(parts))
    yield ""
    if notes:
        yield from notes
        yield ""


def _filled_by(schema: Schema, spec: RecordSpec, field: FieldSpec) -> Iterator[str]:
    """What fills a gathered list or a derived field, in Chinese and in English."""
    if field.gather is not None:
        records, by, key = f"`{field.gather.records}`", f"`{field.gather.by}`", f"`{spec.key}`"
        yield f"由求值器汇集：{by} 等于本记录 {key} 的 {records} 记录，不从数据文件读取。"
        yield (
            f"Gathered by the evaluator from the {records} records whose {by} equals this record's "
            f"{key}; never read from a data file."
        )
    if field.derive is not None:
        yield from _derived(field.derive, _gathered_type(schema, spec))


def _gathered_type(schema: Schema, spec: RecordSpec) -> str | None:
    """The record type an item type holds as its gathered record (its ``derive: record`` field)."""
    for field in spec.fields.values():
        if field.derive is not None and field.derive.form == "record" and field.record in schema.records:
            return field.record
    return None


def _derived(derive: Derive, gathered: str | None) -> Iterator[str]:
    record = f"`{gathered}` " if gathered else ""
    pack = f"`{derive.pack}`"
    if derive.form == "record":
        yield f"由求值器填入：汇集的 {record}记录本身。"
        yield f"Filled by the evaluator: the gathered {record}record itself."
    elif derive.form == "verdict":
        yield f"由求值器填入：政策包 {pack} 对该 {record}记录的判定：通过为真，不通过为假，其他情况（未定、不适用）缺失。"
        yield (
            f"Filled by the evaluator: pack {pack}'s verdict on the {record}record: true for pass, "
            "false for fail, missing otherwise (undetermined or not applicable)."
        )
    elif derive.form == "any_rule":
        yield f"由求值器填入：政策包 {pack} 是否有规则适用于该 {record}记录：有则为真，都不适用为假，未定时缺失。"
        yield (
            f"Filled by the evaluator: whether a rule of pack {pack} applies to the {record}record: "
            "true when one does, false when none does, missing when undetermined."
        )


def _link(name: str) -> str:
    return f"[`{name}`](#record-{name})"


def _type(field: FieldSpec) -> str:
    kind = (
        f"list of `{field.record}`"
        if field.kind == "list"
        else f"set of `{field.enum}`"
        if field.kind == "set"
        else field.kind
    )
    if field.gather is not None:
        kind += ", gathered"
    if field.derive is not None:
        kind += ", derived"
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


# -- roles -----------------------------------------------------------------------------------------

_CHANGEABLE = {"household": "household 农户", "department": "department 部门", "no": "no one 不可改变"}


def _roles_section(schema: Schema) -> Iterator[str]:
    """Which field plays each role the library reads fields by (`gspolicy.schema.roles`)."""
    yield '<a id="roles"></a>'
    yield ""
    yield "### 角色 / Roles"
    yield ""
    yield (
        "The library never names a field: where it needs one (a member's birth date for `age`, the support "
        "list's dates for `held_on`, the status a monitoring event sets), it reads the field that plays the "
        "role (`role:` on the field; `Schema.role(name)` gives its path). A field may play one role and a "
        "role is played by one field; a role the schema gives no field is a feature the schema does without "
        "(`schema/missing-role` when something needs it). `changeable:` says who can change a field: the "
        "household itself, a department, or no one."
    )
    yield ""
    yield "| Role | 中文 | English | Field | Kinds | Needs |"
    yield "|---|---|---|---|---|---|"
    for role in ROLES.values():
        path = schema.roles.get(role.name)
        field = f"`{path}`" if path is not None else "—"
        kinds = ", ".join(f"`{k}`" for k in sorted(role.kinds))
        needs = ", ".join(f"`{n}`" for n in role.needs)
        yield f"| `{role.name}` | {_cell(role.title.zh)} | {_cell(role.title.en)} | {field} | {kinds} | {needs} |"
    yield ""


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


# -- units ---------------------------------------------------------------------------------------


def _units_section(units: Iterable[UnitSpec]) -> Iterator[str]:
    yield '<a id="units"></a>'
    yield ""
    yield "### 单位 / Units"
    yield ""
    yield (
        "Every unit a pack or a field may name (`unit:`), as explanations write it; a pack naming a unit "
        "not listed is refused (`pack/unknown-unit`). A unit shown as a percentage is a rate: 0.9 is "
        "shown as 90%, 0.0447761 as 4.48% (two decimals at most, and never rounded onto or across a whole "
        "tenth of a percent: 0.029999 is 2.9999%)."
    )
    yield ""
    yield "| Code | 中文 | English | Shown as |"
    yield "|---|---|---|---|"
    for unit in units:
        shown = "percentage" if unit.percent else "number and unit"
        yield f"| `{_cell(unit.code)}` | {_cell(unit.title.zh)} | {_cell(unit.title.en)} | {shown} |"
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
