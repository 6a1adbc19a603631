"""The stable JSON form of a decision at each detail level (``schemas/decision.schema.json``).

Values as JSON numbers, ranges and booleans; the ``brief`` and ``fails`` forms kept from the full one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import attrs

from gspolicy._i18n import Text
from gspolicy.explain.parts import DECISION_FORMAT, Detail, Reading
from gspolicy.explain.render import check_detail
from gspolicy.explain.wording import Vocabulary

if TYPE_CHECKING:  # the decision calls this module; its type is read for annotations only
    from gspolicy.explain.decision import Decision

__all__ = ["decision_to_json", "json_value"]


_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
_PAIR = re.compile(r"\[([^\[\],]+), ([^\[\],]+)\]")
_NUMERIC_KINDS = frozenset({"int", "money", "ratio", "decimal"})


def _number(text: str) -> int | float | None:
    if _DECIMAL.fullmatch(text) is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover  # the pattern admits only decimals
        return None
    return int(number) if "." not in text else float(number)


def json_value(text: str | None, *, truth: bool = True) -> Any:
    """A value as the JSON form gives it: a number as a JSON number, a range of numbers
    (``[3218, 3815.38]``) as ``[low, high]``, ``true``/``false`` as booleans (with `truth`), None
    as null, anything else (a date, a code, ``not established``, a loan) as its text."""
    if text is None:
        return None
    number = _number(text)
    if number is not None:
        return number
    pair = _PAIR.fullmatch(text)
    if pair is not None:
        low, high = _number(pair.group(1)), _number(pair.group(2))
        if low is not None and high is not None:
            return [low, high]
    if truth and text in ("true", "false"):
        return text == "true"
    return text


def _reading_json(words: Vocabulary | None, path: str, value: str | None) -> Any:
    """A value read, by the kind of its field: a number, a boolean, else its text (a list read
    whole is its count ``(3)``, a field only checked for presence ``(given)``)."""
    field = words.field(path) if words is not None else None
    if field is None or value is None:
        return value
    if field.kind in _NUMERIC_KINDS:
        return json_value(value, truth=False)
    if field.kind == "bool" and value in ("true", "false"):
        return value == "true"
    return value


def _plain(value: object, words: Vocabulary | None = None) -> Any:
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v, words) for v in value]
    if isinstance(value, Reading):
        return {"path": value.path, "value": _reading_json(words, value.path, value.value)}
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        for f in attrs.fields(cast(Any, type(value))):
            item = getattr(value, f.name)
            if (
                not f.metadata.get("json", True)
                or (f.metadata.get("omit_none") and item is None)
                or (f.metadata.get("omit_empty") and item in (None, ()))
                or (f.metadata.get("omit_false") and item is False)
            ):
                continue
            if f.metadata.get("number"):
                out[f.name] = json_value(item, truth=False)
            elif f.name == "facts":
                out[f.name] = [[name, json_value(shown)] for name, shown in item]
            else:
                out[f.name] = _plain(item, words)
        return out
    return value


def decision_to_json(decision: Decision, *, detail: Detail = "full") -> dict[str, Any]:
    """The stable JSON form at a detail level (validates against the package's
    ``schemas/decision.schema.json``): ``full`` everything; ``brief`` and ``fails`` keep, of the
    full form, what their text shows (`_shorten`), so each is contained in the full form."""
    detail = check_detail(detail)
    data: dict[str, Any] = {"format": DECISION_FORMAT, "detail": detail}
    data.update(_plain(decision, decision.words))
    data["missing"] = list(decision.missing)
    data["support"] = [
        {"measure": m, "amount": json_value(a, truth=False), "why": w} for m, a, w in decision.support
    ]
    return data if detail == "full" else _shorten(data, passing=detail == "brief")


_PACK_KEYS = ("id", "version")
_CRITERION_KEYS = (
    "id",
    "verdict",
    "department",
    "reason",
    "missing",
    "readings",
    "parameters",
    "facts",
    "location",
    "shortfall",
    "threshold",
    "value",
    "witnesses",
)
_PASSING_KEYS = ("id", "verdict", "reason")
_PARAMETER_KEYS = ("name", "value", "unit", "effective", "source", "confidence")
_BOUND_KEYS = ("side", "value", "source", "confidence")
_RULE_KEYS = ("rule", "applies")
_MEASURE_KEYS = ("id",)
_SUPPORT_KEYS = ("measure", "amount")
_OPTIONAL = frozenset({"shortfall", "threshold", "value", "witnesses", "missing", "facts", "parameters"})
_BUFFER_KEYS = ("status", "basis", "until", "amount_rule", "reason", "missing", "pack", "location")
_RETAINED_KEYS = ("measure", "amount", "unit", "basis", "until", "path", "missing")
_FINDING_KEYS = ("kind", "pack", "id", "status", "reason", "missing", "location")


def _keep(item: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: item[k] for k in keys if k in item}


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    short = {k: v for k, v in _keep(p, _PARAMETER_KEYS).items() if v is not None}
    if p.get("bounds"):
        short["bounds"] = [_keep(b, _BOUND_KEYS) for b in p["bounds"]]
    return short


def _shorten(data: dict[str, Any], *, passing: bool) -> dict[str, Any]:
    """The ``fails`` form (with `passing`: the ``brief`` one), kept from the full form: values,
    codes, ids and locations, and of the words only the reasons (titles, citations and the
    sources' clauses are in the full form, found by id and location).

    The pack versions by id and version (the verdict pack also by hash); each failing or
    undetermined criterion with the values, facts and parameters (value, unit, effective date,
    source id, confidence, each left out when null) behind it, a value it lacks named in its
    `missing` and not again among its readings; with `passing`, each passing criterion by its id,
    verdict and reason; the rules that apply (with their measures) or are undetermined (with what
    would settle them); the buffer (when active, the measures it keeps) and the support now."""
    out = dict(data)
    verdict_file = data["criteria"][0]["location"].rpartition(":")[0] if data["criteria"] else None
    out["packs"] = [
        _keep(p, (*_PACK_KEYS, "content_hash")) if p["file"] == verdict_file else _keep(p, _PACK_KEYS)
        for p in data["packs"]
    ]
    applicability = data["applicability"]
    if applicability is not None and applicability["status"] == "assessed":
        out["applicability"] = _keep(applicability, ("status", "reason"))
    out["support"] = [_keep(s, _SUPPORT_KEYS) for s in data["support"]]
    criteria = []
    for c in data["criteria"]:
        if c["verdict"] == "pass":
            if passing:
                criteria.append(_keep(c, _PASSING_KEYS))
            continue
        short = {k: v for k, v in _keep(c, _CRITERION_KEYS).items() if v or k not in _OPTIONAL}
        # a value missing is named once, in `missing`
        short["readings"] = [
            r for r in c["readings"] if r["value"] is not None or r["path"] not in c["missing"]
        ]
        if c["parameters"]:
            short["parameters"] = [_parameter(p) for p in c["parameters"]]
        criteria.append(short)
    out["criteria"] = criteria
    rules = []
    for m in data["memberships"]:
        if m["applies"] == "no":
            continue
        rule = _keep(m, _RULE_KEYS)
        if m["measures"]:
            rule["measures"] = [_keep(g, _MEASURE_KEYS) for g in m["measures"]]
        if m["applies"] == "undetermined":
            rule["missing"] = m["missing"]
        rules.append(rule)
    out["memberships"] = rules
    buffer = data["buffer"]
    if buffer is not None:
        short = _keep(buffer, _BUFFER_KEYS if buffer["status"] != "inactive" else ("status", "reason"))
        if buffer["status"] != "inactive":
            short["retained"] = [_keep(r, _RETAINED_KEYS) for r in buffer["retained"]]
        if "ended" in buffer:
            short["ended"] = [_keep(r, _RETAINED_KEYS) for r in buffer["ended"]]
        out["buffer"] = short
    if "findings" in data:
        out["findings"] = [_keep(f, _FINDING_KEYS) for f in data["findings"]]
    return out
