"""Validate one record given as plain data against its record type into a typed `Record`.

Every problem is reported at its data path; enum labels are canonicalised to their codes, money is
exact."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._i18n import Text
from gspolicy._location import DataPath, RecordLocation
from gspolicy._messages import noun
from gspolicy._numbers import LIMIT_TEXT, within_limits
from gspolicy._patterns import DATE_RE
from gspolicy._yaml import describe_value
from gspolicy.errors import Diagnostic, suggest
from gspolicy.schema import roles
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema
from gspolicy.schema.record_text import BadNumber, Locate, YamlInt, short_text

__all__ = ["MAX_TEXT", "Checker", "validate_record"]

_LONGEST_NUMBER = 60  # characters of a number written as text that are worth reading as a number
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")

_TRUE = {"是", "true", "yes", "y"}
_FALSE = {"否", "false", "no", "n"}


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


class Checker:
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
        names = spec.roles
        birth = spec.fields.get(names.get(roles.BIRTH_DATE, ""))
        age_name = names.get(roles.RECORDED_AGE, "")
        age, on = values.get(age_name), values.get(names.get(roles.AGE_RECORDED_ON, ""))
        if birth is None or not isinstance(age, int) or not isinstance(on, dt.date):
            return True
        earliest = birth.min if isinstance(birth.min, dt.date) else dt.date(dt.MINYEAR, 1, 1)
        # born `age` years before the recording at the latest: that day may not be before `earliest`
        if (on.year - age, on.month, on.day) >= (earliest.year, earliest.month, earliest.day):
            return True
        self.report(
            "record/implied-birth",
            path.child(age_name),
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
            if isinstance(raw, YamlInt):
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
        if isinstance(raw, BadNumber) or (isinstance(raw, str) and _NUMBER_RE.match(raw.strip())):
            # a number beyond the limits (a short one written as text was read just above)
            self.report("record/out-of-range", path, {"value": short_text(str(raw)), "bounds": LIMIT_TEXT})
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
            self.report("record/out-of-range", path, {"value": short_text(str(raw)), "bounds": LIMIT_TEXT})
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

    checker = Checker(schema, locate, locate)
    result = checker.record(data, schema.records[record or schema.root], DataPath())
    if result is not None:
        result.origin = RecordLocation(file, line)
    return result, checker.diagnostics


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
