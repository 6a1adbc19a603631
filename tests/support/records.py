"""A tiny record schema of our own and hypothesis strategies for raw records.

`TINY_SCHEMA` declares a root record `household` (key `id`) with a field of every kind, a nested
`income` record and a list of `member` records (key `id`).  `records(schema)` draws *valid* raw
records as plain JSON-able data (optional fields sometimes missing or null, enum values sometimes
written as Chinese or English labels or aliases, booleans sometimes as 是 / 否);
`mutated_records(schema)` draws a valid record with one planted defect and says which diagnostic
code it must produce.  The strategies read the `Schema`, not this file, so they follow the schema.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import attrs
import yaml
from hypothesis import strategies as st

from gspolicy._location import DataPath, Source
from gspolicy.schema.load import schema_from_source
from gspolicy.schema.model import FieldSpec, RecordSpec, Schema

__all__ = [
    "TINY_SCHEMA",
    "Mutant",
    "dump_records",
    "mutated_records",
    "records",
    "tiny_schema",
]

TINY_SCHEMA = """\
schema: tiny_records
format: 1
version: "1"
title: {zh: 测试农户数据结构, en: Tiny record schema}
root: household
enums:
  category:
    title: {zh: 贫困户属性, en: Household category}
    values:
      general: {zh: 一般贫困户, en: General household, aliases: [一般户]}
      dibao: {zh: 低保贫困户, en: Dibao household, aliases: [低保]}
      tekun: {zh: 特困供养贫困户, en: Extremely poor household, aliases: [五保户]}
  health:
    title: {zh: 健康状况, en: Health}
    values:
      healthy: {zh: 健康, en: Healthy}
      chronic: {zh: 长期慢性病, en: Chronic illness, aliases: [慢性病]}
      disabled: {zh: 残疾, en: Disabled}
records:
  household:
    title: {zh: 农户, en: Household}
    key: id
    fields:
      id: {type: string, required: true, pattern: "H[0-9]{4}", title: {zh: 户编号, en: Household id}}
      county_code: {type: string, pattern: "[0-9]{6}", title: {zh: 县级区划代码, en: County code}}
      village: {type: string, title: {zh: 所在村, en: Village}}
      size: {type: int, min: 1, max: 20, title: {zh: 家庭人口数, en: Household size}}
      dibao: {type: bool, title: {zh: 低保户, en: Dibao household}}
      category: {type: enum, enum: category, title: {zh: 贫困户属性, en: Category}}
      other_categories: {type: set, enum: category, title: {zh: 其他属性, en: Other categories}}
      housing_share: {type: ratio, min: 0, max: 1, title: {zh: 住房自筹比例, en: Housing own share}}
      land_area: {type: decimal, min: 0, max: 1000, unit: mu, title: {zh: 耕地面积, en: Land area}}
      registered_on:
        type: date
        min: 2013-01-01
        max: 2030-12-31
        title: {zh: 建档日期, en: Registered on}
      exited_on:
        type: date
        not_before: [registered_on]
        title: {zh: 脱贫日期, en: Exited on}
      income: {type: record, record: income, title: {zh: 收入, en: Income}}
      members: {type: list, of: member, title: {zh: 家庭成员, en: Members}, role: members}
  income:
    title: {zh: 收入, en: Income}
    fields:
      net_per_capita: {type: money, min: 0, max: 1000000, unit: yuan, title: {zh: 人均纯收入, en: Net income per head}}
      transfers: {type: money, title: {zh: 转移性收入, en: Transfer income}}
  member:
    title: {zh: 家庭成员, en: Member}
    key: id
    fields:
      id: {type: string, required: true, pattern: "M[0-9]{2}", title: {zh: 成员编号, en: Member id}}
      name: {type: string, title: {zh: 姓名, en: Name}}
      birth_date: {type: date, title: {zh: 出生日期, en: Birth date}, role: birth_date}
      age:
        type: int
        role: recorded_age
        min: 0
        max: 120
        requires: [age_recorded_on]
        title: {zh: 登记年龄, en: Recorded age}
      age_recorded_on:
        type: date
        role: age_recorded_on
        not_before: [birth_date]
        title: {zh: 年龄登记日期, en: Age recorded on}
      health: {type: enum, enum: health, title: {zh: 健康状况, en: Health}}
      disabled: {type: bool, title: {zh: 残疾人, en: Disabled}}
