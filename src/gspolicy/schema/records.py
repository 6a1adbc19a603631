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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from gspolicy._files import read_bytes, read_source
from gspolicy._gc import collector_paused
from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source, Span
from gspolicy._messages import noun
from gspolicy._numbers import LIMIT_TEXT, within_limits
from gspolicy._patterns import DATE_RE
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, describe_value, load_yaml
from gspolicy.errors import Diagnostic, suggest
from gspolicy.schema.model import (
    AGE_RECORDED_ON,
    BIRTH_DATE,
    RECORDED_AGE,
    FieldSpec,
    Record,
    RecordSpec,
    Schema,
)

__all__ = [
    "RECORD_SUFFIXES",
    "IdLedger",
    "Loaded",
    "Refused",
    "file_blocks",
    "jsonl_sources",
    "load_items",
    "load_jsonl_source",
    "load_record_file",
    "load_records",
    "load_records_skipping",
    "stream_records",
    "validate_record",
]

RECORD_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
"""Registry tables (households, members, support items; `gspolicy.schema.tabular`)."""
MAX_RECORDS = 5_000_000
"""The most records one file may hold."""
_LONGEST_NUMBER = 60  # characters of a number written as text that are worth reading as a number
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


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


class _BadNumber:
    """A JSON number outside the limits of `gspolicy._numbers`, kept as written (never converted:
    `1e99999999999999999999` does not fit a `Decimal`, 5,000 digits not an `int` worth holding)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return _short(self.text)


def _json_float(text: str) -> Decimal | _BadNumber:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return _BadNumber(text)
    return number if within_limits(number) else _BadNumber(text)


def _json_int(text: str) -> int | _BadNumber:
    if len(text) > 60:  # far beyond 10^40: not converted at all
        return _BadNumber(text)
    number = int(text)
    return number if within_limits(number) else _BadNumber(text)


_DECODER = json.JSONDecoder(
    parse_float=_json_float,
    parse_int=_json_int,
    object_pairs_hook=_pairs_hook,
    parse_constant=_reject_constant,
)


def _json_loads(text: str) -> Any:
    return _DECODER.decode(text)


MAX_TEXT = 1_000
"""The longest text a record field may hold."""
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _text_problem(text: str) -> Text | None:
    """What makes a text unusable in a record: a control character, a lone surrogate (what a
    broken `\\ud800` escape gives) or more than `MAX_TEXT` characters."""
    if len(text) > MAX_TEXT:
        return Text(
            zh=f"文本长 {len(text)} 个字符，超过上限 {MAX_TEXT}",
            en=f"is {len(text)} characters long, more than {MAX_TEXT}",
        )
    if text.isascii() and text.isprintable():
        return None
    found = _CONTROL.search(text)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    if "\ud800" <= found.group() <= "\udfff":
        return Text(
            zh=f"含有孤立的代理字符 {code}（不是字符）",
            en=f"holds a lone surrogate {code}, which is not a character",
        )
    return Text(zh=f"含有控制字符 {code}", en=f"holds the control character {code}")


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
        fields = spec.fields
        for key, raw in data.items():
            field = fields.get(key)
            if field is None:
                # (a field's name is clean text: only a key that is not one is checked)
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    self.report("record/bad-text", path, {"problem": problem})
                    ok = False
                    continue
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
        for name, field in _constrained(spec):
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
        if ok:
            ok = self.implied_birth(values, spec, path)
        return Record(spec.name, values) if ok else None

    def implied_birth(self, values: Mapping[str, object], spec: RecordSpec, path: DataPath) -> bool:
        """An age recorded on a date implies a birth date: it may not fall before the earliest
        birth date the schema allows (nor outside the calendar)."""
        birth = spec.fields.get(BIRTH_DATE)
        age, on = values.get(RECORDED_AGE), values.get(AGE_RECORDED_ON)
        if birth is None or not isinstance(age, int) or not isinstance(on, dt.date):
            return True
        earliest = birth.min if isinstance(birth.min, dt.date) else dt.date(dt.MINYEAR, 1, 1)
        # born `age` years before the recording at the latest: that day may not be before `earliest`
        if (on.year - age, on.month, on.day) >= (earliest.year, earliest.month, earliest.day):
            return True
        self.report(
            "record/implied-birth",
            path.child(RECORDED_AGE),
            {"age": age, "on": on.isoformat(), "earliest": earliest.isoformat()},
        )
        return False

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
            elif isinstance(raw, str) and DATE_RE.match(raw.strip()):
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
            problem = _text_problem(raw)
            if problem is not None:
                self.report("record/bad-text", path, {"problem": problem})
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
                code = enum.canonical(raw)  # a code, label or alias is clean text
                if code is not None:
                    return code
                problem = _text_problem(raw)
                if problem is not None:
                    self.report("record/bad-text", path, {"problem": problem})
                    return None
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
        expected = _EXPECTED_NUMBER[field.kind]
        if isinstance(raw, str) and len(raw) <= _LONGEST_NUMBER and _NUMBER_RE.match(raw.strip()):
            raw = Decimal(raw.strip())  # registry exports write numbers as text too
        if isinstance(raw, _BadNumber) or (isinstance(raw, str) and _NUMBER_RE.match(raw.strip())):
            # a number beyond the limits (a short one written as text was read just above)
            self.report("record/out-of-range", path, {"value": _short(str(raw)), "bounds": LIMIT_TEXT})
            return None
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
        if not within_limits(number):
            self.report("record/out-of-range", path, {"value": _short(str(raw)), "bounds": LIMIT_TEXT})
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
    source: Source, tree_of: Callable[[], YNode | None], line: int | None, base: DataPath
) -> tuple[Locate, Locate]:
    """Locators that find a data path's node in the YAML tree of the text."""

    def make(finder: Callable[[YNode | None, DataPath], YNode | None]) -> Locate:
        def locate(path: DataPath) -> RecordLocation:
            root = tree_of()
            full = DataPath((*base, *path))
            node = finder(root, full) if root is not None else None
            if node is None:
                return RecordLocation(source.name, line, path)
            return RecordLocation(source.name, node.span.line, path, node.span)

        return locate

    return make(_node_at), make(_key_at)


