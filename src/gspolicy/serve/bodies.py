"""Request bodies read as the record files are read: JSON with exact numbers, every problem located.

A body is decoded by the record reader's JSON decoder (`gspolicy.schema.record_text`: numbers
exact and bounded, keys given twice remembered, ``NaN`` refused, a syntax error located at its
line and column); its members are checked against what the endpoint takes; its records are
checked by the record reader's `Checker` against the policy set's schema, each problem located in
the body (``request:3:17: record/unknown-field: households[2].members[0].brith_date: …``).
Nothing here knows HTTP: a problem is a `BadRequest` holding diagnostics and the status to answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation, Source
from gspolicy._yaml import describe_value
from gspolicy.errors import Diagnostic, suggest
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.record_text import BadNumber, Locate, json_error, json_loads, json_locator
from gspolicy.schema.validate import Checker

__all__ = [
    "BATCH_LIMIT",
    "DEPTH_LIMIT",
    "REQUEST",
    "BadRequest",
    "Body",
    "Member",
    "parse_body",
]

REQUEST = "request"
"""The name a body goes by in diagnostics (``request:1:12: …``)."""

BATCH_LIMIT = 5_000
"""The most records one list of a request may hold."""

DEPTH_LIMIT = 32
"""The deepest a request may nest lists and objects (a household nests four or five levels)."""


class BadRequest(Exception):  # a request refused, not a failure of the server
    """A request refused: the HTTP status to answer and the located problems."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(", ".join(d.code for d in diagnostics))
        self.status = status
        self.diagnostics = tuple(diagnostics)


@attrs.frozen
class Member:
    """A member of a request object: its kind and what it is for (words for the help line)."""

    kind: str  # "record", "records", "date", "detail", "text", "texts"
    what: Text
    required: bool = False


_EXPECTED = {
    "record": Text(zh="一条记录（JSON 对象）", en="one record (a JSON object)"),
    "records": Text(zh="记录列表（JSON 数组）", en="a list of records (a JSON array)"),
    "date": Text(zh="ISO 格式日期文本，如 `2018-12-31`", en="a date as ISO text, such as `2018-12-31`"),
    "detail": Text(zh="`fails`、`brief` 或 `full`", en="`fails`, `brief` or `full`"),
    "text": Text(zh="文本", en="a text"),
    "texts": Text(zh="由文本到文本的映射", en="a mapping of texts to texts"),
}

_DETAILS = ("fails", "brief", "full")


@attrs.frozen
class Body:
    """A body read: its members as decoded, and locators into its text."""

    endpoint: str
    data: Mapping[str, Any]
    locate: Locate
    key_locate: Locate

    def problem(self, code: str, path: Sequence[str | int], args: Mapping[str, object]) -> Diagnostic:
        return Diagnostic(code, self.locate(DataPath(path)), dict(args))

    def date(self, name: str) -> dt.date | None:
        """The member `name` as a date (None when absent); `BadRequest` when it is not one."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str) and len(value) <= 40:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        shown = value if isinstance(value, str) else describe_value(_plain(value)).en
        raise BadRequest(422, [self.problem("api/bad-date", [name], {"value": str(shown)[:40]})])

    def records(self, name: str, schema: Schema, kind: str) -> tuple[Record, ...]:
        """The records of list member `name` checked against `schema` (each problem located in the
        body); `BadRequest` with every problem when any record is bad."""
        items = self.data.get(name)
        if items is None:
            return ()
        return self._checked([(DataPath([name, i]), item) for i, item in enumerate(items)], schema, kind)

    def record(self, name: str, schema: Schema, kind: str) -> Record:
        """The single record of member `name`, checked as `records` checks each."""
        return self._checked([(DataPath([name]), self.data[name])], schema, kind)[0]

    def _checked(
        self, items: Sequence[tuple[DataPath, object]], schema: Schema, kind: str
    ) -> tuple[Record, ...]:
        checker = Checker(schema, self.locate, self.key_locate)
        spec = schema.records[kind]
        found: list[Record] = []
        for path, item in items:
            record = checker.record(item, spec, path)
            if record is not None:
                record.origin = RecordLocation(REQUEST, None, path)
                found.append(record)
        if checker.diagnostics:
            raise BadRequest(422, checker.diagnostics)
        return tuple(found)


def _plain(value: object) -> object:
    return str(value) if isinstance(value, BadNumber) else value


def _depth(value: object) -> int:
    """How deep `value` nests lists and objects (iteratively: a body can be deep)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
        if deepest > DEPTH_LIMIT:
            break
    return deepest