"""


def tiny_schema() -> Schema:
    """The tiny schema, loaded (it has no problems; a test says so)."""
    schema, diagnostics = schema_from_source(Source("tiny.yaml", TINY_SCHEMA))
    assert schema is not None, diagnostics
    assert not diagnostics, diagnostics
    return schema


# -- valid records ---------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), exclude_characters="\x85"
    ),
    max_size=12,
)
_BOOL_WORDS = {True: ("是", "true", "yes", "Y"), False: ("否", "false", "no", "N")}
_DEFAULT_DATES = (dt.date(1930, 1, 1), dt.date(2035, 12, 31))


def _number(value: Decimal) -> int | float:
    """A plain number that JSON and YAML write as `value` itself (integers stay integers)."""
    if value == value.to_integral_value():
        return int(value)
    out = float(value)
    assert Decimal(repr(out)) == value, value
    return out


def _decimals(field: FieldSpec, places: int, default: tuple[int, int]) -> st.SearchStrategy[int | float]:
    scale = 10**places
    low = default[0] * scale if field.min is None else int(Decimal(field.min) * scale)
    high = default[1] * scale if field.max is None else int(Decimal(field.max) * scale)
    return st.integers(low, high).map(lambda n: _number(Decimal(n).scaleb(-places)))


def _value(schema: Schema, field: FieldSpec, depth: int) -> st.SearchStrategy[Any]:
    kind = field.kind
    if kind == "bool":
        return st.booleans().flatmap(lambda b: st.sampled_from((b, b, *_BOOL_WORDS[b])))
    if kind == "int":
        low = -1000 if field.min is None else int(field.min)  # type: ignore[arg-type]
        high = 1000 if field.max is None else int(field.max)  # type: ignore[arg-type]
        return st.integers(low, high)
    if kind == "money":
        return _decimals(field, 2, (-1_000_000, 1_000_000))
    if kind == "ratio":
        return _decimals(field, 4, (0, 1))
    if kind == "decimal":
        return _decimals(field, 3, (-10_000, 10_000))
    if kind == "date":
        low = field.min if isinstance(field.min, dt.date) else _DEFAULT_DATES[0]
        high = field.max if isinstance(field.max, dt.date) else _DEFAULT_DATES[1]
        return st.dates(low, high).map(dt.date.isoformat)
    if kind == "string":
        if field.pattern is not None:
            return st.from_regex(field.pattern, fullmatch=True)
        return _TEXT
    if kind == "enum":
        enum = schema.enums[field.enum or ""]
        labels = sorted(enum.lookup.items())
        return st.sampled_from([label for label, _ in labels if not label.startswith("\0")])
    if kind == "set":
        enum = schema.enums[field.enum or ""]
        labels = [label for label, _ in sorted(enum.lookup.items()) if not label.startswith("\0")]
        return st.lists(st.sampled_from(labels), max_size=4)
    if kind == "record":
        return _record(schema, schema.records[field.record or ""], depth + 1)
    spec = schema.records[field.record or ""]
    key = spec.key
    return st.lists(
        _record(schema, spec, depth + 1),
        max_size=4,
        unique_by=(lambda r: r.get(key)) if key else None,
    )


def _present(data: dict[str, Any], name: str) -> bool:
    return data.get(name) is not None


def _fix_up(spec: RecordSpec, data: dict[str, Any]) -> dict[str, Any]:
    """Make a drawn record consistent: companions present, dates in order."""
    for name, field in spec.fields.items():
        if _present(data, name) and any(not _present(data, c) for c in field.requires):
            del data[name]
    for name, field in spec.fields.items():
        for earlier in field.not_before:
            if _present(data, name) and _present(data, earlier) and data[name] < data[earlier]:
                data[name] = data[earlier]
    return data


def _sometimes_null(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value, now and then an explicit null (which means missing)."""
    return st.integers(0, 5).flatmap(lambda n: st.none() if n == 0 else values)