# -- locating inside JSON -------------------------------------------------------------------------
# A record read from JSON is located by scanning its own text (one line of JSONL, one item of a
# JSON list), only when a problem needs a position: the text is valid JSON by then, so a few
# regular expressions find the value at a data path without building anything.

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^\s,\]}:]+")
_NESTED = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _skip(text: str, pos: int) -> int:
    found = _WS.match(text, pos)
    return found.end() if found else pos


def _value_end(text: str, pos: int) -> int:
    """Where the JSON value starting at `pos` ends."""
    if pos >= len(text):
        return pos
    char = text[pos]
    if char == '"':
        found = _STRING.match(text, pos)
        return found.end() if found else len(text)
    if char in "[{":
        depth = 0
        for token in _NESTED.finditer(text, pos):
            mark = token.group()
            if mark in "[{":
                depth += 1
            elif mark in "]}":
                depth -= 1
                if depth == 0:
                    return token.end()
        return len(text)
    found = _SCALAR.match(text, pos)
    return found.end() if found else pos + 1


def _members(text: str, pos: int) -> Iterable[tuple[str | int, int, int, int]]:
    """The members of the object or array at `pos`: (key or index, key start, key end, value start)."""
    opening = text[pos]
    pos = _skip(text, pos + 1)
    index = 0
    while pos < len(text) and text[pos] not in "]}":
        if opening == "{":
            key = _STRING.match(text, pos)
            if key is None:
                return
            try:
                name: str | int = json.loads(key.group())
            except ValueError:
                return
            value = _skip(text, _skip(text, key.end()) + 1)
            yield name, key.start(), key.end(), value
        else:
            value = pos
            yield index, pos, pos, value
            index += 1
        pos = _skip(text, _value_end(text, value))
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        else:
            return


def _json_find(text: str, start: int, path: DataPath) -> tuple[tuple[int, int] | None, tuple[int, int]]:
    """The key span (of the last part, if it names a key) and the value span at `path` below the
    value at `start`; where the path leaves the data, the deepest value it reaches.  A key given
    twice is found at its last repetition (the value JSON keeps)."""
    pos = _skip(text, start)
    key: tuple[int, int] | None = None
    for part in path:
        if pos >= len(text) or text[pos] not in "[{" or (text[pos] == "{") != isinstance(part, str):
            return None, (pos, _value_end(text, pos))
        found = None
        for name, key_start, key_end, value in _members(text, pos):
            if name == part:
                found = (key_start, key_end, value)
                if isinstance(part, int):
                    break
        if found is None:
            return None, (pos, _value_end(text, pos))
        key = (found[0], found[1]) if isinstance(part, str) else None
        pos = found[2]
    return key, (pos, _value_end(text, pos))