def parse_body(raw: bytes, endpoint: str, members: Mapping[str, Member]) -> Body:
    """Decode `raw` as a JSON object and check its members against `members` (names, kinds,
    required ones, list lengths); `BadRequest` (400 for text that is not JSON, 422 for a JSON
    object of the wrong shape) naming every problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, [Diagnostic("serve/not-json", RecordLocation(REQUEST, None))]) from None
    source = Source(REQUEST, text)
    try:
        data = json_loads(text)
    except (ValueError, RecursionError) as err:
        raise BadRequest(400, [json_error(source, err, 0, None, text)]) from None
    locate, key_locate = json_locator(source, 0, None)
    if not isinstance(data, dict):
        where = RecordLocation(REQUEST, 1)
        raise BadRequest(
            422, [Diagnostic("serve/not-an-object", where, {"found": describe_value(_plain(data))})]
        )
    depth = _depth(data)
    if depth > DEPTH_LIMIT:
        where = RecordLocation(REQUEST, 1)
        raise BadRequest(
            400, [Diagnostic("serve/too-deep", where, {"depth": f"{depth}+", "limit": DEPTH_LIMIT})]
        )
    body = Body(endpoint, data, locate, key_locate)
    problems = _member_problems(body, members)
    if problems:
        raise BadRequest(422, problems)
    return body


def _member_problems(body: Body, members: Mapping[str, Member]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    data = body.data
    known = ", ".join(f"`{m}`" for m in members)
    for key in getattr(data, "duplicates", ()):
        problems.append(Diagnostic("record/duplicate-key", body.key_locate(DataPath([key])), {"key": key}))
    for name, value in data.items():
        member = members.get(name)
        if member is None:
            where = attrs.evolve(body.key_locate(DataPath([name])), path=DataPath())  # the key is named
            problems.append(
                Diagnostic(
                    "serve/unknown-member",
                    where,
                    {"name": str(name)[:40], "endpoint": body.endpoint, "known": known},
                    suggestions=suggest(str(name), list(members)),
                )
            )
            continue
        if not _fits(member.kind, value):
            wrong = {"expected": _EXPECTED[member.kind], "found": describe_value(_plain(value))}
            problems.append(body.problem("serve/bad-member", [name], wrong))
        elif member.kind == "records" and len(value) > BATCH_LIMIT:
            many = {"name": name, "count": len(value), "limit": BATCH_LIMIT}
            problems.append(body.problem("serve/too-many", [name], many))
    if data.get("household") is not None and data.get("households") is not None:
        problems.append(body.problem("serve/both-members", ["households"], {}))
    for name, member in members.items():
        if member.required and data.get(name) is None and not _one_of_given(name, data):
            where = RecordLocation(REQUEST, 1)
            problems.append(
                Diagnostic(
                    "serve/missing-member",
                    where,
                    {"name": name, "endpoint": body.endpoint, "what": member.what},
                )
            )
    return problems


def _one_of_given(name: str, data: Mapping[str, Any]) -> bool:
    """`household` and `households` stand for each other: one of them is required."""
    other = {"household": "households", "households": "household"}.get(name)
    return other is not None and data.get(other) is not None


def _fits(kind: str, value: object) -> bool:
    if value is None:
        return True
    if kind == "record":
        return isinstance(value, dict)
    if kind == "records":
        return isinstance(value, list)
    if kind == "detail":
        return value in _DETAILS
    if kind == "texts":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, str)  # "date" is checked as a date when read; "text"
