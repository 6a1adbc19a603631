"""Village and county decisions: gathering, derived verdicts, three-valued aggregates, weighing items.

A small village pack written here (one incidence criterion with a `weigh`) runs beside the
bundled household packs, so these tests pin the engine and not the bundled area packs (whose
own cases and goldens live with them).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gspolicy._location import Source
from gspolicy._resources import bundled_policies, bundled_schema_path
from gspolicy.explain.areas import decide_areas, gathering_order
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.load import read_schema, schema_from_source
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record

AS_OF = dt.date(2018, 12, 31)

VILLAGE_PACK = """\
format: 1
pack: exit_criteria.village
version: "2018.1"
kind: exit
valid_from: 2018-01-01
title: {zh: 测试村, en: Test village}
department: office
departments:
  office: {zh: 办, en: Office}
subject: village
sources:
  s: {title: {zh: 甲, en: A}, confidence: H}
parameters:
  incidence_max:
    title: {zh: 发生率上限, en: Highest incidence}
    values:
      2018-01-01: {value: 0.03, source: s}
facts:
  remaining:
    title: {zh: 剩余贫困人口, en: Remaining poor people}
    expr: |
      sum(households, household.size if household.registration.status == "not_exited"
          or (household.registration.status == "pre_exit" and not exit_met) else 0)
  incidence:
    title: {zh: 贫困发生率, en: Poverty incidence}
    expr: remaining / rural_population
criteria:
  - id: village.incidence
    title: {zh: 贫困发生率低于上限, en: Incidence below the highest}
    require: incidence < incidence_max
    weigh: |
      sum(households, household.size if household.registration.status == "not_exited"
          or (household.registration.status == "pre_exit" and not exit_met) else 0)
    cite: {source: s}