def _json_locator(source: Source, start: int, line: int | None) -> tuple[Locate, Locate]:
    """Locators for the record whose JSON text starts at `start` of `source`."""

    def span(first: int, last: int) -> Span:
        return Span(source, first, max(first, last))

    def locate(path: DataPath) -> RecordLocation:
        _, (first, last) = _json_find(source.text, start, path)
        where = span(first, last)
        return RecordLocation(source.name, where.line, path, where)

    def key_locate(path: DataPath) -> RecordLocation:
        key, (first, last) = _json_find(source.text, start, path)
        if key is None and len(path) > 0:
            key, (first, last) = _json_find(source.text, start, DataPath(path[:-1]))
            key = None
        where = span(*key) if key is not None else span(first, last)
        return RecordLocation(source.name, where.line, path, where)

    return locate, key_locate


def load_record_file(
    path: Path, schema: Schema, *, record: str | None = None, name: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load every record of one file; on any error, return no records and all the diagnostics."""
    loaded = _load_file(path, schema, record=record, name=name)
    return loaded.records, loaded.diagnostics


def _load_file(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    name: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
) -> Loaded:
    suffix = path.suffix.lower()
    fmt = RECORD_SUFFIXES.get(suffix) or ("table" if suffix in TABLE_SUFFIXES else None)
    shown = name or str(path)
    if fmt is None:
        return Loaded((), [Diagnostic("io/unknown-format", None, {"path": shown})], 0, 0, True)
    if fmt == "table":
        # Polars reads registry tables; imported only when one is given
        from gspolicy.schema.tabular import read_tables  # noqa: PLC0415

        items, problems = read_tables(path, schema, record=record, name=shown, encoding=encoding)
        if items is None:
            return Loaded((), problems, 0, 0, True)
        with collector_paused():
            loaded = _load(
                Source(shown, ""),
                schema,
                fmt=fmt,
                record=record,
                keep_refused=keep_refused,
                items=iter(items),
            )
        return attrs.evolve(loaded, diagnostics=[*problems, *loaded.diagnostics])
    source, problems = read_source(path, name=shown)
    if source is None:
        return Loaded((), problems, 0, 0, True)
    with collector_paused():  # records are acyclic: see gspolicy._gc
        return _load(source, schema, fmt=fmt, record=record, keep_refused=keep_refused)


_Item = tuple[object, int | None, Locate, Locate]


def _jsonl_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    text = source.text
    pos = 0
    number = source.first_line - 1
    while pos < len(text):
        newline = text.find("\n", pos)
        stop = len(text) if newline == -1 else newline
        number += 1
        line = text[pos:stop]
        if line.strip():
            try:
                data = _json_loads(line)
            except (ValueError, RecursionError) as err:
                diagnostics.append(_json_error(source, err, pos, number, line))
            else:
                loc, key_loc = _json_locator(source, pos, number)
                yield data, number, loc, key_loc
        pos = stop + 1


def _json_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    """The records of a JSON document — a list of records, or one record — decoded item by item,
    so that each knows where its text starts (for its line and for locating its problems)."""
    text = source.text
    pos = _skip(text, 0)
    try:
        if pos < len(text) and text[pos] == "[":
            pos = _skip(text, pos + 1)
            if pos < len(text) and text[pos] == "]":
                pos = _skip(text, pos + 1)
            else:
                while True:
                    data, end = _DECODER.raw_decode(text, pos)
                    loc, key_loc = _json_locator(source, pos, None)
                    yield data, source.line_col(pos)[0], loc, key_loc
                    pos = _skip(text, end)
                    if pos < len(text) and text[pos] == ",":
                        pos = _skip(text, pos + 1)
                    elif pos < len(text) and text[pos] == "]":
                        pos = _skip(text, pos + 1)
                        break
                    else:
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        else:
            data, end = _DECODER.raw_decode(text, pos)
            if not isinstance(data, dict):
                diagnostics.append(
                    Diagnostic(
                        "record/not-a-list", RecordLocation(source.name, 1), {"found": describe_value(data)}
                    )
                )
                return
            loc, key_loc = _json_locator(source, pos, None)
            yield data, source.line_col(pos)[0], loc, key_loc
            pos = _skip(text, end)
        if pos < len(text):
            raise json.JSONDecodeError("Extra data", text, pos)
    except (ValueError, RecursionError) as err:
        diagnostics.append(_json_error(source, err, 0, None, text))


def _yaml_items(source: Source, diagnostics: list[Diagnostic]) -> Iterator[_Item]:
    whole, problems = load_yaml(source)
    diagnostics.extend(problems)
    if whole is None or any(d.is_error for d in problems):
        return

    def tree_of() -> YNode | None:
        return whole

    if isinstance(whole, YSeq):
        # each record converted to plain data only when it is validated, then let go
        for index, node in enumerate(whole.items):
            loc, key_loc = _tree_locator(source, tree_of, None, DataPath([index]))
            yield _yaml_plain(node), node.span.line, loc, key_loc
    elif isinstance(whole, YMap):
        loc, key_loc = _tree_locator(source, tree_of, None, DataPath())
        yield _yaml_plain(whole), whole.span.line, loc, key_loc
    else:
        found = describe_value(_yaml_plain(whole))
        diagnostics.append(Diagnostic("record/not-a-list", RecordLocation(source.name, 1), {"found": found}))


_NON_BLANK_LINE = re.compile(r"^[ \t\r\f\v]*[^\s]", re.MULTILINE)


def _too_many(source: Source, fmt: str) -> bool:
    """Whether a JSONL text holds more than `MAX_RECORDS` records, counted before any is read."""
    if fmt != "jsonl" or source.text.count("\n") < MAX_RECORDS:
        return False
    return any(count > MAX_RECORDS for count, _ in enumerate(_NON_BLANK_LINE.finditer(source.text), start=1))


def load_records(
    source: Source, schema: Schema, *, fmt: str, record: str | None = None
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load the records in a text of format ``json``, ``jsonl`` or ``yaml``.

    Each record is decoded, validated and let go before the next (nothing but the validated
    records is kept); more than `MAX_RECORDS` records are refused as soon as they are counted.
    """
    with collector_paused():  # records are acyclic: see gspolicy._gc
        loaded = _load(source, schema, fmt=fmt, record=record)
    return loaded.records, loaded.diagnostics


@attrs.frozen
class Refused:
    """A record left out by `load_records_skipping`: where it was, what was read (the decoded
    record, or the line's text when it is not JSON) and its problems."""

    file: str
    line: int | None
    data: object
    problems: tuple[Diagnostic, ...]


@attrs.frozen
class Loaded:
    """The records of a file, or of a block of it, as the validator read them."""

    records: tuple[Record, ...]
    diagnostics: list[Diagnostic]
    read: int  # records read from the file
    invalid: int  # records among them with a problem
    unreadable: bool  # the file could not be read as a whole (not found, bad JSON or YAML, too many)
    refused: tuple[Refused, ...] = ()  # with `keep_refused`: the records left out, each with its problems


def _load(
    source: Source,
    schema: Schema,
    *,
    fmt: str,
    record: str | None,
    keep_refused: bool = False,
    items: Iterator[_Item] | None = None,
    streamed: bool = False,
) -> Loaded:
    spec = schema.records[record or schema.root]
    diagnostics: list[Diagnostic] = []
    too_many = Diagnostic("record/too-many", RecordLocation(source.name, None), {"limit": MAX_RECORDS})
    if not streamed and _too_many(source, fmt):
        return Loaded((), [too_many], 0, 0, True)
    readers = {"jsonl": _jsonl_items, "json": _json_items, "yaml": _yaml_items}
    out: list[Record] = []
    refused: list[Refused] = []
    key = spec.key
    first_seen: dict[object, Locate] = {}
    count = invalid = 0
    for data, line, loc, key_loc in items if items is not None else readers[fmt](source, diagnostics):
        count += 1
        if count > MAX_RECORDS and not streamed:
            return Loaded((), [too_many], 0, 0, True)
        checker = _Checker(schema, loc, key_loc, refuse_gathered=True)
        result = checker.record(data, spec, DataPath())
        diagnostics.extend(checker.diagnostics)
        if result is None:
            invalid += 1
            if keep_refused:
                refused.append(Refused(source.name, line, _plain_data(data), tuple(checker.diagnostics)))
            continue
        result.origin = RecordLocation(source.name, line)
        if key is not None and key in result:
            ident = result[key]
            if ident in first_seen:
                duplicate = Diagnostic(
                    "record/duplicate-id",
                    loc(DataPath([key])),
                    {"what": spec.title, "id": ident, "first": _file_line(first_seen[ident](DataPath()))},
                )
                diagnostics.append(duplicate)
                invalid += 1
                if keep_refused:
                    refused.append(Refused(source.name, line, _plain_data(data), (duplicate,)))
                continue
            first_seen[ident] = loc
        out.append(result)
    if any(d.is_error for d in diagnostics):
        # a syntax problem in JSONL spoils its line; in JSON or YAML the whole document
        if fmt == "jsonl":
            bad = {d.location.line: d for d in diagnostics if d.code == "record/json-syntax" and d.location}
            if keep_refused:
                refused.extend(
                    Refused(source.name, n, source.line_text(n), (d,))
                    for n, d in bad.items()
                    if n is not None
                )
                refused.sort(key=lambda r: r.line or 0)
                return Loaded(
                    tuple(out), diagnostics, count + len(bad), invalid + len(bad), False, tuple(refused)
                )
            return Loaded((), diagnostics, count + len(bad), invalid + len(bad), False)
        broken = any(
            d.code in ("record/json-syntax", "record/not-a-list") or d.code.startswith("yaml/")
            for d in diagnostics
        )
        if keep_refused and not broken:
            return Loaded(tuple(out), diagnostics, count, invalid, False, tuple(refused))
        return Loaded((), diagnostics, count, invalid, broken)
    return Loaded(tuple(out), diagnostics, count, 0, False)


STREAM_LINES = 4_096
_LINES = 1 << 48  # a file's lines, counted in one int with the file's index (`stream_records`)
"""Lines of a JSON Lines file read, checked and decided at a time (`stream_records`)."""


def stream_records(
    paths: Sequence[Path],
    schema: Schema,
    *,
    record: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
    lines: int | None = None,
) -> Iterator[tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic], bool]]:
    """The records of several files, a block at a time: (valid records, refused records — with
    `keep_refused` —, problems, whether a file could not be read as a whole).  A JSON Lines file
    is read `lines` lines at a time and registry tables a block of households at a time, so
    memory stays flat however long they are (they have no size or record limit); other files are
    read whole.  Ids must be unique across all files.  Without `keep_refused`, a block with a
    problem yields no records and its problems: the caller decides nothing when any block had one."""
    spec = schema.records[record or schema.root]
    ledger = IdLedger(spec)
    for path in paths:
        for loaded in file_blocks(
            path, schema, record=record, keep_refused=keep_refused, encoding=encoding, lines=lines
        ):
            records: list[Record] = []
            refused = list(loaded.refused)
            problems = list(loaded.diagnostics)
            for rec, duplicate in zip(
                loaded.records, ledger.admit_records(loaded.records, str(path)), strict=True
            ):
                if duplicate is not None:
                    problems.append(duplicate)
                    if keep_refused:
                        line = rec.origin.line if rec.origin else None
                        refused.append(Refused(str(path), line or None, rec.to_data(), (duplicate,)))
                    continue
                records.append(rec)
            if not keep_refused and any(d.is_error for d in problems):
                records = []
            yield tuple(records), tuple(refused), problems, loaded.unreadable


