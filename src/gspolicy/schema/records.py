"""Validating raw records (JSON, JSONL, YAML) into typed, immutable `Record`s.

Every problem in a file is reported at once, each with the file, the line and the data path
(``households.jsonl:17: members[2].age: ...``); a file with any error yields no records at all.
Enum fields accept the stable code, the Chinese or English label or a listed alias, and
canonicalise to the code; money is exact (`Decimal`, at most two decimal places).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from gspolicy._files import read_source
from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source, Span
from gspolicy._messages import noun
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, describe_value, load_yaml
from gspolicy.errors import Diagnostic, suggest
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema

__all__ = ["RECORD_SUFFIXES", "load_record_file", "load_records", "validate_record"]

RECORD_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
MAX_RECORDS = 5_000_000
"""The most records one file may hold."""
MAX_DIGITS = 30
"""Numbers with more digits before the point than this are refused (long before any bound)."""
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")

_TRUE = {"是", "true", "yes", "y"}
_FALSE = {"否", "false", "no", "n"}


class _YamlInt(int):
    """An integer read from YAML that remembers how it was written (``0123`` stays ``0123``)."""

    text: str


Locate = Callable[[DataPath], RecordLocation]


class _Pairs(dict[str, Any]):
    """A JSON object that remembers the keys it saw twice."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Pairs:
    out = _Pairs()
    out.duplicates = []
    for key, value in pairs:
        if key in out:
            out.duplicates.append(key)
        out[key] = value
    return out


class _ConstantError(ValueError):
    """`NaN` or `Infinity` in JSON: not a number gspolicy accepts."""

    def __init__(self, name: str) -> None:
        super().__init__(f"`{name}` is not a number gspolicy accepts")
        self.name = name


def _reject_constant(name: str) -> None:
    raise _ConstantError(name)


def _json_loads(text: str) -> Any:
    return json.loads(
        text, parse_float=Decimal, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant
    )


def _yaml_plain(node: YNode) -> Any:
    if isinstance(node, YMap):
        out = _Pairs()
        out.duplicates = []
        for k, v in node.items:
            out[str(k.value) if not isinstance(k.value, str) else k.value] = _yaml_plain(v)
        return out
    if isinstance(node, YSeq):
        return [_yaml_plain(v) for v in node.items]
    assert isinstance(node, YScalar)
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        number = _YamlInt(node.value)
        number.text = node.text
        return number
    return node.value


def _node_at(root: YNode | None, path: DataPath) -> YNode | None:
    node = root
    for part in path:
        if isinstance(node, YMap) and isinstance(part, str):
            child = node.get(part)
            if child is None:
                key = node.key_node(part)
                return key or node
            node = child
        elif isinstance(node, YSeq) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
        else:
            return node
    return node


def _key_at(root: YNode | None, path: DataPath) -> YNode | None:
    """The key node of the last path part (to underline an unknown field's name); a key given
    twice is located at its repetition."""
    parent = _node_at(root, DataPath(path[:-1]))
    if isinstance(parent, YMap) and path and isinstance(path[-1], str):
        return parent.key_node(path[-1], last=True) or parent
    return parent


