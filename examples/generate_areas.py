"""Generate the example registry's village and county records from its households.

Reads examples/registry/households.jsonl (made by generate_households.py) and writes one village
record for every village code in it (examples/registry/villages.jsonl, 144 villages) and one county
record for every county code (examples/registry/counties.jsonl, 9 counties), in the shape of the
``village`` and ``county`` record types of policies/schema/household.yaml.  The records never hold
the ``households`` and ``villages`` lists: the evaluator gathers those from the household and
village records by ``village_code`` and ``county_code``.

The data is invented, like the households.  Village names are made up from common elements of
village names in the region (马家沟村, 红崖湾村, ...); any likeness to a real village of that name is
chance.  Township and village codes are those the household generator made up below real county
codes.  County codes, names and city codes are the real GB/T 2260 ones; everything else about a
county (population, survey results) is invented, and so is every amount (a village's collective
income): synthetic (示例数据), not a policy value.

What the records hold:

* ``region_class: west`` everywhere (Gansu is wholly western), ``county_code`` and
  ``township_code`` of the village's households;
* ``registered_poor``: true for most villages (a random eighth are not registered poor villages);
  ``deep_poverty`` true for a few (`DEEP_POVERTY`), false elsewhere;
* ``exited_on`` for a random eighth of the registered poor villages, a date in November or
  December 2017 (a few in 2016), with ``planned_exit_year`` the year of exit; registered villages
  that have not exited plan to exit in 2018 (incidence below 3 %) or 2019-2020 (above);
  villages that are not registered poor villages have no planned exit year, except the
  deep-poverty one;
* ``rural_population`` chosen so that the village's poverty incidence (people in households with
  status not_exited, pre_exit, returned or newly_identified, divided by the rural population; brief
  §3.1) lands around 1-6 %: most villages between 1 and 2.8 %; about a fifth of the registered
  villages that have not exited and hold 30 or more poor people between 3.2 and 5.5 %; exited
  villages (drawn among those with at most 45 poor people) between 0.6 and 2 %; populations within
  600-3,300, 126 of the 144 villages within 800-2,500.  In all, 125 villages are below 3 %, 18 at
  3 % or above (the planted ones included), and one is unknown (see `MISSING`); `--stats` prints
  the spread per county;
* ``indicators`` all met (leading industry, cooperative, hardened road, power, living environment,
  school places, clinic, Dibao for all eligible: true; pension coverage 1; collective income
  15,000-90,000 yuan a year) except the planted failures below;
* a county's ``rural_population`` is the sum of its villages' (including a village whose record
  leaves it out), ``poor_county_type`` and ``city_code`` are its households', ``planned_exit_year``
  2020 for the eight counties that were the last to exit (brief §3.2) and 2019 for 清水县 (an
  assumption: it is not among the last eight); no county has ``exited_on`` (the data are of 2018);
* a county's ``non_registered_population`` is its rural population less the people of its
  registered households (every household of the example registry is registered), its
  ``planned_exit_population`` the people of its households planned to exit (``pre_exit``): the
  populations the comprehensive incidence extrapolates the survey's rates to (brief §3.2);
* a county ``survey`` (the third-party assessment's sample, brief §3.2): 300-1,500 households
  surveyed, 92-98 % approving; 600-2,400 exited people sampled with 0-1.5 % wrongly exited; 1,500-
  6,000 non-registered people in the sampled villages with 0-1.5 % omitted poor people found.

Planted cases (each in a village that otherwise meets every standard: a registered poor village,
not exited, planning to exit in 2018, incidence below 3 %, unless said otherwise):

* near the 3 % line (`NEAR_LINE`), each holding a planned-to-exit (pre_exit) household whose exit
  decision is undetermined for missing data, so that the village's decision can hang on it:
    - 621126102202: 24 poor people in 800, **exactly 3.00 %**; 621126-0268 (3 people) has no
      ``income.per_capita``; without its people 2.6 %;
    - 622921103204: 39 in 1,250, 3.12 %; 622921-0019 (6 people) has no ``water``; without 2.64 %;
    - 622926104202: 59 in 1,900, 3.11 %; 622926-0324 (5 people) has no ``income.per_capita``;
      without 2.84 %;
    - 621225103202: just below the line with nothing undetermined: 44 in 1,477, 2.98 %;
* one failing indicator each (`FAILING`): 621121102201 no farmers' cooperative
  (``cooperative: false``), 621225101201 no village clinic (``clinic: false``), 621226101201
  ``collective_income: 0``, 620521102201 ``pension_coverage: 0.97``, 621223102201 no hardened road
  (``hardened_road: false``), 621027103201 Dibao not given to every eligible household
  (``dibao_all_covered: false``);
* deep poverty (`DEEP_POVERTY`): 622926105203, 621223104204 and 621225101204, registered poor
  villages with incidence 5-5.5 % planning to exit in 2020, and 622921102201, a non-registered
  deep-poverty village (brief §3.1: 1,042 such villages) with incidence about 4 %, planning 2020;
* left out (`MISSING`; missing is unknown, so the decisions that need it stay undetermined):
  village 621027104202 has no ``rural_population``, village 622926102203 no ``indicators.clinic``,
  county 621223 (宕昌县) no ``survey.households_approving``;
* counties (`SURVEY_CASES`): 621121 (通渭县) 88 % approving (282 of 320; below the 90 % of brief
  §3.2), 621226 (礼县) 2.3 % wrongly exited (42 of 1,819; above 2 %).

Only the standard library is used, and one ``random.Random(f"{seed}-areas")`` stream, so the
output is the same on every run and platform::

    python examples/generate_areas.py             # writes examples/registry/villages.jsonl, counties.jsonl
    python examples/generate_areas.py --stats     # and prints the incidence per county
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SEED = 20181001
REGISTRY = Path(__file__).with_name("registry")
HOUSEHOLDS = REGISTRY / "households.jsonl"

# The household statuses whose people count as poor in the incidence (brief §3.1: 贫困人数).
POOR = ("not_exited", "pre_exit", "returned", "newly_identified")
STATUS_LABELS = {
    "未脱贫": "not_exited",
    "预脱贫": "pre_exit",
    "已脱贫": "exited",
    "返贫": "returned",
    "新识别": "newly_identified",
}
POOR_COUNTY_LABELS = {"集中连片特困地区县": "contiguous", "插花型贫困县": "scattered", "非贫困县": "not_poor"}

# Real GB/T 2260 names; planned exit years: brief §3.2 (the last eight exited on 2020-11-21),
# 清水县 assumed to be in the 2019 round.
COUNTIES: dict[str, tuple[str, int]] = {
    "620521": ("清水县", 2019),
    "621027": ("镇原县", 2020),
    "621121": ("通渭县", 2020),
    "621126": ("岷县", 2020),
    "621223": ("宕昌县", 2020),
    "621225": ("西和县", 2020),
    "621226": ("礼县", 2020),
    "622921": ("临夏县", 2020),
    "622926": ("东乡族自治县", 2020),
}

# Planted cases; see the module docstring.
NEAR_LINE: dict[str, int] = {  # village: rural population
    "621126102202": 800,
    "622921103204": 1250,
    "622926104202": 1900,
    "621225103202": 0,  # 0: the population that puts the incidence just below 3 %
}
FAILING: dict[str, tuple[str, object]] = {  # village: (indicator, value)
    "621121102201": ("cooperative", False),
    "621225101201": ("clinic", False),
    "621226101201": ("collective_income", 0),
    "620521102201": ("pension_coverage", 0.97),
    "621223102201": ("hardened_road", False),
    "621027103201": ("dibao_all_covered", False),
}
DEEP_POVERTY: dict[str, float] = {  # village: incidence
    "622926105203": 0.055,
    "621223104204": 0.052,
    "621225101204": 0.05,
    "622921102201": 0.04,  # not a registered poor village
}
NOT_REGISTERED = ("622921102201",)
MISSING: tuple[tuple[str, str], ...] = (  # record code, field path left out
    ("621027104202", "rural_population"),
    ("622926102203", "indicators.clinic"),
    ("621223", "survey.households_approving"),
)
SURVEY_CASES: dict[str, tuple[str, float]] = {  # county: (what, rate)
    "621121": ("approving", 0.88),
    "621226": ("wrongly_exited", 0.023),
}
PLANTED = {*NEAR_LINE, *FAILING, *DEEP_POVERTY, *(code for code, _ in MISSING)}

# Elements of invented village names.
SURNAMES = "马王李张杨刘陈赵何郭罗韩苏汪石魏包"
PLACES = ("沟", "湾", "庄", "坪", "川", "岔", "山", "坡", "台", "峪", "寨", "咀", "塬", "滩", "洼", "岭")
FIRSTS = (
    "红崖",
    "石门",
    "柳林",
    "泉",
    "阳",
    "新堡",
    "大",
    "小",
    "上",
    "下",
    "前",
    "后",
    "杏园",
    "松树",
    "白杨",
    "黄",
)


@dataclasses.dataclass
class Village:
    """What the households say about one village."""

    code: str
    county: str
    township: str
    households: int = 0
    people: int = 0
    poor: int = 0  # people in households with a status in POOR


def read_households(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tally(households: Iterable[dict[str, Any]]) -> dict[str, Village]:
    """The villages of the households, in code order, with their households and poor people."""
    villages: dict[str, Village] = {}
    for h in households:
        code = h["village_code"]
        village = villages.setdefault(code, Village(code, h["county_code"], h["township_code"]))
        status = h["registration"]["status"]
        people = len(h["members"])
        village.households += 1
        village.people += people
        if STATUS_LABELS.get(status, status) in POOR:
            village.poor += people
    return dict(sorted(villages.items()))


def village_names(rng: random.Random, codes: list[str]) -> dict[str, str]:
    """Invented village names, unique across the registry."""
    used: set[str] = set()
    names: dict[str, str] = {}
    for code in codes:
        while True:
            if rng.random() < 0.6:
                stem = f"{rng.choice(SURNAMES)}家{rng.choice(PLACES)}"
            else:
                stem = f"{rng.choice(FIRSTS)}{rng.choice(PLACES)}"
            if stem not in used:
                break
        used.add(stem)
        names[code] = f"{stem}村"
    return names


def near_line_population(poor: int) -> int:
    """The smallest population that puts `poor` people below 3 % of it, a little above."""
    return poor * 100 // 3 + 1 + 10


def build(
    households: list[dict[str, Any]], seed: int = SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The village and county records (in code order) for the registry's households."""
    rng = random.Random(f"{seed}-areas")
    villages = tally(households)
    for code in PLANTED:
        if len(code) == 12 and code not in villages:
            raise ValueError(f"planted village {code} has no households; update the planted cases")
    names = village_names(rng, list(villages))
    free = [code for code in villages if code not in PLANTED]
    not_registered = set(NOT_REGISTERED) | set(rng.sample(free, len(villages) // 8))
    registered_free = [code for code in free if code not in not_registered]
    fewer_poor = [code for code in registered_free if villages[code].poor <= 45]
    exited = set(rng.sample(fewer_poor, len(villages) // 8))
    high = {
        code
        for code in registered_free
        if code not in exited and villages[code].poor >= 30 and rng.random() < 0.2
    }

    records: list[dict[str, Any]] = []
    populations: dict[str, int] = {}
    for code, village in villages.items():
        if code in NEAR_LINE:
            population = NEAR_LINE[code] or near_line_population(village.poor)
        elif code in DEEP_POVERTY:
            population = round(village.poor / DEEP_POVERTY[code])
        else:
            # the incidence aimed at, within bounds that keep most populations in 800-2,600
            if code in exited:
                low, top = max(0.006, village.poor / 2600), 0.02
            elif code in high:
                low, top = 0.032, 0.055
            else:
                low, top = max(0.01, village.poor / 2600), 0.028
            target = rng.uniform(low, top) if low < top else village.poor / 3300
            population = min(3300, max(600, round(village.poor / target)))
        populations[code] = population
        record: dict[str, Any] = {
            "code": code,
            "name": names[code],
            "county_code": village.county,
            "township_code": village.township,
            "region_class": "west",
            "registered_poor": code not in not_registered,
            "deep_poverty": code in DEEP_POVERTY,
        }
        if code in exited:
            year = 2016 if rng.random() < 0.2 else 2017
            record["planned_exit_year"] = year
            record["exited_on"] = f"{year}-{rng.choice([11, 12])}-{rng.randint(1, 28):02d}"
        elif code in DEEP_POVERTY:
            record["planned_exit_year"] = 2020
        elif code in PLANTED:
            record["planned_exit_year"] = 2018
        elif code not in not_registered:
            below = village.poor * 100 < 3 * population
            record["planned_exit_year"] = 2018 if below else rng.choice([2019, 2020])
        record["rural_population"] = population
        record["indicators"] = {
            "leading_industry": True,
            "cooperative": True,
            "collective_income": rng.randint(15, 90) * 1000,
            "hardened_road": True,
            "power": True,
            "living_environment": True,
            "school_places": True,
            "clinic": True,
            "pension_coverage": 1,
            "dibao_all_covered": True,
        }
        if code in FAILING:
            field, value = FAILING[code]
            record["indicators"][field] = value
        records.append(record)

    counties: list[dict[str, Any]] = []
    by_county: dict[str, dict[str, Any]] = {}
    registered: dict[str, int] = {}  # people of registered (建档立卡) households, by county
    planned_people: dict[str, int] = {}  # people of households planned to exit this year
    for h in households:
        by_county.setdefault(h["county_code"], h)
        status = STATUS_LABELS.get(h["registration"]["status"], h["registration"]["status"])
        people = len(h["members"])
        registered[h["county_code"]] = registered.get(h["county_code"], 0) + people
        if status == "pre_exit":
            planned_people[h["county_code"]] = planned_people.get(h["county_code"], 0) + people
    for code in sorted(by_county):
        first = by_county[code]
        name, planned = COUNTIES[code]
        surveyed = rng.randint(300, 1500)
        approving_rate = rng.uniform(0.92, 0.98)
        exited_sampled = rng.randint(600, 2400)
        wrong_rate = rng.uniform(0.0, 0.015)
        others = rng.randint(1500, 6000)
        omitted_rate = rng.uniform(0.0, 0.015)
        what, rate = SURVEY_CASES.get(code, ("", 0.0))
        if what == "approving":
            approving_rate = rate
        elif what == "wrongly_exited":
            wrong_rate = rate
        poor_county_type = str(first["poor_county_type"])
        rural = sum(p for v, p in populations.items() if villages[v].county == code)
        county: dict[str, Any] = {
            "code": code,
            "name": name,
            "city_code": first["city_code"],
            "region_class": "west",
            "poor_county_type": POOR_COUNTY_LABELS.get(poor_county_type, poor_county_type),
            "planned_exit_year": planned,
            "rural_population": rural,
            "non_registered_population": rural - registered.get(code, 0),
            "planned_exit_population": planned_people.get(code, 0),
            "survey": {
                "households_surveyed": surveyed,
                "households_approving": round(surveyed * approving_rate),
                "exited_people_sampled": exited_sampled,
                "wrongly_exited_people_found": round(exited_sampled * wrong_rate),
                "non_registered_people_sampled": others,
                "omitted_people_found": round(others * omitted_rate),
            },
        }
        counties.append(county)

    for code, path in MISSING:
        holder: dict[str, Any] = next(r for r in (*records, *counties) if r["code"] == code)
        *parents, last = path.split(".")
        for part in parents:
            holder = holder[part]
        del holder[last]
    return records, counties


def to_text(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def stats(
    households: list[dict[str, Any]], villages: list[dict[str, Any]], counties: list[dict[str, Any]]
) -> list[str]:
    """Poverty incidence per county: the county's, and the spread over its villages."""
    found = tally(households)
    lines = [
        "| county | villages | rural population | poor people | incidence | village min | median | max "
        "| villages ≥ 3 % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for county in counties:
        code = county["code"]
        own = [v for v in villages if v["county_code"] == code]
        rates = [found[v["code"]].poor / v["rural_population"] for v in own if "rural_population" in v]
        poor = sum(found[v["code"]].poor for v in own)
        lines.append(
            f"| {code} {county['name']} | {len(own)} | {county['rural_population']:,} | {poor:,} "
            f"| {100 * poor / county['rural_population']:.2f} % | {100 * min(rates):.2f} % "
            f"| {100 * statistics.median(rates):.2f} % | {100 * max(rates):.2f} % "
            f"| {sum(r >= 0.03 for r in rates)} |"
        )
    rates = [found[v["code"]].poor / v["rural_population"] for v in villages if "rural_population" in v]
    lines.append(
        f"villages: {len(villages)}; incidence below 2 %: {sum(r < 0.02 for r in rates)}, 2-3 %: "
        f"{sum(0.02 <= r < 0.03 for r in rates)}, 3 % and above: {sum(r >= 0.03 for r in rates)}; "
        f"population {min(v['rural_population'] for v in villages if 'rural_population' in v)}-"
        f"{max(v['rural_population'] for v in villages if 'rural_population' in v)}"
    )
    lines.append(
        f"registered poor: {sum(v['registered_poor'] for v in villages)}; exited: "
        f"{sum('exited_on' in v for v in villages)}; deep poverty: {sum(v['deep_poverty'] for v in villages)}"
    )
    for code in NEAR_LINE:
        v = next(v for v in villages if v["code"] == code)
        lines.append(
            f"near the line: {code} {found[code].poor} / {v['rural_population']} = "
            f"{100 * found[code].poor / v['rural_population']:.2f} %"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--households", type=Path, default=HOUSEHOLDS, help="default: %(default)s")
    parser.add_argument(
        "-o", "--output", type=Path, default=REGISTRY, help="directory (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    parser.add_argument("--stats", action="store_true", help="print the incidence per county")
    args = parser.parse_args(argv)
    households = read_households(args.households)
    villages, counties = build(households, args.seed)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "villages.jsonl").write_text(to_text(villages), encoding="utf-8")
    (args.output / "counties.jsonl").write_text(to_text(counties), encoding="utf-8")
    if args.stats:
        sys.stdout.write("\n".join(stats(households, villages, counties)) + "\n")


if __name__ == "__main__":
    main()
