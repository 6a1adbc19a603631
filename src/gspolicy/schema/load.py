"""Read a household schema file (YAML) into a `Schema`, reporting every problem at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import gspolicy._cache as cache
from gspolicy._files import decode_source, read_bytes
from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy._memo import Memo
from gspolicy._messages import noun
from gspolicy._reader import Reader
from gspolicy._yaml import YNode, YScalar, load_yaml
from gspolicy.errors import Diagnostic, suggest
from gspolicy.schema.check_roles import check_roles, read_changeable, read_role
from gspolicy.schema.model import (
    DERIVE_FORMS,
    KINDS,
    Derive,
    EnumSpec,
    EnumValue,
    FieldSpec,
    Gather,
    Kind,
    RecordSpec,
    Schema,
    UnitSpec,
)

__all__ = ["SCHEMA_FORMAT", "read_schema", "schema_from_source", "unit_known"]

SCHEMA_FORMAT = 1
"""The schema file format this library reads (``format:`` in the file)."""


_FIELD_KEYS = (
    "required",
    "min",
    "max",
    "unit",
    "enum",
    "record",
    "of",
    "pattern",
    "requires",
    "not_before",
    "description",
    "gather",
    "derive",
    "role",
    "changeable",
)


def schema_from_source(source: Source) -> tuple[Schema | None, list[Diagnostic]]:
    """Read a schema from YAML text; return it (None if anything is wrong) and the diagnostics."""
    tree, diagnostics = load_yaml(source)
    if tree is None:
        return None, diagnostics
    reader = Reader()
    reader.diagnostics.extend(diagnostics)
    top = reader.mapping(
        tree,
        "the schema file",
        required=("schema", "format", "version", "title", "root", "records"),
        optional=("enums", "description", "units"),
    )
    if top is None:
        return None, reader.diagnostics
    schema_id = reader.string(top.get("schema"), "schema", name=True) or "?"
    reader = reader.within("schema", schema_id)
    fmt = reader.integer(top.get("format"), "format")
    if fmt is not None and fmt > SCHEMA_FORMAT:
        reader.report(
            "shape/bad-value",
            top.get("format"),
            {
                "value": fmt,
                "key": "format",
                "expected": "format version",
                "hint": f"this library reads schema format {SCHEMA_FORMAT}; upgrade gspolicy",
            },
        )
    version = reader.version(top.get("version"), "version") or "?"
    title = reader.text(top.get("title"), "title") or Text("?", "?")
    enums = _read_enums(reader, top.get("enums"))
    units = _read_units(reader, top.get("units"))
    records = _read_records(reader, top.get("records"), enums, units)
    root = reader.string(top.get("root"), "root", name=True)
    if root is not None and root not in records:
        reader.report("schema/missing-root", top.get("root"), {"name": root}, suggest(root, records))
    _check_cycles(reader, records, top.get("records"))
    _check_gathers(reader, records)
    if root is not None and root in records:
        check_roles(reader, records, root)
    if any(d.is_error for d in reader.diagnostics) or root is None:
        return None, reader.diagnostics
    digest = "sha256:" + hashlib.sha256(source.text.encode("utf-8", "surrogatepass")).hexdigest()
    schema = Schema(
        schema_id, version, title, root, records, enums, source=source.name, digest=digest, units=units
    )
    return schema, reader.diagnostics


_schemas: Memo[tuple[str, str], tuple[Schema | None, tuple[Diagnostic, ...]]] = Memo(16)


def schema_from_text(name: str, text: str) -> tuple[Schema | None, list[Diagnostic]]:
    """`schema_from_source` for a schema given as text (stored in a decision log, say), reused for
    the same name and text within the process."""
    key = (name, "text:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    found = _schemas.get(key)
    if found is None:
        schema, problems = schema_from_source(Source(name, text))
        found = _schemas.put(key, (schema, tuple(problems)))
    return found[0], list(found[1])


def read_schema(path: Path) -> tuple[Schema | None, list[Diagnostic]]:
    """Read a schema file (once per process for the same bytes at the same path, and from the
    cache of checked files, `gspolicy._cache`, when another process has read it)."""
    data, problems = read_bytes(path)
    if data is None:
        return None, problems
    key = (str(path), hashlib.sha256(data).hexdigest())
    found = _schemas.get(key)
    if found is not None:
        return found[0], list(found[1])
    folder = cache.cache_folder()
    stored_key = cache.entry_key([(f"schema {path}", data)]) if folder is not None else ""
    if folder is not None:
        stored = cache.fetch(folder, stored_key)
        if _is_read_schema(stored):
            found = _schemas.put(key, stored)  # type: ignore[arg-type]
            return found[0], list(found[1])
    source, problems = decode_source(data, str(path))
    schema, more = schema_from_source(source) if source is not None else (None, [])
    found = _schemas.put(key, (schema, (*problems, *more)))
    if folder is not None:
        cache.store(folder, stored_key, found)
    return found[0], list(found[1])


def _is_read_schema(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and (value[0] is None or isinstance(value[0], Schema))
        and isinstance(value[1], tuple)
        and all(isinstance(d, Diagnostic) for d in value[1])
    )


def _read_enums(reader: Reader, node: YNode | None) -> dict[str, EnumSpec]:
    enums: dict[str, EnumSpec] = {}
    for key, value in reader.entries(node, "enums"):
        name = str(key.value)
        r = reader.within("enum", name)
        fields = r.mapping(value, f"enum `{name}`", required=("title", "values"), optional=("description",))
        if fields is None:
            continue
        title = r.text(fields.get("title"), "title") or Text(name, name)
        values: list[EnumValue] = []
        owners: dict[str, tuple[str, YNode]] = {}
        for vkey, vnode in r.entries(fields.get("values"), "values"):
            code = str(vkey.value)
            vf = r.mapping(vnode, f"value `{code}`", required=("zh", "en"), optional=("aliases",))
            if vf is None:
                continue
            zh = r.string(vf.get("zh"), f"{code}.zh")
            en = r.string(vf.get("en"), f"{code}.en")
            aliases: list[str] = []
            for alias in r.items(vf.get("aliases"), "aliases"):
                text = r.string(alias, "aliases")
                if text:
                    aliases.append(text)
            if zh is None or en is None:
                continue
            for label in {code.casefold(), zh.casefold(), en.casefold(), *(a.casefold() for a in aliases)}:
                owner = owners.get(label)
                if owner is not None and owner[0] != code:
                    r.report(
                        "schema/duplicate-label",
                        vnode,
                        {"label": label, "first": owner[0], "second": code},
                    )
                owners.setdefault(label, (code, vnode))
            values.append(EnumValue(code, Text(zh=zh, en=en), tuple(aliases)))
        enums[name] = EnumSpec(name, title, tuple(values), span=key.span)
    return enums


def _read_units(reader: Reader, node: YNode | None) -> dict[str, UnitSpec]:
    """The `units:` table: unit code → its zh and en text, and whether it is shown as a percentage."""
    units: dict[str, UnitSpec] = {}
    for key, value in reader.entries_any(node, "units"):
        code = key.value
        if not isinstance(code, str) or not code or code != code.strip() or len(code.split()) != 1:
            reader.report("schema/bad-unit", key, {"unit": key.text})
            continue
        fields = reader.mapping(value, f"unit `{code}`", required=("zh", "en"), optional=("percent",))
        if fields is None:
            continue
        zh = reader.string(fields.get("zh"), f"{code}.zh")
        en = reader.string(fields.get("en"), f"{code}.en")
        percent = reader.boolean(fields.get("percent"), "percent") or False
        if zh is not None and en is not None:
            units[code] = UnitSpec(code, Text(zh=zh, en=en), percent, span=key.span)
    return units


def unit_known(units: Mapping[str, UnitSpec], unit: str) -> bool:
    """Whether a schema's units table allows `unit` (a schema without a `units:` table constrains
    no unit: each is shown as written)."""
    return not units or unit in units


def _bound(reader: Reader, node: YNode | None, key: str, kind: Kind) -> Decimal | dt.date | None:
    if node is None:
        return None
    value: Decimal | dt.date | None = reader.date(node, key) if kind == "date" else reader.number(node, key)
    return value


def _read_records(
    reader: Reader, node: YNode | None, enums: dict[str, EnumSpec], units: dict[str, UnitSpec]
) -> dict[str, RecordSpec]:
    raw = reader.entries(node, "records")
    names = [str(k.value) for k, _ in raw]
    records: dict[str, RecordSpec] = {}
    for key, value in raw:
        name = str(key.value)
        r = reader.within("record", name)
        fields_node = r.mapping(
            value,
            f"record type `{name}`",
            required=("title", "fields"),
            optional=("key", "description", "keeps_retention"),
        )
        if fields_node is None:
            continue
        title = r.text(fields_node.get("title"), "title") or Text(name, name)
        fields: dict[str, FieldSpec] = {}
        entries = r.entries(fields_node.get("fields"), "fields")
        sibling_names = [str(k.value) for k, _ in entries]
        for fkey, fnode in entries:
            spec = _read_field(
                r.within("field", str(fkey.value)), fkey, fnode, enums, names, sibling_names, units
            )
            if spec is not None:
                fields[spec.name] = spec
        record_key = r.string(fields_node.get("key"), "key", name=True)
        if record_key is not None and record_key not in sibling_names:
            r.report(
                "schema/missing-root",
                fields_node.get("key"),
                {"name": record_key},
                suggest(record_key, sibling_names),
            )
        keeps = (
            r.boolean(fields_node.get("keeps_retention"), "keeps_retention")
            if "keeps_retention" in fields_node
            else None
        )
        records[name] = RecordSpec(
            name, title, fields, key=record_key, span=key.span, keeps_retention=bool(keeps)
        )
    return records


def _read_field(
    r: Reader,
    key: YScalar,
    node: YNode,
    enums: dict[str, EnumSpec],
    record_names: list[str],
    siblings: list[str],
    units: Mapping[str, UnitSpec],
) -> FieldSpec | None:
    name = str(key.value)
    f = r.mapping(node, f"field `{name}`", required=("type", "title"), optional=_FIELD_KEYS)
    if f is None:
        return None
    type_node = f.get("type")
    kind_text = r.string(type_node, "type")
    if kind_text is None:
        return None
    if kind_text not in KINDS:
        r.report(
            "schema/unknown-type",
            type_node,
            {"type": kind_text, "types": ", ".join(f"`{k}`" for k in KINDS)},
            suggest(kind_text, KINDS),
        )
        return None
    kind: Kind = kind_text
    title = r.text(f.get("title"), "title") or Text(name, name)
    enum = record = None
    if kind in ("enum", "set"):
        enum = r.string(f.get("enum"), "enum", name=True)
        if enum is None and f.get("enum") is None:
            r.report("shape/missing-key", node, {"key": "enum", "where": f"field `{name}`"})
        elif enum is not None and enum not in enums:
            r.report("schema/unknown-enum", f.get("enum"), {"name": enum}, suggest(enum, enums))
    if kind in ("record", "list"):
        ref_key = "record" if kind == "record" else "of"
        record = r.string(f.get(ref_key), ref_key, name=True)
        if record is None and f.get(ref_key) is None:
            r.report("shape/missing-key", node, {"key": ref_key, "where": f"field `{name}`"})
        elif record is not None and record not in record_names:
            r.report("schema/unknown-record", f.get(ref_key), {"name": record}, suggest(record, record_names))
    low = _bound(r, f.get("min"), "min", kind)
    high = _bound(r, f.get("max"), "max", kind)
    if _above(low, high):
        r.report("schema/bad-bounds", f.get("min"), {"min": low, "max": high})
    pattern = r.string(f.get("pattern"), "pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as err:
            r.report(
                "shape/bad-value",
                f.get("pattern"),
                {"value": pattern, "key": "pattern", "expected": noun("pattern"), "hint": str(err)},
            )
            pattern = None
    requires = r.names(f.get("requires"), "requires")
    not_before = r.names(f.get("not_before"), "not_before")
    for ref, refs_key in [(x, "requires") for x in requires] + [(x, "not_before") for x in not_before]:
        if ref not in siblings:
            r.report("schema/unknown-field-ref", f.get(refs_key), {"name": ref}, suggest(ref, siblings))
    if not_before and kind != "date":
        r.report("schema/not-before-type", f.get("not_before"), {"name": name})
    description = r.text(f.get("description"), "description")
    required = r.boolean(f.get("required"), "required") or False
    unit = r.string(f.get("unit"), "unit")
    if unit is not None and not unit_known(units, unit):
        r.report("schema/unknown-unit", f.get("unit"), {"unit": unit}, suggest(unit, units))
    gather = _read_gather(r, f.get("gather"), kind, record_names)
    derive = _read_derive(r, f.get("derive"), kind)
    role = read_role(r, f.get("role"))
    changeable = read_changeable(r, f.get("changeable"))
    return FieldSpec(
        name=name,
        kind=kind,
        title=title,
        required=required,
        min=low,
        max=high,
        unit=unit,
        enum=enum,
        record=record,
        pattern=pattern,
        requires=requires,
        not_before=not_before,
        description=description,
        span=key.span,
        gather=gather,
        derive=derive,
        role=role,
        changeable=changeable,
    )


def _read_gather(r: Reader, node: YNode | None, kind: Kind, record_names: list[str]) -> Gather | None:
    if node is None:
        return None
    g = r.mapping(node, "gather", required=("records", "by"))
    if g is None:
        return None
    records = r.string(g.get("records"), "records", name=True)
    by = r.string(g.get("by"), "by", name=True)
    if records is not None and records not in record_names:
        r.report("schema/unknown-record", g.get("records"), {"name": records}, suggest(records, record_names))
        return None
    if kind != "list":
        r.report(
            "schema/bad-gather",
            node,
            {"problem": Text(zh="只有 `list` 字段可以汇集", en="only a `list` field can be gathered")},
        )
        return None
    if records is None or by is None:
        return None
    return Gather(records, by)


def _read_derive(r: Reader, node: YNode | None, kind: Kind) -> Derive | None:
    if node is None:
        return None
    if isinstance(node, YScalar):
        if node.value == "record" and kind == "record":
            return Derive("record")
        r.report("schema/bad-derive", node, {})
        return None
    d = r.mapping(node, "derive", optional=DERIVE_FORMS[1:])
    if d is None:
        return None
    forms = [form for form in DERIVE_FORMS[1:] if d.get(form) is not None]
    if len(forms) != 1 or kind != "bool":
        r.report("schema/bad-derive", node, {})
        return None
    pack = r.string(d.get(forms[0]), forms[0])
    return None if pack is None else Derive(forms[0], pack)


def _check_gathers(reader: Reader, records: dict[str, RecordSpec]) -> None:
    """A gathered list: the gathered type has the `by` field, the holder has a key, and the
    item type holds the gathered record in one `derive: record` field."""
    for holder in records.values():
        for field in holder.fields.values():
            g = field.gather
            if g is None or field.record is None or field.record not in records:
                continue
            where = YNode(field.span) if field.span is not None else None
            problem: Text | None = None
            item = records[field.record]
            own = [f for f in item.fields.values() if f.derive is not None and f.derive.form == "record"]
            if holder.key is None:
                problem = Text(
                    zh=f"记录类型 `{holder.name}` 没有 `key`", en=f"record type `{holder.name}` has no `key`"
                )
            elif g.by not in records[g.records].fields:
                problem = Text(
                    zh=f"记录类型 `{g.records}` 没有字段 `{g.by}`",
                    en=f"record type `{g.records}` has no field `{g.by}`",
                )
            elif len(own) != 1 or own[0].record != g.records:
                problem = Text(
                    zh=f"列表项（`{item.name}`）须有一个 `derive: record` 的 `{g.records}` 记录字段",
                    en=f"the items (`{item.name}`) need one `{g.records}` record field with `derive: record`",
                )
            if problem is not None:
                reader.within("record", holder.name).report("schema/bad-gather", where, {"problem": problem})


def _above(low: Decimal | dt.date | None, high: Decimal | dt.date | None) -> bool:
    if isinstance(low, Decimal) and isinstance(high, Decimal):
        return low > high
    if isinstance(low, dt.date) and isinstance(high, dt.date):
        return low > high
    return False


def _check_cycles(reader: Reader, records: dict[str, RecordSpec], node: YNode | None) -> None:
    def contains(start: str, current: str, seen: set[str]) -> bool:
        for field in records[current].fields.values():
            ref = field.record
            if ref is None or ref not in records:
                continue
            if ref == start:
                return True
            if ref not in seen:
                seen.add(ref)
                if contains(start, ref, seen):
                    return True
        return False

    for name, spec in records.items():
        if contains(name, name, set()):
            reader.report("schema/recursive", None if spec.span is None else _span_node(spec), {"name": name})


def _span_node(spec: RecordSpec) -> YNode | None:
    return YNode(spec.span) if spec.span is not None else None