class _Checker:
    def __init__(
        self, schema: Schema, locate: Locate, key_locate: Locate, *, refuse_gathered: bool = False
    ) -> None:
        self.schema = schema
        self.locate = locate
        self.key_locate = key_locate
        self.refuse_gathered = refuse_gathered  # a data file may not hold a list the evaluator gathers
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        code: str,
        path: DataPath,
        args: Mapping[str, object],
        suggestions: Iterable[str] = (),
        *,
        at_key: bool = False,
    ) -> None:
        where = self.key_locate(path) if at_key else self.locate(path)
        self.diagnostics.append(Diagnostic(code, where, dict(args), suggestions=tuple(suggestions)))

    def record(self, data: object, spec: RecordSpec, path: DataPath) -> Record | None:
        title = spec.title
        if not isinstance(data, dict):
            self.report("record/not-a-record", path, {"record": title, "found": describe_value(data)})
            return None
        for key in getattr(data, "duplicates", ()):
            self.report("record/duplicate-key", path.child(key), {"key": key}, at_key=True)
        values: dict[str, object] = {}
        ok = True
        for key, raw in data.items():
            field = spec.fields.get(key)
            if field is None:
                by_title = [n for n, f in spec.fields.items() if key in (f.title.zh, f.title.en)]
                self.report(
                    "record/unknown-field",
                    path.child(key),
                    {"field": key, "record": title},
                    by_title or suggest(str(key), spec.fields),
                    at_key=True,
                )
                ok = False
                continue
            if field.gather is not None and self.refuse_gathered:
                self.report(
                    "record/gathered-field",
                    path.child(key),
                    {"field": key, "record": title, "from": field.gather.records, "by": field.gather.by},
                    at_key=True,
                )
                ok = False
                continue
            if raw is None:
                continue  # an explicit null is a missing value, never a default
            value = self.value(raw, field, path.child(key))
            if value is None:
                ok = False
            else:
                values[key] = value
        for name, field in spec.fields.items():
            if field.required and name not in values and data.get(name) is None:
                self.report("record/missing-field", path, {"field": name, "record": title})
                ok = False
            if name in values:
                for companion in field.requires:
                    if companion not in values and data.get(companion) is None:
                        self.report(
                            "record/missing-companion",
                            path.child(name),
                            {"field": name, "companion": companion},
                            at_key=True,
                        )
                        ok = False
                for earlier in field.not_before:
                    a, b = values.get(earlier), values[name]
                    if isinstance(a, dt.date) and isinstance(b, dt.date) and b < a:
                        self.report(
                            "record/date-order",
                            path.child(name),
                            {
                                "later": name,
                                "later_value": b.isoformat(),
                                "earlier": earlier,
                                "earlier_value": a.isoformat(),
                            },
                        )
                        ok = False
        return Record(spec.name, values) if ok else None

    def wrong(self, path: DataPath, expected: str, raw: object) -> None:
        self.report("record/wrong-type", path, {"expected": noun(expected), "found": describe_value(raw)})

    def value(self, raw: object, field: FieldSpec, path: DataPath) -> object | None:
        kind = field.kind
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().casefold() in _TRUE | _FALSE:
                return raw.strip().casefold() in _TRUE
            self.wrong(path, "`true` or `false` (是 / 否)", raw)
            return None
        if kind in ("int", "money", "ratio", "decimal"):
            return self.number(raw, field, path)
        if kind == "date":
            value: dt.date | None = None
            if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
                value = raw
            elif isinstance(raw, str) and _DATE_RE.match(raw.strip()):
                try:
                    value = dt.date.fromisoformat(raw.strip())
                except ValueError:
                    value = None
            if value is None:
                if isinstance(raw, str | dt.datetime):
                    self.report("record/bad-date", path, {"value": raw})
                else:
                    self.wrong(path, "a date (YYYY-MM-DD)", raw)
                return None
            return self.in_range(value, field, path, value.isoformat())
        if kind == "string":
            if isinstance(raw, _YamlInt):
                raw = raw.text  # a code written as a YAML number keeps its digits (no octal, no `_`)
            elif isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            if not isinstance(raw, str):
                self.wrong(path, "a text", raw)
                return None
            if not field.matches(raw):
                self.report(
                    "record/wrong-type",
                    path,
                    {"expected": noun(f"a text matching `{field.pattern}`"), "found": describe_value(raw)},
                )
                return None
            return raw
        if kind == "enum":
            enum = self.schema.enums[field.enum or ""]
            if isinstance(raw, str):
                code = enum.canonical(raw)
                if code is not None:
                    return code
            shown: str | Text = f"`{raw}`" if isinstance(raw, str) else describe_value(raw)
            values = ", ".join(f"`{v.code}` ({v.title.zh})" for v in enum.values)
            candidates = [*enum.codes, *(v.title.zh for v in enum.values)]
            self.report(
                "record/unknown-enum-value",
                path,
                {
                    "value": shown,
                    "enum": Text(
                        zh=f"{enum.title.zh}（`{enum.name}`）", en=f"{enum.title.en} (`{enum.name}`)"
                    ),
                    "values": values,
                },
                [enum.canonical(s) or s for s in suggest(raw if isinstance(raw, str) else "", candidates)],
            )
            return None
        if kind == "set":
            if not isinstance(raw, list):
                self.wrong(path, "a list", raw)
                return None
            codes: set[str] = set()
            ok = True
            for index, item in enumerate(raw):
                member = self.value(item, attrs.evolve(field, kind="enum"), path.child(index))
                if member is None:
                    ok = False
                else:
                    codes.add(str(member))
            return frozenset(codes) if ok else None
        if kind == "record":
            return self.record(raw, self.schema.records[field.record or ""], path)
        # a list of records
        if not isinstance(raw, list):
            self.wrong(path, "a list", raw)
            return None
        item_spec = self.schema.records[field.record or ""]
        items: list[Record] = []
        ok = True
        seen: dict[object, int] = {}
        for index, item in enumerate(raw):
            record = self.record(item, item_spec, path.child(index))
            if record is None:
                ok = False
                continue
            if item_spec.key is not None and item_spec.key in record:
                ident = record[item_spec.key]
                if ident in seen:
                    self.report(
                        "record/duplicate-id",
                        path.child(index).child(item_spec.key),
                        {"what": item_spec.title, "id": ident, "first": str(path.child(seen[ident]))},
                    )
                    ok = False
                seen.setdefault(ident, index)
            items.append(record)
        return tuple(items) if ok else None

    def number(self, raw: object, field: FieldSpec, path: DataPath) -> object | None:
        expected = {
            "int": "a whole number",
            "money": "an amount of money",
            "ratio": "a ratio",
            "decimal": "a number",
        }[field.kind]
        if isinstance(raw, str) and _NUMBER_RE.match(raw.strip()):
            raw = Decimal(raw.strip())  # registry exports write numbers as text too
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
            if isinstance(raw, float):  # only reachable for data built in Python
                raw = Decimal(repr(raw))
            else:
                self.wrong(path, expected, raw)
                return None
        number = Decimal(raw)
        if not number.is_finite():
            self.wrong(path, expected, raw)
            return None
        if number.adjusted() >= MAX_DIGITS:
            bounds = Text(zh=f"最多 {MAX_DIGITS} 位整数", en=f"at most {MAX_DIGITS} digits before the point")
            self.report("record/out-of-range", path, {"value": raw, "bounds": bounds})
            return None
        value: int | Decimal
        if field.kind == "int":
            if number != number.to_integral_value():
                self.wrong(path, expected, raw)
                return None
            value = int(number)
        else:
            exponent = number.normalize().as_tuple().exponent
            if field.kind == "money" and isinstance(exponent, int) and exponent < -2:
                self.report("record/inexact-number", path, {"value": raw, "places": 2})
                return None
            value = number
        return self.in_range(value, field, path, str(raw))

    def in_range(self, value: Any, field: FieldSpec, path: DataPath, shown: str) -> object | None:
        low, high = field.min, field.max
        if (low is not None and value < low) or (high is not None and value > high):
            unit = f" {field.unit}" if field.unit else ""
            if low is not None and high is not None:
                bounds = Text(zh=f"应在 {low} 到 {high}{unit} 之间", en=f"from {low} to {high}{unit}")
            elif low is not None:
                bounds = Text(zh=f"应不小于 {low}{unit}", en=f"at least {low}{unit}")
            else:
                bounds = Text(zh=f"应不大于 {high}{unit}", en=f"at most {high}{unit}")
            self.report("record/out-of-range", path, {"value": shown, "bounds": bounds})
            return None
        result: object = value
        return result