class IdLedger:
    """The id of every record admitted across the files of a run, each with where it was.

    Held compactly for a million households: runs of (hash, id, place) sorted by hash, merged as
    they grow (a place is the file's index and the line in one int), looked up by binary search
    a block of ids at a time."""

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self.runs: list[Any] = []  # Polars frames, each sorted by the ids' hashes
        self.files: list[str] = []
        self.file_index: dict[str, int] = {}

    def admit_records(self, records: Sequence[Record], default_file: str) -> list[Diagnostic | None]:
        """Admit records in order; for each, a `record/duplicate-id` diagnostic when its id was
        admitted before (then it is not admitted)."""
        key = self.spec.key
        entries: list[tuple[object, str, int, RecordLocation | None]] = []
        where: list[int] = []
        for index, rec in enumerate(records):
            if key is None or key not in rec:
                continue
            line = rec.origin.line if rec.origin and rec.origin.line is not None else 0
            entries.append((rec[key], rec.origin.file if rec.origin else default_file, line, rec.origin))
            where.append(index)
        out: list[Diagnostic | None] = [None] * len(records)
        for index, found in zip(where, self.admit(entries), strict=True):
            out[index] = found
        return out

    def admit(
        self, entries: Sequence[tuple[object, str, int, RecordLocation | None]]
    ) -> list[Diagnostic | None]:
        """Admit ids in order, each as (id, file, line, location — None: the file and line): for
        each, a duplicate diagnostic when the id was admitted before, by an earlier call or
        earlier in `entries`."""
        if not entries:
            return []
        import polars as pl  # noqa: PLC0415  # only for runs that admit ids

        for _ident, file, _line, _origin in entries:
            if file not in self.file_index:
                self.file_index[file] = len(self.files)
                self.files.append(file)
        texts = pl.Series("id", [str(e[0]) for e in entries], dtype=pl.String())
        batch = pl.DataFrame(
            {
                "h": texts.hash(),
                "id": texts,
                "at": pl.Series([self.file_index[e[1]] * _LINES + e[2] for e in entries], dtype=pl.Int64()),
            }
        )
        first_at: list[int | None] = [None] * len(entries)
        for run in self.runs:
            positions = run["h"].search_sorted(batch["h"], "left").clip(0, max(run.height - 1, 0))
            candidates = run[positions]
            hit = (candidates["h"] == batch["h"]) & (candidates["id"] == batch["id"])
            collide = (candidates["h"] == batch["h"]) & ~hit
            for i in hit.arg_true().to_list():
                first_at[i] = first_at[i] if first_at[i] is not None else candidates["at"][i]
            for i in collide.arg_true().to_list():  # two ids of one hash: look at every one
                same = run.filter((pl.col("h") == batch["h"][i]) & (pl.col("id") == batch["id"][i]))
                if same.height and first_at[i] is None:
                    first_at[i] = same["at"][0]
        earlier = batch.with_row_index("i").filter(~pl.col("id").is_first_distinct())
        if earlier.height:  # an id given twice in `entries`: the later ones refer to the first
            firsts = dict(batch.filter(pl.col("id").is_first_distinct()).select("id", "at").iter_rows())
            for i, ident in zip(earlier["i"].to_list(), earlier["id"].to_list(), strict=True):
                if first_at[i] is None:
                    first_at[i] = firsts[ident]
        admitted = pl.Series([at is None for at in first_at])
        self._add(batch.filter(admitted))
        out: list[Diagnostic | None] = []
        for (ident, file, line, origin), at in zip(entries, first_at, strict=True):
            if at is None:
                out.append(None)
                continue
            first_file, first_line = divmod(at, _LINES)
            first = f"{self.files[first_file]}:{first_line}" if first_line else self.files[first_file]
            where = origin if origin is not None else RecordLocation(file, line)
            out.append(
                Diagnostic(
                    "record/duplicate-id", where, {"what": self.spec.title, "id": ident, "first": first}
                )
            )
        return out

    def _add(self, batch: Any) -> None:
        if not batch.height:
            return
        self.runs.append(batch.sort("h"))
        # as a binary counter: runs of falling sizes, each id merged about log2(ids / block) times
        while len(self.runs) > 1 and self.runs[-2].height <= self.runs[-1].height:
            last = self.runs.pop()
            self.runs[-1] = self.runs[-1].merge_sorted(last, key="h").rechunk()


