"""Detail levels of an explanation (`fails`, `brief`, `full`), as properties over generated
households decided by the bundled packs: nothing failing or undetermined is ever left out of the
short levels, `brief` gives each passing criterion exactly one line, and the JSON levels validate
against the package's schema and hold nothing the full form does not."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

import gspolicy
from gspolicy.explain.decision import Decision
from gspolicy.explain.render import legend

from support.bundled import shared_policies, shared_registry
from support.households import exit_cases

_SCHEMA = json.loads((Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text("utf-8"))
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA, format_checker=jsonschema.FormatChecker())
_POLICIES = shared_policies()
_CHEAP = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def contained(small: Any, big: Any) -> bool:
    """`small` says nothing `big` does not: an object's keys with contained values, a list's
    items each contained in a later item of the other (order kept), anything else equal."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contained(v, big[k]) for k, v in small.items())
    if isinstance(small, list):
        if not isinstance(big, list):
            return False
        rest = iter(big)
        return all(any(contained(item, other) for other in rest) for item in small)
    return bool(small == big and type(small) is type(big))


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


def _decide(case: tuple[dict[str, Any], dt.date]) -> Decision:
    household, as_of = case
    return _POLICIES.evaluate(household, as_of)


@_CHEAP
@given(case=exit_cases())
def test_the_short_texts_keep_every_failing_and_undetermined_criterion(
    case: tuple[dict[str, Any], dt.date],
) -> None:
    decision = _decide(case)
    for lang in ("en", "zh"):
        full = decision.render(lang, detail="full")
        for detail in ("fails", "brief"):
            text = decision.render(lang, detail=detail)
            for c in decision.criteria:
                if c.verdict == "pass":
                    continue
                # the criterion's whole block, as the full text gives it, is in the short text
                assert c.location in text, (detail, c.id)
                assert c.reason.get(lang) in text, (detail, c.id)
                block = full[full.index(f" {c.id}  ") :].split("\n    ")[0]
                assert block in text, (detail, c.id)
            for m in decision.memberships:
                if m.applies != "no":
                    assert f"    {m.rule} — " in text, (detail, m.rule)
            for path in decision.missing:
                assert path in text


@_CHEAP
@given(case=exit_cases())
def test_brief_gives_each_passing_criterion_one_line_and_fails_none(
    case: tuple[dict[str, Any], dt.date],
) -> None:
    decision = _decide(case)
    for lang in ("en", "zh"):
        brief = decision.render(lang).splitlines()  # brief is the default
        fails = decision.render(lang, detail="fails").splitlines()
        for c in decision.criteria:
            if c.verdict != "pass":
                continue
            lines = [i for i, line in enumerate(brief) if line.startswith(f"    ✓ {c.id}  ")]
            assert len(lines) == 1, c.id
            assert c.reason.get(lang) in brief[lines[0]]
            # the next line is not one of its own: another criterion, a heading or a section
            after = brief[lines[0] + 1] if lines[0] + 1 < len(brief) else ""
            assert not after.startswith("        ")
            assert not any(line.startswith(f"    ✓ {c.id}  ") for line in fails)
        assert len(brief) - len(fails) >= sum(c.verdict == "pass" for c in decision.criteria)


@pytest.mark.slow  # every level of generated decisions validated: full suite
@_CHEAP
@given(case=exit_cases())
def test_the_json_levels_validate_and_hold_nothing_the_full_form_does_not(
    case: tuple[dict[str, Any], dt.date],
) -> None:
    decision = _decide(case)
    full, brief, fails = (decision.to_json(detail=d) for d in ("full", "brief", "fails"))
    for data in (full, brief, fails):
        errors = [e.message for e in _VALIDATOR.iter_errors(data)]
        assert errors == [], data["detail"]
    body = {k: v for k, v in full.items() if k != "detail"}
    assert contained({k: v for k, v in brief.items() if k != "detail"}, body)
    assert contained({k: v for k, v in fails.items() if k != "detail"}, body)
    assert [c["id"] for c in brief["criteria"]] == [c.id for c in decision.criteria]
    assert [c["id"] for c in fails["criteria"]] == [c.id for c in decision.criteria if c.verdict != "pass"]
    assert {m["rule"] for m in brief["memberships"]} == {
        m.rule for m in decision.memberships if m.applies != "no"
    }


def test_contained_tells_a_part_from_a_change() -> None:
    """The containment the property above relies on: a part is contained, a changed value, a
    number turned to text or a reordered list is not."""
    big = {"a": [{"x": 1, "y": 2}, {"x": 3}], "b": 4}
    assert contained({"a": [{"x": 3}]}, big)
    assert contained({"a": [{"x": 1}, {"x": 3}]}, big)
    assert not contained({"a": [{"x": 3}, {"x": 1}]}, big)
    assert not contained({"b": "4"}, big)
    assert not contained({"c": 1}, big)


def test_an_unknown_detail_level_is_refused_in_both_languages() -> None:
    decision = _POLICIES.evaluate({"id": "X-1"}, "2018-12-31")
    with pytest.raises(ValueError, match=r"unknown detail level 'short'.*未知的详细程度"):
        decision.render("en", detail="short")  # type: ignore[arg-type]  # the point of the test
    with pytest.raises(ValueError, match="fails, brief, full"):
        decision.to_json(detail="all")  # type: ignore[arg-type]  # the point of the test


def test_the_legend_explains_every_mark_the_texts_use_in_both_languages() -> None:
    en, zh = legend("en"), legend("zh")
    for mark in ("[36, 37]", "(4)", "H  M-H  M  L-M  L", "✓ ✗ ?", "param:<name>", "members[2].age"):
        assert mark in en, mark
        assert mark in zh, mark
    # each language's own words for what a reading says, as its explanations write them
    assert "(given)" in en
    assert "（已填写）" in zh
    assert "paraphrased:" in en
    assert "大意：" in zh
    for text in (en, zh):
        assert max(_columns(line) for line in text.splitlines()) <= 110  # a Chinese character: two


def test_a_brief_json_decision_of_the_example_registry_fits_in_10_kb() -> None:
    """The largest brief decisions of the example registry as of 2018-12-31 (measured over all
    3,000 households: a household failing or undetermined on every criterion, with many rules
    undetermined), and the one the explanation goldens use, each at most 10,000 bytes of JSON
    (UTF-8, as `json.dumps` writes it); the full form of the same is over 100 KB."""
    wanted = {"621226-0333", "622921-0267", "621027-0003"}
    records = [r for r in shared_registry() if r.get("id") in wanted]
    assert len(records) == len(wanted)
    for record in records:
        decision = _POLICIES.evaluate(record, "2018-12-31")
        brief = json.dumps(decision.to_json(detail="brief"), ensure_ascii=False).encode()
        full = json.dumps(decision.to_json(), ensure_ascii=False).encode()
        assert len(brief) <= 10_000, (decision.household, len(brief))
        assert len(full) > 100_000