"""


@pytest.fixture(scope="module")
def policy_set(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    root = tmp_path_factory.mktemp("areas")
    (root / "exit_criteria" / "village").mkdir(parents=True)
    (root / "exit_criteria" / "village" / "2018.1.yaml").write_text(VILLAGE_PACK, encoding="utf-8")
    policies = bundled_policies()
    roots = [
        policies / "schema",
        policies / "parameters",
        policies / "exit_criteria" / "household",
        policies / "identification",
        root,
    ]
    found, problems = load_policies(roots)
    assert found is not None, [d.render("en") for d in problems if d.is_error]
    return found


def household(ident: str, status: str, size: int = 4, **income: Any) -> Record:
    """A household in village V1 that passes every exit criterion but the income unless told."""
    data: dict[str, Any] = {
        "id": ident,
        "village_code": "621126104208",
        "county_code": "621126",
        "region_class": "west",
        "size": size,
        "registration": {"category": "general", "status": status, "identified_on": "2014-06-01"},
        "food_and_clothing_secured": True,
        "housing": {"grade": "b", "relocation": "none"},
        "water": {"litres_per_person_day": 40, "piped": True, "quality_ok": True, "guarantee_rate": 0.95},
        "members": [
            {
                "id": "m1",
                "relation": "head",
                "birth_date": "1970-03-01",
                "basic_medical_insurance": True,
                "critical_illness_insurance": True,
            }
        ],
    }
    if income:
        data["income"] = {"period_start": "2017-10-01", "period_end": "2018-09-30", **income}
    record, problems = validate_record(data, read_schema(bundled_schema_path())[0])  # type: ignore[arg-type]
    assert record is not None, problems
    return record


def village(population: int = 300, code: str = "621126104208") -> Record:
    return Record(
        "village", {"code": code, "name": "上川村", "county_code": "621126", "rural_population": population}
    )


def test_types_are_decided_after_what_they_gather(policy_set: PolicySet) -> None:
    order = gathering_order(policy_set.schema, ["county", "village", "household"])
    assert order.index("household") < order.index("village") < order.index("county")


def test_a_village_gathers_its_households_with_their_exit_verdicts(policy_set: PolicySet) -> None:
    passing = household("H1", "pre_exit", per_capita=6000, non_counting_transfers=0)
    failing = household("H2", "pre_exit", per_capita=1000, non_counting_transfers=0)
    elsewhere = household("H3", "not_exited").replace(village_code="621126104209")
    result = decide_areas(
        policy_set, {"household": (passing, failing, elsewhere), "village": (village(),)}, AS_OF
    )
    (v,) = result.villages
    assert v.gathered == {"households": ("H1", "H2")}
    # H2 failed its exit check, so its 4 people remain poor: 4 / 300 < 3 %
    figures = {f.name: f.value for f in v.figures}
    assert figures["remaining"] == "4"
    assert v.verdict == "pass"
    assert result.orphans == {"household/village": ("H3",)}


def test_failing_incidence_lists_the_heaviest_households_first(policy_set: PolicySet) -> None:
    homes = tuple(household(f"H{i}", "not_exited", size=i) for i in range(1, 8))
    result = decide_areas(policy_set, {"household": homes, "village": (village(100),)}, AS_OF)
    (v,) = result.villages
    assert v.verdict == "fail"  # 28 of 100
    assert [w.item for w in v.weights] == ["H7", "H6", "H5", "H4", "H3"]
    assert v.weighing == {"village.incidence": 7}
    text = v.render("en")
    assert "H7: 7" in text
    assert "households[" not in text.split("what weighs most")[0]  # per-item readings left out


def test_an_undetermined_household_decides_nothing_it_cannot_change(policy_set: PolicySet) -> None:
    unknown = household("HU", "pre_exit", size=5)  # no income: its exit verdict is undetermined
    sure = household("HS", "not_exited", size=2)
    # 2 or 7 poor people of 1,000: below 3 % either way — decided
    result = decide_areas(policy_set, {"household": (unknown, sure), "village": (village(1000),)}, AS_OF)
    assert result.villages[0].verdict == "pass"
    assert {f.name: f.value for f in result.villages[0].figures}["remaining"] == "[2, 7]"
    # 2 or 7 of 100: 2 % or 7 % straddles 3 % — undetermined, naming the household and what it lacks
    result = decide_areas(policy_set, {"household": (unknown, sure), "village": (village(100),)}, AS_OF)
    (v,) = result.villages
    assert v.verdict == "undetermined"
    assert any(m.startswith("households[HU].exit_met") for m in v.decision.missing)
    (first, *_) = v.weights
    assert first.item == "HU"
    assert any("income" in m for m in first.missing)


def test_a_list_given_in_the_data_is_replaced_by_the_gathered_one(policy_set: PolicySet) -> None:
    given = village(100)
    fake = Record("household_outcome", {"household": household("X", "not_exited", 30), "exit_met": False})
    with_list = Record("village", {**given, "households": (fake,)})
    result = decide_areas(policy_set, {"household": (), "village": (with_list,)}, AS_OF)
    assert result.villages[0].gathered == {"households": ()}
    assert result.villages[0].verdict == "pass"


def test_a_missing_pack_makes_its_fields_missing_and_says_so(policy_set: PolicySet) -> None:
    result = decide_areas(policy_set, {"household": (), "village": (village(),)}, dt.date(2017, 6, 30))
    text = " ".join(p.en for p in result.problems)
    assert "exit_criteria.village" in text


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("{type: int, title: {zh: 甲, en: A}, gather: {records: item, by: holder}}", "schema/bad-gather"),
        (
            "{type: list, of: wrap, title: {zh: 甲, en: A}, gather: {records: nothing, by: holder}}",
            "schema/unknown-record",
        ),
    ],
)
def test_bad_gathers_are_reported(field: str, code: str) -> None:
    text = textwrap.dedent(
        f"""\
        schema: t
        format: 1
        version: "1"
        title: {{zh: 甲, en: A}}
        root: holder
        records:
          holder:
            title: {{zh: 甲, en: A}}
            key: code
            fields:
              code: {{type: string, title: {{zh: 甲, en: A}}}}
              items: {field}
          item:
            title: {{zh: 乙, en: B}}
            fields:
              holder: {{type: string, title: {{zh: 乙, en: B}}}}
          wrap:
            title: {{zh: 丙, en: C}}
            fields:
              item: {{type: record, record: item, derive: record, title: {{zh: 丙, en: C}}}}
        """
    )
    schema, problems = schema_from_source(Source("s.yaml", text))
    assert schema is None
    assert code in [d.code for d in problems]


def test_derive_must_be_a_known_form() -> None:
    text = textwrap.dedent(
        """\
        schema: t
        format: 1
        version: "1"
        title: {zh: 甲, en: A}
        root: item
        records:
          item:
            title: {zh: 乙, en: B}
            fields:
              met: {type: bool, derive: {score: some.pack}, title: {zh: 乙, en: B}}
        """
    )
    schema, problems = schema_from_source(Source("s.yaml", text))
    assert schema is None
    assert "schema/bad-derive" in [d.code for d in problems] or "shape/unknown-key" in [
        d.code for d in problems
    ]


def test_weigh_must_be_a_count_or_sum(tmp_path: Path) -> None:
    bad = VILLAGE_PACK.replace("    weigh: |\n      sum(households,", "    weigh: |\n      max(households,")
    (tmp_path / "exit_criteria" / "village").mkdir(parents=True)
    (tmp_path / "exit_criteria" / "village" / "2018.1.yaml").write_text(bad, encoding="utf-8")
    found, problems = load_policies([bundled_policies() / "schema", tmp_path])
    assert found is None
    assert "pack/bad-weigh" in [d.code for d in problems]


def test_weights_of_an_interval_sort_by_their_upper_end(policy_set: PolicySet) -> None:
    homes = (
        household("A", "pre_exit", size=3),  # undetermined: 0..3
        household("B", "not_exited", size=2),
        household("C", "not_exited", size=5),
    )
    result = decide_areas(policy_set, {"household": homes, "village": (village(50),)}, AS_OF)
    (v,) = result.villages
    assert [w.item for w in v.weights] == ["C", "A", "B"]
    assert [w.high for w in v.weights] == [Decimal(5), Decimal(3), Decimal(2)]


def test_under_an_undetermined_criterion_the_unsure_items_come_first(policy_set: PolicySet) -> None:
    homes = (
        household("S1", "not_exited", size=3),
        household("S2", "not_exited", size=2),
        household("U1", "pre_exit", size=1),  # undetermined: 0..1
    )
    # 5 or 6 poor people of 180: 2.8 % or 3.3 % — undetermined; U1 would settle it
    result = decide_areas(policy_set, {"household": homes, "village": (village(180),)}, AS_OF)
    (v,) = result.villages
    assert v.verdict == "undetermined"
    assert [(w.item, w.unsure) for w in v.weights] == [("U1", True), ("S1", False), ("S2", False)]


def test_a_village_given_twice_is_refused(policy_set: PolicySet) -> None:
    with pytest.raises(ValueError, match="village records given more than once: 621126104208"):
        decide_areas(policy_set, {"household": (), "village": (village(), village(500))}, AS_OF)


def test_known_outcomes_are_used_instead_of_running_the_packs_again(policy_set: PolicySet) -> None:
    from gspolicy.explain.build import outcomes_for

    homes = (household("K1", "pre_exit", size=3, per_capita=6000, non_counting_transfers=0),)
    records = {"household": homes, "village": (village(100),)}
    known = {"K1": {k: o.values() for k, o in outcomes_for(policy_set, homes[0], AS_OF).items()}}
    fresh = decide_areas(policy_set, records, AS_OF)
    reused = decide_areas(policy_set, records, AS_OF, known=known)
    assert reused.villages[0].to_json() == fresh.villages[0].to_json()
    assert {f.name: f.value for f in fresh.villages[0].figures}["remaining"] == "0"
    # outcomes given for K1 are taken as they are: none at all leave its exit verdict missing
    emptied = decide_areas(policy_set, records, AS_OF, known={"K1": {}})
    assert {f.name: f.value for f in emptied.villages[0].figures}["remaining"] == "[0, 3]"


def test_a_gather_whose_holder_has_no_key_is_explained_in_both_languages() -> None:
    text = textwrap.dedent(
        """\
        schema: t
        format: 1
        version: "1"
        title: {zh: 甲, en: A}
        root: holder
        records:
          holder:
            title: {zh: 甲, en: A}
            fields:
              items: {type: list, of: wrap, title: {zh: 甲, en: A}, gather: {records: item, by: holder}}
          item:
            title: {zh: 乙, en: B}
            fields:
              holder: {type: string, title: {zh: 乙, en: B}}
          wrap:
            title: {zh: 丙, en: C}
            fields:
              item: {type: record, record: item, derive: record, title: {zh: 丙, en: C}}
        """
    )
    schema, problems = schema_from_source(Source("s.yaml", text))
    assert schema is None
    (d,) = [p for p in problems if p.code == "schema/bad-gather"]
    assert d.render("en").startswith("s.yaml:10:7: schema/bad-gather")
    assert "record type `holder` has no `key`" in d.message("en")
    assert "记录类型 `holder` 没有 `key`" in d.message("zh")