def file_blocks(
    path: Path,
    schema: Schema,
    *,
    record: str | None = None,
    keep_refused: bool = False,
    encoding: str = "utf-8",
    lines: int | None = None,
) -> Iterator[Loaded]:
    """The records of one file a block at a time (ids unique within a block only; see
    `stream_records`)."""
    if RECORD_SUFFIXES.get(path.suffix.lower()) == "jsonl":
        return _jsonl_blocks(path, schema, record, keep_refused, lines or STREAM_LINES)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _table_blocks(path, schema, record, keep_refused, encoding, lines or STREAM_LINES)
    return iter([_load_file(path, schema, record=record, keep_refused=keep_refused, encoding=encoding)])


def load_items(
    name: str, schema: Schema, items: Iterable[_Item], *, record: str | None = None
) -> tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic]]:
    """Validate records given as items (plain data and how to locate a problem in it, as the
    table reader nests them): the valid ones, the refused ones with their problems, and every
    problem (ids unique among these only)."""
    loaded = _load_items(name, schema, items, record=record, keep_refused=True)
    return loaded.records, loaded.refused, loaded.diagnostics


def _load_items(
    name: str, schema: Schema, items: Iterable[_Item], *, record: str | None, keep_refused: bool
) -> Loaded:
    with collector_paused():
        return _load(
            Source(name, ""),
            schema,
            fmt="table",
            record=record,
            keep_refused=keep_refused,
            items=iter(items),
            streamed=True,
        )


