"""The helpers kept once in a low layer: a record's value at a path, plain JSON of a decimal,
``file:line`` of a span, YAML written for people."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy._location import Source, Span, file_line
from gspolicy._numbers import decimal_json, is_number
from gspolicy._yaml import dump_yaml
from gspolicy.schema.model import Record
from gspolicy.schema.paths import value_at, with_value


@settings(max_examples=40, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_decimal_json_keeps_the_value(value: Decimal) -> None:
    plain = decimal_json(value)
    assert Decimal(str(plain)) == value
    assert isinstance(plain, int) == (value == value.to_integral_value())


def test_decimal_json_keeps_digits_a_float_would_lose() -> None:
    assert decimal_json(Decimal("0.1")) == 0.1
    assert decimal_json(Decimal("12345678901234567890.12345")) == "12345678901234567890.12345"


def test_is_number_refuses_booleans() -> None:
    assert [is_number(v) for v in (1, Decimal("1.5"), True, 1.5, "1")] == [True, True, False, False, False]


def test_file_line_of_a_span_or_none() -> None:
    span = Span(Source("a.yaml", "x: 1\ny: 2\n"), 5, 6)
    assert (file_line(span), file_line(None), file_line(None, "?")) == ("a.yaml:2", "-", "?")


def test_dump_yaml_writes_shared_values_twice_and_reads_back() -> None:
    shared = {"zh": "脱贫", "en": "exit"}
    document = {"b": shared, "a": [shared], "on": dt.date(2018, 12, 31)}
    text = dump_yaml(document)
    assert "&" not in text
    assert "脱贫" in text
    assert list(yaml.safe_load(text)) == ["b", "a", "on"]
    assert yaml.safe_load(text) == document


def test_value_at_and_with_value_on_a_nested_record(bundled) -> None:
    schema = bundled.schema
    root = schema.root_record
    name, field = next((n, f) for n, f in root.fields.items() if f.kind == "record" and f.record)
    leaf = next(iter(schema.records[field.record].fields))
    household = Record(root.name, {})
    assert value_at(household, [name, leaf]) is None  # a record on the way is missing
    changed = with_value(schema, household, [name, leaf], 7)
    assert value_at(changed, [name, leaf]) == 7
    assert isinstance(changed[name], Record)
    assert value_at(with_value(schema, changed, [name, leaf], None), [name, leaf]) is None
    seen: list[str] = []
    with_value(schema, household, [name, leaf], 1, repair=lambda spec, rec, field: seen.append(field) or rec)
    assert seen == [leaf]
