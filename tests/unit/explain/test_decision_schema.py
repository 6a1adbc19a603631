"""`Decision.to_json()` validates against the published JSON Schema, for every kind of decision.

The schema (`gspolicy/schemas/decision.schema.json`, shipped in the package) is hand-written: these tests keep it and the
code in step.  Decisions of every verdict (pass, fail, undetermined, not_applicable, none in
force), every applicability status and every buffer status are checked, plus a hand-built decision
that fills every optional part (a rule membership with a measure), plus decisions on generated
households, each at every detail level (`fails`, `brief`, `full`).  The schema is strict (`additionalProperties: false` everywhere), so a new field in the
JSON without a schema change fails here.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

import gspolicy
from gspolicy._i18n import Text
from gspolicy.api import Policies
from gspolicy.explain.decision import (
    DECISION_FORMAT,
    DETAILS,
    Decision,
    Detail,
    MeasureGrant,
    Membership,
    Reading,
)

from support.bundled import shared_policies
from support.households import default_household, exit_cases

SCHEMA_PATH = Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json"


_SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA, format_checker=jsonschema.FormatChecker())
_POLICIES = shared_policies()


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert _SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(_SCHEMA)


@pytest.fixture
def validator() -> jsonschema.Draft202012Validator:
    return _VALIDATOR


@pytest.fixture
def policies() -> Policies:
    return _POLICIES


def _errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def _household(**changes: Any) -> dict[str, Any]:
    h = default_household()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(h.get(key), dict):
            h[key].update(value)
        else:
            h[key] = value
    return h


EXITED = {"status": "exited", "exited_on": dt.date(2017, 11, 30)}
SUPPORT = [
    {"measure": "industry_grant", "amount": 7900, "start": dt.date(2015, 8, 6)},
    {"measure": "skills_training", "amount": 1400, "start": dt.date(2018, 1, 1), "end": dt.date(2018, 6, 30)},
]

KINDS: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {
    # name: (household, as_of, what the decision must be)
    "pass": (_household(), "2018-12-31", {"verdict": "pass"}),
    "fail": (_household(income={"per_capita": 3450}), "2018-12-31", {"verdict": "fail"}),
    "undetermined (missing field)": (
        _household(food_and_clothing_secured=None),
        "2018-12-31",
        {"verdict": "undetermined"},
    ),
    "undetermined (range)": (
        _household(income={"per_capita": 4000, "period_start": "2018-10-01", "period_end": "2019-09-30"}),
        "2019-12-31",
        {"verdict": "undetermined"},
    ),
    "undetermined (applicability)": (
        _household(registration={"status": None}),
        "2018-12-31",
        {"applicability": "undetermined"},
    ),
    "not_applicable": (
        _household(registration={"status": "newly_identified", "identified_on": "2018-03-01"}),
        "2018-12-31",
        {"verdict": "not_applicable"},
    ),
    "2016 version": (_household(), "2017-06-30", {"verdict": "undetermined"}),
    "no exit criteria in force": (_household(), "2021-06-30", {"verdict": None}),
    "buffer active": (
        _household(registration=EXITED, support=SUPPORT),
        "2018-12-31",
        {"buffer": "active"},
    ),
    "buffer undetermined": (
        _household(registration=EXITED, support=[{"measure": "industry_grant", "amount": 7900}]),
        "2018-12-31",
        {"buffer": "undetermined"},
    ),
    "buffer inactive": (_household(), "2018-12-31", {"buffer": "inactive"}),
}


def _clean(h: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields set to None (how `_household` removes a field)."""
    out = copy.deepcopy(h)
    for key in [k for k, v in out.items() if v is None]:
        del out[key]
    for value in out.values():
        if isinstance(value, dict):
            for key in [k for k, v in value.items() if v is None]:
                del value[key]
    return out