def _table_blocks(
    path: Path, schema: Schema, record: str | None, keep_refused: bool, encoding: str, size: int
) -> Iterator[Loaded]:
    """Registry tables a block of households at a time (`gspolicy.schema.tabular.table_blocks`)."""
    from gspolicy.schema.tabular import TableError, table_blocks  # noqa: PLC0415  # Polars only for tables

    shown = str(path)
    blocks, problems = table_blocks(path, schema, record=record, name=shown, encoding=encoding, size=size)
    if blocks is None:
        yield Loaded((), problems, 0, 0, True)
        return
    while True:
        try:
            items = next(blocks, None)
        except TableError as err:  # a row that cannot be read, met on the way
            yield Loaded((), [*problems, err.diagnostic], 0, 0, True)
            return
        if items is None:
            break
        loaded = _load_items(shown, schema, items, record=record, keep_refused=keep_refused)
        yield attrs.evolve(loaded, diagnostics=[*problems, *loaded.diagnostics])
        problems = []  # the tables' own notes once, with the first block


def _jsonl_blocks(
    path: Path, schema: Schema, record: str | None, keep_refused: bool, lines: int
) -> Iterator[Loaded]:
    """A JSON Lines file read `lines` lines at a time, each block checked as a text of its own
    that knows the file's line number of its first line."""
    for found in jsonl_sources(path, lines):
        if isinstance(found, Source):
            yield load_jsonl_source(found, schema, record=record, keep_refused=keep_refused)
        else:
            yield Loaded((), found, 0, 0, True)
            return