def validate_record(
    data: object,
    schema: Schema,
    *,
    record: str | None = None,
    file: str = "<data>",
    line: int | None = None,
) -> tuple[Record | None, list[Diagnostic]]:
    """Validate one raw record (plain Python data) against `schema`."""

    def locate(path: DataPath) -> RecordLocation:
        return RecordLocation(file, line, path)

    checker = _Checker(schema, locate, locate)
    result = checker.record(data, schema.records[record or schema.root], DataPath())
    if result is not None:
        result.origin = RecordLocation(file, line)
    return result, checker.diagnostics


def _tree_locator(
    source: Source, tree_of: Callable[[], tuple[YNode | None, int]], line: int | None, base: DataPath
) -> tuple[Locate, Locate]:
    """Locators that find a data path's node in a (lazily parsed) YAML tree of the text."""
    cache: list[tuple[YNode | None, int]] = []

    def tree() -> tuple[YNode | None, int]:
        if not cache:
            cache.append(tree_of())
        return cache[0]

    def make(finder: Callable[[YNode | None, DataPath], YNode | None]) -> Locate:
        def locate(path: DataPath) -> RecordLocation:
            root, shift = tree()
            full = DataPath((*base, *path))
            node = finder(root, full) if root is not None else None
            if node is None:
                return RecordLocation(source.name, line, path)
            span = Span(source, node.span.start + shift, node.span.end + shift)
            return RecordLocation(source.name, span.line, path, span)

        return locate

    return make(_node_at), make(_key_at)


