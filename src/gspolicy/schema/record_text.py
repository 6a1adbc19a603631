"""Read record text as plain data, and locate a data path in it.

JSON with exact numbers and the keys it saw twice remembered, YAML with integers kept as written,
and the span of the value or key at a data path (scanned in the JSON text only when a problem needs
it)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source, Span
from gspolicy._numbers import within_limits
from gspolicy._yaml import YMap, YNode, YScalar, YSeq
from gspolicy.errors import Diagnostic

__all__ = [
    "JSON_DECODER",
    "BadNumber",
    "Locate",
    "Pairs",
    "YamlInt",
    "json_error",
    "json_loads",
    "json_locator",
    "plain_data",
    "short_text",
    "skip_space",
    "tree_locator",
    "yaml_plain",
]


class YamlInt(int):
    """An integer read from YAML that remembers how it was written (``0123`` stays ``0123``)."""

    text: str


Locate = Callable[[DataPath], RecordLocation]


class Pairs(dict[str, Any]):
    """A JSON object that remembers the keys it saw twice."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> Pairs:
    out = Pairs()
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


def short_text(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


class BadNumber:
    """A JSON number outside the limits of `gspolicy._numbers`, kept as written (never converted:
    `1e99999999999999999999` does not fit a `Decimal`, 5,000 digits not an `int` worth holding)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return short_text(self.text)


def _json_float(text: str) -> Decimal | BadNumber:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return BadNumber(text)
    return number if within_limits(number) else BadNumber(text)


def _json_int(text: str) -> int | BadNumber:
    if len(text) > 60:  # far beyond 10^40: not converted at all
        return BadNumber(text)
    number = int(text)
    return number if within_limits(number) else BadNumber(text)


JSON_DECODER = json.JSONDecoder(
    parse_float=_json_float,
    parse_int=_json_int,
    object_pairs_hook=_pairs_hook,
    parse_constant=_reject_constant,
)


def json_loads(text: str) -> Any:
    return JSON_DECODER.decode(text)


def yaml_plain(node: YNode) -> Any:
    if isinstance(node, YMap):
        out = Pairs()
        out.duplicates = []
        for k, v in node.items:
            out[str(k.value) if not isinstance(k.value, str) else k.value] = yaml_plain(v)
        return out
    if isinstance(node, YSeq):
        return [yaml_plain(v) for v in node.items]
    assert isinstance(node, YScalar)
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        number = YamlInt(node.value)
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


def tree_locator(
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


def skip_space(text: str, pos: int) -> int:
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
    pos = skip_space(text, pos + 1)
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
            value = skip_space(text, skip_space(text, key.end()) + 1)
            yield name, key.start(), key.end(), value
        else:
            value = pos
            yield index, pos, pos, value
            index += 1
        pos = skip_space(text, _value_end(text, value))
        if pos < len(text) and text[pos] == ",":
            pos = skip_space(text, pos + 1)
        else:
            return


def _json_find(text: str, start: int, path: DataPath) -> tuple[tuple[int, int] | None, tuple[int, int]]:
    """The key span (of the last part, if it names a key) and the value span at `path` below the
    value at `start`; where the path leaves the data, the deepest value it reaches.  A key given
    twice is found at its last repetition (the value JSON keeps)."""
    pos = skip_space(text, start)
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


def json_locator(source: Source, start: int, line: int | None) -> tuple[Locate, Locate]:
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


def plain_data(data: object) -> object:
    """A record as read, as plain JSON-ready data (the decoder's own types undone)."""
    if isinstance(data, Mapping):
        return {str(k): plain_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain_data(v) for v in data]
    if isinstance(data, BadNumber):
        return str(data)
    if isinstance(data, Decimal | dt.date):
        return str(data)
    return data


def json_error(source: Source, err: Exception, start: int, line: int | None, text: str) -> Diagnostic:
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