def jsonl_sources(path: Path, lines: int | None = None) -> Iterator[Source | list[Diagnostic]]:
    """A JSON Lines file as texts of `lines` lines (each a `Source` knowing the line number of
    its first line), or, last, the problems that stop reading it (not found, not UTF-8)."""
    shown = str(path)
    size = lines or STREAM_LINES
    if not path.is_file():  # not found, a folder, a device: `read_bytes` says which, opening nothing
        _data, problems = read_bytes(path, name=shown)
        yield problems or [Diagnostic("io/not-a-file", None, {"path": shown})]
        return
    first = 1
    try:
        handle = path.open("rb")
    except OSError as err:
        yield [Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})]
        return
    with handle:
        while True:
            block = [line for _, line in zip(range(size), handle, strict=False)]
            if not block:
                return
            raw = b"".join(block)
            if first == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                bad_line = first + raw[: err.start].count(b"\n")
                yield [
                    Diagnostic(
                        "io/not-utf8", RecordLocation(shown, bad_line), {"path": shown, "line": bad_line}
                    )
                ]
                return
            yield Source(shown, text, first_line=first)
            first += len(block)


def load_jsonl_source(
    source: Source, schema: Schema, *, record: str | None = None, keep_refused: bool = True
) -> Loaded:
    """The records of a block of JSON Lines (`jsonl_sources`), each problem at its line."""
    with collector_paused():
        return _load(source, schema, fmt="jsonl", record=record, keep_refused=keep_refused, streamed=True)


_EXPECTED_NUMBER = {
    "int": "a whole number",
    "money": "an amount of money",
    "ratio": "a ratio",
    "decimal": "a number",
}