def _check(decision: Decision, expect: dict[str, Any]) -> None:
    if "verdict" in expect:
        assert decision.verdict == expect["verdict"]
    if "applicability" in expect:
        assert decision.applicability is not None
        assert decision.applicability.status == expect["applicability"]
    if "buffer" in expect:
        assert decision.buffer is not None
        assert decision.buffer.status == expect["buffer"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_decisions_of_every_kind_validate(
    kind: str, policies: Policies, validator: jsonschema.Draft202012Validator
) -> None:
    household, as_of, expect = KINDS[kind]
    decision = policies.evaluate(_clean(household), as_of)
    _check(decision, expect)
    for detail in DETAILS:
        data = decision.to_json(detail=detail)
        assert data["detail"] == detail
        assert _errors(validator, data) == [], detail
    data = decision.to_json()
    # the JSON form is plain JSON: it survives a round trip through text unchanged
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_every_verdict_enum_value_is_exercised(policies: Policies) -> None:
    seen = {policies.evaluate(_clean(h), d).verdict for h, d, _ in KINDS.values()}
    assert seen == {"pass", "fail", "undetermined", "not_applicable", None}


def _full_decision(policies: Policies) -> Decision:
    """A real decision with a rule membership added (no bundled pack has rules yet)."""
    base = policies.evaluate(_clean(_household(registration=EXITED, support=SUPPORT)), "2018-12-31")
    grant = MeasureGrant(
        "industry_grant", Text("产业奖补", "Industry grant"), "poverty_office", "5000", "yuan"
    )
    membership = Membership(
        rule="support.industry",
        pack="seven_batches.industry",
        title=Text("发展产业脱贫一批", "Exit through industry"),
        applies="yes",
        measures=(grant,),
        missing=(),
        readings=(Reading("members[0].labour", "ordinary"),),
        location="policies/seven_batches/industry.yaml:12",
    )
    undecided = Membership(
        "support.other",
        "seven_batches.industry",
        Text("其他", "Other"),
        "undetermined",
        (),
        ("members[0].labour",),
        (Reading("members[0].labour", None),),
        "policies/seven_batches/industry.yaml:30",
    )
    return attrs.evolve(
        base, memberships=(membership, undecided), problems=(Text(zh="一个问题", en="a problem"),)
    )


def test_a_decision_with_every_part_filled_validates(
    policies: Policies, validator: jsonschema.Draft202012Validator
) -> None:
    data = _full_decision(policies).to_json()
    assert data["format"] == DECISION_FORMAT
    assert data["memberships"][0]["measures"][0]["amount"] == 5000  # a number stays a number
    assert data["missing"] == ["members[0].labour"]
    assert {s["measure"] for s in data["support"]} == {"industry_grant"}
    assert _errors(validator, data) == []


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("an unknown top-level field", lambda d: d.update(extra=1)),
        ("an unknown verdict", lambda d: d.update(verdict="maybe")),
        ("an unknown criterion verdict", lambda d: d["criteria"][0].update(verdict="not_applicable")),
        ("an unknown field in a criterion", lambda d: d["criteria"][0].update(score=1)),
        ("a missing reason", lambda d: d["criteria"][0].pop("reason")),
        ("a location without a line", lambda d: d["criteria"][0].update(location="pack.yaml")),
        ("a parameter kind", lambda d: d["criteria"][0]["parameters"][0].update(kind="guess")),
        ("a bad date", lambda d: d.update(as_of="31/12/2018")),
        ("a reading without a path", lambda d: d["criteria"][0]["readings"][0].pop("path")),
        ("a fact of three items", lambda d: d["criteria"][0]["facts"][0].append("x")),
        ("a text without Chinese", lambda d: d["criteria"][0]["title"].pop("zh")),
        ("a bad content hash", lambda d: d["packs"][0].update(content_hash="md5:0")),
        ("a bad membership", lambda d: d["memberships"][0].update(applies="maybe")),
        ("a wrong format version", lambda d: d.update(format=1)),
        ("a number as text", lambda d: d["memberships"][0]["measures"][0].update(amount=["5000"])),
        ("a short form named full", lambda d: d.update(packs=[{"id": "x", "version": "1"}])),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_the_schema_rejects_what_the_code_never_writes(
    where: str, change: Any, policies: Policies, validator: jsonschema.Draft202012Validator
) -> None:
    data = _full_decision(policies).to_json()
    change(data)
    assert _errors(validator, data), f"the schema accepted {where}"


@pytest.mark.slow  # forty generated decisions through JSON Schema validation
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=exit_cases())
def test_decisions_on_generated_households_validate(case: tuple[dict[str, Any], dt.date]) -> None:
    household, as_of = case
    decision = _POLICIES.evaluate(household, as_of)
    assert _errors(_VALIDATOR, decision.to_json()) == []


@pytest.mark.parametrize("detail", ["fails", "brief"])
def test_a_short_level_with_every_part_filled_validates(
    detail: Detail, policies: Policies, validator: jsonschema.Draft202012Validator
) -> None:
    data = _full_decision(policies).to_json(detail=detail)
    assert [m["rule"] for m in data["memberships"]] == ["support.industry", "support.other"]
    assert data["memberships"][1]["missing"] == ["members[0].labour"]
    assert _errors(validator, data) == []
    data["criteria"].append({"id": "x", "verdict": "pass", "reason": {"zh": "是", "en": "yes"}})
    # a passing criterion belongs to `brief`, never to `fails`
    assert bool(_errors(validator, data)) == (detail == "fails")