def _record(schema: Schema, spec: RecordSpec, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = {n: _value(schema, f, depth) for n, f in spec.fields.items() if f.required}
    optional = {
        n: _sometimes_null(_value(schema, f, depth)) if depth < 3 else st.none()
        for n, f in spec.fields.items()
        if not f.required
    }
    return st.fixed_dictionaries(required, optional=optional).map(lambda d: _fix_up(spec, d))


def records(schema: Schema, *, record: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid raw records of `record` (default: the schema's root) as plain JSON-able data."""
    if record is not None and record not in schema.records:
        raise ValueError(f"no record type {record!r} in schema {schema.id!r}")
    return _record(schema, schema.records[record or schema.root])


# -- records with one planted defect ---------------------------------------------------------------


@attrs.frozen
class Mutant:
    """A raw record with one planted defect: `code` must be reported at `path`."""

    data: dict[str, Any]
    code: str
    path: DataPath
    note: str = ""


Site = tuple[DataPath, dict[str, Any], RecordSpec]


def _sites(schema: Schema, data: dict[str, Any], spec: RecordSpec, path: DataPath) -> list[Site]:
    out: list[Site] = [(path, data, spec)]
    for name, field in spec.fields.items():
        value = data.get(name)
        if field.kind == "record" and isinstance(value, dict):
            out += _sites(schema, value, schema.records[field.record or ""], path.child(name))
        elif field.kind == "list" and isinstance(value, list):
            inner = schema.records[field.record or ""]
            for index, item in enumerate(value):
                out += _sites(schema, item, inner, path.child(name).child(index))
    return out


def _misspell(name: str, taken: set[str]) -> str:
    for candidate in (name[:-1] + name[-1] * 2, name + "s", name[1:] + name[0], name + "_x"):
        if candidate not in taken:
            return candidate
    raise AssertionError(name)  # pragma: no cover


_WRONG: dict[str, object] = {
    "bool": 7,
    "int": "seven",
    "money": "100 yuan",
    "ratio": [0.5],
    "decimal": True,
    "date": 20180930,
    "string": {"text": "x"},
    "list": {"not": "a list"},
}


def _plants(schema: Schema, site: Site) -> list[tuple[str, str | None]]:
    """The defects that can be planted at `site`: (code, field name)."""
    _, data, spec = site
    out: list[tuple[str, str | None]] = [("record/unknown-field", None)]
    for name, field in spec.fields.items():
        if field.required:
            out.append(("record/missing-field", name))
        if field.kind in _WRONG:
            out.append(("record/wrong-type", name))
        if field.kind == "record":
            out.append(("record/not-a-record", name))
        if field.kind in ("int", "money", "ratio", "decimal", "date") and (
            field.min is not None or field.max is not None
        ):
            out.append(("record/out-of-range", name))
        if field.kind == "enum":
            out.append(("record/unknown-enum-value", name))
        if field.kind == "date":
            out.append(("record/bad-date", name))
        if field.kind == "money":
            out.append(("record/inexact-number", name))
        if field.requires:
            out.append(("record/missing-companion", name))
        if field.not_before:
            out.append(("record/date-order", name))
        if field.kind == "list" and schema.records[field.record or ""].key and len(data.get(name) or ()) >= 1:
            out.append(("record/duplicate-id", name))
    return out


def _beyond(field: FieldSpec) -> object:
    if field.kind == "date":
        bound = field.max if isinstance(field.max, dt.date) else field.min
        assert isinstance(bound, dt.date)
        step = dt.timedelta(days=1 if field.max is not None else -1)
        return (bound + step).isoformat()
    if field.max is not None:
        return _number(Decimal(field.max) + 1)  # type: ignore[arg-type]
    return _number(Decimal(field.min) - 1)  # type: ignore[arg-type]


@st.composite
def mutated_records(draw: st.DrawFn, schema: Schema, *, record: str | None = None) -> Mutant:
    """A valid record of `record` (default: the root) with exactly one planted defect."""
    data = copy.deepcopy(draw(records(schema, record=record)))
    spec = schema.records[record or schema.root]
    site = draw(st.sampled_from(_sites(schema, data, spec, DataPath())))
    path, target, spec = site
    code, name = draw(st.sampled_from(_plants(schema, site)))
    field = spec.fields[name] if name is not None else None
    at = path.child(name) if name is not None else path
    if code == "record/unknown-field":
        taken = set(spec.fields) | {t for f in spec.fields.values() for t in (f.title.zh, f.title.en)}
        original = draw(st.sampled_from(sorted(spec.fields)))
        bad = _misspell(original, taken)
        target[bad] = target.pop(original, "x")
        return Mutant(data, code, path.child(bad), f"`{original}` misspelled as `{bad}`")
    assert field is not None
    assert name is not None
    if code == "record/missing-field":
        target.pop(name, None)
        return Mutant(data, code, path, f"`{name}` removed")
    if code == "record/wrong-type":
        target[name] = _WRONG[field.kind]
    elif code == "record/not-a-record":
        target[name] = draw(st.sampled_from(["text", 3, [1, 2]]))
    elif code == "record/out-of-range":
        target[name] = _beyond(field)
    elif code == "record/unknown-enum-value":
        target[name] = draw(st.sampled_from(["zzz", "未知", "healthy!"]))
    elif code == "record/bad-date":
        target[name] = draw(st.sampled_from(["2018-02-30", "2018/09/30", "yesterday", "2018-13-01"]))
    elif code == "record/inexact-number":
        target[name] = draw(st.sampled_from([1.234, 0.001, 99.999]))
    elif code == "record/missing-companion":
        assert field.kind == "int"
        target[name] = 30
        for companion in field.requires:
            target.pop(companion, None)
    elif code == "record/date-order":
        earlier = field.not_before[0]
        target[earlier] = "2019-06-01"
        target[name] = "2019-05-31"
    elif code == "record/duplicate-id":
        items = target[name]
        key = schema.records[field.record or ""].key or ""
        clone = copy.deepcopy(items[0])
        items.append(clone)
        at = at.child(len(items) - 1).child(key)
    return Mutant(data, code, at)


# -- writing records as files ----------------------------------------------------------------------


def dump_records(items: list[dict[str, Any]], fmt: str) -> str:
    """Write raw records as the text of a ``json``, ``jsonl`` or ``yaml`` record file."""
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if fmt == "yaml":
        return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=10_000)
    raise ValueError(f"unknown record format {fmt!r}")
