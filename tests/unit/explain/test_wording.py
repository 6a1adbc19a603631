"""A decision's words from its schema and packs: units in the reader's language, enum labels
beside codes, rates as percentages never rounded onto or across a threshold, measures by their
titles; a rule answering "no" said 否, never 不适用."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from gspolicy.api import Policies, load_policies
from gspolicy.explain.wording import Vocabulary, percent, quantity, reading, vocabulary_for

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "registry" / "households.jsonl"


@pytest.fixture(scope="module")
def bundled() -> Policies:
    return load_policies()


@pytest.fixture(scope="module")
def words(bundled: Policies) -> Vocabulary:
    return vocabulary_for(bundled.schema, "household", ())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.9", "90%"),
        ("1", "100%"),
        ("0", "0%"),
        ("0.0447761", "4.48%"),
        ("0.857143", "85.71%"),
        ("0.029999", "2.9999%"),  # never 3.00%: the threshold it is compared with
        ("0.0300001", "3.00001%"),
        ("0.0299", "2.99%"),
        ("-0.0147761", "-1.48%"),
        ("not a number", "not a number"),
    ],
)
def test_a_rate_is_a_percentage(value: str, shown: str) -> None:
    assert percent(value) == shown


def test_a_rounded_rate_is_never_shown_on_or_across_a_tenth_of_a_percent() -> None:
    for tenths in range(1, 1000, 7):  # 0.1% … 99.9%
        threshold = Decimal(tenths) / 1000
        for step in ("0.0000001", "0.000004", "0.0000499", "0.00049"):
            for value in (threshold - Decimal(step), threshold + Decimal(step)):
                shown = Decimal(percent(str(value))[:-1]) / 100
                assert shown != threshold, value
                assert (shown < threshold) == (value < threshold), value


def test_every_bundled_rate_threshold_is_a_whole_tenth_of_a_percent(bundled: Policies) -> None:
    """What keeps `percent`'s promise for the bundled packs: no rate threshold between tenths."""
    schema = bundled.schema
    seen = 0
    for checked in bundled.policy_set.packs:
        for param in checked.pack.parameters.values():
            unit = schema.units.get(param.unit or "")
            if unit is None or not unit.percent:
                continue
            for dated in param.values:
                for number in (dated.value, *(b.value for b in (dated.low, dated.high) if b is not None)):
                    if isinstance(number, Decimal):
                        seen += 1
                        assert (number * 1000) == (number * 1000).to_integral_value(), (param.name, number)
    assert seen >= 10


def test_units_are_said_in_the_readers_language(words: Vocabulary) -> None:
    assert quantity(words, "3500", "yuan/person/year", "zh") == "3,500 元/人/年"
    assert quantity(words, "3500", "yuan/person/year", "en") == "3,500 yuan/person/year"
    assert quantity(words, "6", "years_of_age", "zh") == "6 周岁"
    assert quantity(words, "20", "L/person/day", "zh") == "20 升/人/日"
    assert quantity(words, "0.9", "ratio", "zh") == "90%"
    assert quantity(words, "[0.85, 0.9]", "ratio", "en") == "[85%, 90%]"
    assert quantity(words, "12", "furlongs", "zh") == "12 furlongs"  # a unit the schema lacks: its code
    assert quantity(None, "3500", "yuan/person/year", "zh") == "3,500 yuan/person/year"


def test_readings_show_labels_beside_codes_and_keep_paths(words: Vocabulary) -> None:
    assert reading(words, "registration.status", "pre_exit", "zh") == "pre_exit（预脱贫）"
    assert reading(words, "registration.status", "pre_exit", "en") == "pre_exit (Planned to exit this year)"
    assert reading(words, "members[2].labour", "none", "zh") == "none（无劳动力）"
    assert (
        reading(words, "registration.secondary_causes", "[illness, lack_of_water]", "zh")
        == "[illness（因病）, lack_of_water（缺水）]"
    )
    assert reading(words, "water.piped", "true", "zh") == "是"
    assert reading(words, "water.piped", "false", "en") == "false"
    assert reading(words, "water.guarantee_rate", "0.95", "en") == "95%"
    assert reading(words, "income.per_capita", "5200", "zh") == "5,200"
    assert reading(words, "registration.exited_on", None, "zh") == "缺失"
    assert reading(words, "registration.status", "(given)", "en") == "(given)"
    assert reading(None, "registration.status", "pre_exit", "zh") == "pre_exit"


def _example(bundled: Policies) -> str:
    """The zh text of the example registry's first household (exited, in the buffer)."""
    with EXAMPLE.open(encoding="utf-8") as lines:
        record = json.loads(next(lines))
    return bundled.evaluate(record, "2018-12-31").render("zh", detail="full")


def test_a_household_in_chinese_has_no_english_units_codes_or_answers(bundled: Policies) -> None:
    zh = _example(bundled)
    rule_lines = [
        line for line in zh.splitlines() if line.startswith("    ") and " — " in line and "：" in line
    ]
    assert any(" — 否：" in line for line in rule_lines)  # a rule that does not hold
    assert any(" — 是：" in line for line in rule_lines)
    assert not any(" — 不适用" in line for line in rule_lines)
    for english in ("yuan/", "L/person/day", " ratio", "not established", " years", "(given)"):
        assert english not in zh, english
    assert "元/人/年" in zh
    assert "registration.status = exited（已脱贫）" in zh
    # a measure by its title from the pack, its id beside it
    assert "保留措施 新一轮退耕还林补助（`returned_farmland_subsidy`）：金额 1,200 元/亩" in zh
    assert "当前享受的帮扶：新一轮退耕还林补助（`returned_farmland_subsidy`，1,200 元/亩）" in zh
