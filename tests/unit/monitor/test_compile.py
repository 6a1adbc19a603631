"""Compiling the monitoring pack to durable_rules rulesets (no durable_rules needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gspolicy.engine.durable import MAX_KEYS, compile_pack
from gspolicy.pack.typecheck import CheckedPack

from support.bundled import shared_policies


@pytest.fixture(scope="module")
def pack() -> CheckedPack:
    (version,) = shared_policies().policy_set.versions("monitoring.household")
    return version


def _comparisons(cond: Any) -> Iterator[tuple[list[Any], Any]]:
    """(the conjunction a comparison stands in, the comparison) for every comparison."""
    if isinstance(cond, dict):
        for op, body in cond.items():
            if op == "$and":
                for part in body:
                    if isinstance(part, dict) and not ({"$and", "$or"} & set(part)):
                        yield body, part
                    else:
                        yield from _comparisons(part)
            elif op == "$or":
                for part in body:
                    if isinstance(part, dict) and {"$and", "$or"} & set(part):
                        yield from _comparisons(part)
                    else:
                        yield [part], part


def _keys_read(comparison: dict[str, Any]) -> set[str]:
    ((op, body),) = comparison.items()
    if op in ("$ex", "$nex"):
        return set()
    if not op.startswith("$"):
        return {op}
    keys = set(body)
    for value in body.values():
        if isinstance(value, dict) and "$m" in value:
            keys.add(value["$m"])
    return keys


def test_every_rule_is_compiled_into_a_true_and_a_false_form(pack: CheckedPack) -> None:
    compiled = compile_pack(pack)
    assert [r.rule for r in compiled.rules] == list(pack.rules)
    definitions = compiled.definitions()
    names = {name for rules in definitions.values() for name in rules}
    for rule in compiled.rules:
        assert rule.true_name == f"{rule.rule}#true"
        assert rule.true_name in names
        assert rule.false_name in names
        assert len(rule.keys) <= MAX_KEYS


def test_every_value_read_is_guarded_by_an_existence_test(pack: CheckedPack) -> None:
    compiled = compile_pack(pack)
    for rules in compiled.definitions().values():
        for name, definition in rules.items():
            (pattern,) = definition["all"]
            for conjunction, comparison in _comparisons(pattern["m"]):
                guarded = {k for part in conjunction if "$ex" in part for k in part["$ex"]}
                missing = _keys_read(comparison) - guarded
                assert not missing, f"{name}: {comparison} reads {missing} without `$ex`"


def test_member_aggregates_and_event_values_are_prepared_not_compiled(pack: CheckedPack) -> None:
    compiled = compile_pack(pack)
    kinds = {t.text: t.kind for t in compiled.terms}
    assert kinds["all(members, basic_medical_insurance)"] == "condition"
    assert kinds["event_shock_after_low_income"] == "condition"
    assert kinds["income.per_capita * size"] == "computed"
    ranged = {t.text for t in compiled.terms if t.ranged}
    assert ranged == {"watch_line", "exit_income_line"}  # a range parameter travels as two bounds


def test_show_rules_names_the_rules_and_the_prepared_values(pack: CheckedPack) -> None:
    text = compile_pack(pack).show()
    assert "risk.income_below_watch_line#true" in text
    assert "prepared into each fact" in text
    assert "p_watch_line_lo, p_watch_line_hi = watch_line" in text
    definitions = json.loads(text[text.index("{") :])
    # the bundled rules read more values than one fact holds: two rulesets
    assert set(definitions) == {"monitoring_household_0", "monitoring_household_1"}


def test_rules_are_split_into_rulesets_when_a_fact_would_be_too_wide(pack: CheckedPack) -> None:
    compiled = compile_pack(pack, max_keys=8)
    assert len(compiled.rulesets) > 1
    for name, rules in compiled.rulesets.items():
        keys = set().union(*(r.keys for r in compiled.rules if r.rule in rules))
        assert len(keys) <= 8, name