_CONSTRAINED: dict[int, tuple[RecordSpec, tuple[tuple[str, FieldSpec], ...]]] = {}


def _constrained(spec: RecordSpec) -> tuple[tuple[str, FieldSpec], ...]:
    """The fields of `spec` with a constraint across fields (required, requires, not_before),
    worked out once per record type."""
    found = _CONSTRAINED.get(id(spec))
    if found is not None and found[0] is spec:
        return found[1]
    fields = tuple((n, f) for n, f in spec.fields.items() if f.required or f.requires or f.not_before)
    if len(_CONSTRAINED) > 256:
        _CONSTRAINED.clear()
    _CONSTRAINED[id(spec)] = (spec, fields)
    return fields


def _plain_data(data: object) -> object:
    """A record as read, as plain JSON-ready data (the decoder's own types undone)."""
    if isinstance(data, Mapping):
        return {str(k): _plain_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain_data(v) for v in data]
    if isinstance(data, _BadNumber):
        return str(data)
    if isinstance(data, Decimal | dt.date):
        return str(data)
    return data


def load_records_skipping(
    paths: Sequence[Path], schema: Schema, *, record: str | None = None, encoding: str = "utf-8"
) -> tuple[tuple[Record, ...], tuple[Refused, ...], list[Diagnostic]]:
    """Load several files of records, leaving out the records with problems instead of refusing
    the files: the valid records, the refused ones (each with its problems; a later record with
    an id seen before among them), and the problems that stop the run — a file that cannot be read
    as a whole (not found, a broken JSON or YAML document, too many records) gives no record.
    Read + refused = every record of the files: nothing is dropped silently."""
    records: list[Record] = []
    refused: list[Refused] = []
    fatal: list[Diagnostic] = []
    spec = schema.records[record or schema.root]
    seen: dict[object, str] = {}
    for path in paths:
        loaded = _load_file(path, schema, record=record, keep_refused=True, encoding=encoding)
        if loaded.unreadable:
            fatal.extend(loaded.diagnostics)
            continue
        fatal.extend(d for d in loaded.diagnostics if not d.is_error)
        refused.extend(loaded.refused)
        for rec in loaded.records:
            if spec.key is not None and spec.key in rec:
                ident = rec[spec.key]
                where = rec.origin.header() if rec.origin else str(path)
                if ident in seen:
                    duplicate = Diagnostic(
                        "record/duplicate-id",
                        rec.origin,
                        {"what": spec.title, "id": ident, "first": seen[ident]},
                    )
                    line = rec.origin.line if rec.origin else None
                    refused.append(Refused(str(path), line, rec.to_data(), (duplicate,)))
                    continue
                seen[ident] = where
            records.append(rec)
    return tuple(records), tuple(refused), fatal


def _file_line(where: RecordLocation) -> str:
    return where.file if where.line is None else f"{where.file}:{where.line}"


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
    paths: Sequence[Path], schema: Schema, *, record: str | None = None, encoding: str = "utf-8"
) -> tuple[tuple[Record, ...], list[Diagnostic]]:
    """Load several files of records of type `record` (default: the root, households); ids must
    be unique across all of them.  On any error no record is returned, and a last diagnostic
    says how many records were read and how many of them have problems (none is decided)."""
    records: list[Record] = []
    diagnostics: list[Diagnostic] = []
    spec = schema.records[record or schema.root]
    seen: dict[object, str] = {}
    read = invalid = unreadable = 0
    for path in paths:
        loaded = _load_file(path, schema, record=record, encoding=encoding)
        diagnostics.extend(loaded.diagnostics)
        read += loaded.read
        invalid += loaded.invalid
        unreadable += loaded.unreadable
        for rec in loaded.records:
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
                    invalid += 1
                    continue
                seen[ident] = where
            records.append(rec)
    if any(d.is_error for d in diagnostics):
        files = (
            Text(zh=f"，另有 {unreadable} 个文件无法读取", en=f", and {unreadable} file(s) could not be read")
            if unreadable
            else Text(zh="", en="")
        )
        diagnostics.append(
            Diagnostic("record/not-decided", None, {"count": read, "invalid": invalid, "files": files})
        )
        return (), diagnostics
    return tuple(records), diagnostics
