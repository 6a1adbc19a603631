"""Monitoring events: one JSON object per line, read with located diagnostics; a bad line is skipped.

Each line is ``{"date": "YYYY-MM-DD", "household": "<id>", "type": "<type>", …}``.  The types and
their fields (``member`` names a member id; optional fields in brackets):

==================== ===============================================================================
``new_identification`` ``record`` (the household's registration data) — status `newly_identified`
``income_report``      ``per_capita`` [``non_counting_transfers``, ``rigid_spending``]
``illness``            ``member`` [``severity``: ``serious`` (default) or ``chronic``]
``disability``         ``member`` [``grade``: 1–4]
``disaster``           [``housing_grade``: the grade after the disaster]
``member_added``       ``member``: the new member's data (with its ``id``)
``member_removed``     ``member``
``enrolment``          ``member`` [``stage``: a school stage]
``dropout``            ``member`` [``reason``]
``relocation``         ``stage`` [``resettlement``]
``insurance``          ``member``, ``insured`` (true or false): basic medical insurance
``exit``               — status `exited`, exited on the event date
``return``             — status `returned`, returned on the event date
``clock``              — no household: only moves the clock to the date
==================== ===============================================================================

Reading checks the shape of each line (`read_events`); the monitor checks what needs its state (a
known household and member, dates in order, the record still valid after the change).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._location import DataPath, RecordLocation
from gspolicy.errors import Diagnostic, suggest

__all__ = ["EVENT_TYPES", "Event", "read_events"]


@attrs.frozen
class _Kind:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    household: bool = True


EVENT_TYPES: Mapping[str, _Kind] = {
    "new_identification": _Kind(("record",)),
    "income_report": _Kind(("per_capita",), ("non_counting_transfers", "rigid_spending")),
    "illness": _Kind(("member",), ("severity",)),
    "disability": _Kind(("member",), ("grade",)),
    "disaster": _Kind((), ("housing_grade",)),
    "member_added": _Kind(("member",)),
    "member_removed": _Kind(("member",)),
    "enrolment": _Kind(("member",), ("stage",)),
    "dropout": _Kind(("member",), ("reason",)),
    "relocation": _Kind(("stage",), ("resettlement",)),
    "insurance": _Kind(("member", "insured")),
    "exit": _Kind(),
    "return": _Kind(),
    "clock": _Kind(household=False),
}
"""Every event type, with its required and optional fields."""

_COMMON = ("date", "household", "type")
_TEXTS = ("member", "severity", "housing_grade", "stage", "reason", "resettlement")
_NUMBERS = ("per_capita", "non_counting_transfers", "rigid_spending", "grade")


@attrs.frozen
class Event:
    """One event: its date, household (None for a clock event), type and fields, and where it was read."""

    date: dt.date
    household: str | None
    type: str
    data: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    file: str = "<events>"
    line: int = 0

    def where(self, field: str | None = None) -> RecordLocation:
        return RecordLocation(self.file, self.line, DataPath((field,)) if field else DataPath())


def _reject_constant(name: str) -> None:
    raise ValueError(f"`{name}` is not a number")


def _parse(raw: Mapping[str, Any], file: str, line: int) -> tuple[Event | None, list[Diagnostic]]:
    def where(field: str | None = None) -> RecordLocation:
        return RecordLocation(file, line, DataPath((field,)) if field else DataPath())

    problems: list[Diagnostic] = []
    kind_name = raw.get("type")
    if not isinstance(kind_name, str) or kind_name not in EVENT_TYPES:
        if kind_name is None:
            return None, [Diagnostic("monitor/missing-field", where(), {"type": "?", "field": "type"})]
        shown = str(kind_name)
        return None, [
            Diagnostic(
                "monitor/unknown-type",
                where("type"),
                {"type": shown, "types": ", ".join(f"`{t}`" for t in EVENT_TYPES)},
                suggestions=suggest(shown, EVENT_TYPES),
            )
        ]
    kind = EVENT_TYPES[kind_name]
    needed = ("date", "household", *kind.required) if kind.household else ("date", *kind.required)
    for field in needed:
        if field not in raw:
            problems.append(Diagnostic("monitor/missing-field", where(), {"type": kind_name, "field": field}))
    allowed = {*_COMMON, *kind.required, *kind.optional}
    for field in raw:
        if field not in allowed or (field == "household" and not kind.household):
            fields = ", ".join(
                f"`{f}`" for f in sorted(allowed - ({"household"} if not kind.household else set()))
            )
            problems.append(
                Diagnostic(
                    "monitor/unknown-field",
                    where(field),
                    {"type": kind_name, "field": field, "fields": fields},
                    suggestions=suggest(field, allowed),
                )
            )
    date: dt.date | None = None
    raw_date = raw.get("date")
    if raw_date is not None:
        try:
            date = dt.date.fromisoformat(str(raw_date)) if isinstance(raw_date, str) else None
        except ValueError:
            date = None
        if date is None:
            problems.append(_bad("date", "a date YYYY-MM-DD", raw_date, where))
    household = raw.get("household")
    if kind.household and household is not None and (not isinstance(household, str) or not household):
        problems.append(_bad("household", "a household id (a text)", household, where))
    for field in _NUMBERS:
        value = raw.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
            problems.append(_bad(field, "a number", value, where))
    for field in _TEXTS:
        value = raw.get(field)
        if field == "member" and kind_name == "member_added":
            if value is not None and (not isinstance(value, dict) or not isinstance(value.get("id"), str)):
                problems.append(_bad(field, "a member's data with its `id`", value, where))
        elif value is not None and not isinstance(value, str):
            problems.append(_bad(field, "a text", value, where))
    if "record" in raw and not isinstance(raw["record"], dict):
        problems.append(_bad("record", "a household's data (an object)", raw["record"], where))
    if "insured" in raw and not isinstance(raw["insured"], bool):
        problems.append(_bad("insured", "true or false", raw["insured"], where))
    if kind_name == "illness" and raw.get("severity", "serious") not in ("serious", "chronic"):
        problems.append(_bad("severity", "`serious` or `chronic`", raw.get("severity"), where))
    if problems or date is None:
        return None, problems
    data = {k: v for k, v in raw.items() if k not in _COMMON}
    return Event(date, household if kind.household else None, kind_name, data, file, line), []


def _bad(field: str, expected: str, found: object, where: Any) -> Diagnostic:
    shown = json.dumps(found, ensure_ascii=False, default=str)
    return Diagnostic(
        "monitor/bad-value", where(field), {"field": field, "expected": expected, "found": shown}
    )


def read_events(lines: Iterable[str], *, file: str = "<events>") -> Iterator[Event | Diagnostic]:
    """Read events line by line; yield each event, or the diagnostics of a bad line (which is skipped).

    Blank lines are skipped.  Numbers are read as exact decimals.
    """
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as err:
            yield Diagnostic("monitor/bad-json", RecordLocation(file, number), {"problem": str(err)})
            continue
        if not isinstance(raw, dict):
            problem = "found " + type(raw).__name__.replace("dict", "object").replace("list", "array")
            yield Diagnostic("monitor/bad-json", RecordLocation(file, number), {"problem": problem})
            continue
        event, problems = _parse(raw, file, number)
        if event is None:
            yield from problems
        else:
            yield event