def load_record_file(
    path: Path, schema: Schema, *, record: str | None = None, name: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load every record of one file; on any error, return no records and all the diagnostics."""
    fmt = RECORD_SUFFIXES.get(path.suffix.lower())
    shown = name or str(path)
    if fmt is None:
        return (), [Diagnostic("io/unknown-format", None, {"path": shown})]
    source, problems = read_source(path, name=shown)
    if source is None:
        return (), problems
    return load_records(source, schema, fmt=fmt, record=record)


def load_records(
    source: Source, schema: Schema, *, fmt: str, record: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load the records in a text of format ``json``, ``jsonl`` or ``yaml``."""
    spec = schema.records[record or schema.root]
    diagnostics: list[Diagnostic] = []
    out: list[Record] = []
    items: list[tuple[object, int | None, Locate, Locate]] = []
    if fmt == "jsonl":
        for number, text in enumerate(source.text.split("\n"), start=1):
            if not text.strip():
                continue
            start = source.offset(number, 1)
            try:
                data = _json_loads(text)
            except (ValueError, RecursionError) as err:
                diagnostics.append(_json_error(source, err, start, number, text))
                continue

            loc, key_loc = _tree_locator(source, _line_tree(source.name, text, start), number, DataPath())
            items.append((data, number, loc, key_loc))
    else:
        whole: YNode | None = None
        if fmt == "json":
            try:
                data = _json_loads(source.text)
            except (ValueError, RecursionError) as err:
                return (), [_json_error(source, err, 0, None, source.text)]

            tree_of = _line_tree(source.name, source.text, 0)
        else:
            whole, problems = load_yaml(source)
            if whole is None or any(d.is_error for d in problems):
                return (), problems
            data = _yaml_plain(whole)
            tree_of = _fixed_tree(whole)

        if isinstance(data, list):
            for index, item in enumerate(data):
                loc, key_loc = _tree_locator(source, tree_of, None, DataPath([index]))
                items.append((item, None, loc, key_loc))
        elif isinstance(data, dict):
            loc, key_loc = _tree_locator(source, tree_of, None, DataPath())
            items.append((data, None, loc, key_loc))
        else:
            diagnostics.append(
                Diagnostic(
                    "record/not-a-list", RecordLocation(source.name, 1), {"found": describe_value(data)}
                )
            )
    if len(items) > MAX_RECORDS:
        return (), [Diagnostic("record/too-many", RecordLocation(source.name, None), {"limit": MAX_RECORDS})]
    key = spec.key
    first_seen: dict[object, Locate] = {}
    for data, line, loc, key_loc in items:
        checker = _Checker(schema, loc, key_loc, refuse_gathered=True)
        result = checker.record(data, spec, DataPath())
        diagnostics.extend(checker.diagnostics)
        if result is None:
            continue
        # the line of the record: known for JSONL and YAML; a JSON file is parsed for positions
        # only when a problem needs one, so its records carry the file alone
        origin_line = loc(DataPath()).line if line is None and fmt == "yaml" else line
        result.origin = RecordLocation(source.name, origin_line)
        if key is not None and key in result:
            ident = result[key]
            if ident in first_seen:
                diagnostics.append(
                    Diagnostic(
                        "record/duplicate-id",
                        loc(DataPath([key])),
                        {"what": spec.title, "id": ident, "first": _file_line(first_seen[ident](DataPath()))},
                    )
                )
                continue
            first_seen[ident] = loc
        out.append(result)
    if any(d.is_error for d in diagnostics):
        return (), diagnostics
    return tuple(out), diagnostics


def _file_line(where: RecordLocation) -> str:
    return where.file if where.line is None else f"{where.file}:{where.line}"


def _line_tree(name: str, text: str, start: int) -> Callable[[], tuple[YNode | None, int]]:
    """Parse `text` (JSON is YAML) when a location is first needed; offsets shift by `start`."""

    cache: list[tuple[YNode | None, int]] = []

    def tree_of() -> tuple[YNode | None, int]:
        if not cache:  # parsed once per text, however many records need a location
            tree, _ = load_yaml(Source(name, text))
            cache.append((tree, start))
        return cache[0]

    return tree_of


def _fixed_tree(tree: YNode) -> Callable[[], tuple[YNode | None, int]]:
    def tree_of() -> tuple[YNode | None, int]:
        return tree, 0

    return tree_of


def _json_error(source: Source, err: Exception, start: int, line: int | None, text: str) -> Diagnostic:
    if isinstance(err, RecursionError):
        problem = Text(zh="嵌套层数过深", en="nesting too deep")
        return Diagnostic("record/json-syntax", RecordLocation(source.name, line), {"problem": problem})
    if isinstance(err, _ConstantError):
        found = re.search(r"(?<![\w\"])-?(?:NaN|Infinity)(?![\w\"])", text)
        if found is not None:
            offset = start + found.start()
            span = Span(source, offset, start + found.end())
            return Diagnostic(
                "record/json-syntax",
                RecordLocation(source.name, span.line, DataPath(), span),
                {"problem": str(err)},
            )
    if isinstance(err, json.JSONDecodeError):
        offset = start + err.pos
        span = Span(source, offset, min(offset + 1, len(source.text)))
        return Diagnostic(
            "record/json-syntax",
            RecordLocation(source.name, span.line, DataPath(), span),
            {"problem": err.msg.lower()},
        )
    return Diagnostic("record/json-syntax", RecordLocation(source.name, line), {"problem": str(err)})


def load_records_from(
    paths: Sequence[Path], schema: Schema, *, record: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load several files of records of type `record` (default: the root, households); ids must
    be unique across all of them."""
    records: list[Record] = []
    diagnostics: list[Diagnostic] = []
    spec = schema.records[record or schema.root]
    seen: dict[object, str] = {}
    for path in paths:
        found, problems = load_record_file(path, schema, record=record)
        diagnostics.extend(problems)
        for rec in found:
            if spec.key is not None and spec.key in rec:
                ident = rec[spec.key]
                where = rec.origin.header() if rec.origin else str(path)
                if ident in seen:
                    diagnostics.append(
                        Diagnostic(
                            "record/duplicate-id",
                            rec.origin,
                            {"what": spec.title, "id": ident, "first": seen[ident]},
                        )
                    )
                    continue
                seen[ident] = where
            records.append(rec)
    if any(d.is_error for d in diagnostics):
        return (), diagnostics
    return tuple(records), diagnostics
