"""Generate synthetic registered households of Gansu: the 60-household sample and larger registries.

The households are invented.  They hold no personal data: ids look like ``621126-0001`` (a county
code and a running number), nobody has a name, and place codes below the county are made up.  The
county codes are real GB/T 2260 codes of Gansu poverty counties; the files give the codes only.

Two profiles (``--profile``; by default ``sample`` up to 60 households, ``registry`` above):

``sample`` (examples/households.jsonl, 60 households) is the example the tests and tutorials use,
and stays byte-for-byte what it has been since it was committed:

* six counties: 岷县 621126, 通渭县 621121, 东乡族自治县 622926, 西和县 621225, 礼县 621226,
  清水县 620521;
* household sizes 1-7, statuses mostly not exited or planned to exit this year, some exited
  (with exit dates), a few returned to poverty or newly identified in the 2018 adjustment;
* incomes around 2,000-6,000 yuan per person, mostly over the 2018 check period
  2017-10-01 .. 2018-09-30 (brief §2.3), the components adding up to the per-capita total;
* members given by birth date, or by ``age`` plus ``age_recorded_on`` as some exports do;
* a few households with fields missing (missing data is allowed: it makes decisions
  undetermined, it never turns into a default);
* about a third of the households written with the Chinese labels of a registry export
  (``因病``, ``五保户``, ``危房D类`` ...), the rest with the stable English codes.

``registry`` (examples/registry/households.jsonl, 3,000 households) writes every field of the
schema (province and city codes, poor-county type, secondary causes, Dibao/Wubao paid, rigid
spending, location flags, land, disability grade, skills training, member Dibao/Wubao, and a
dated support history around each exit) and follows the brief where it gives a proportion:

====================================  ========  ===============================================
proportion                            target    source
====================================  ========  ===============================================
people per household                  ≈ 4.13    brief §7: 1.01 million households, 4.17 million
                                                people on the big-data platform (2015)
因学 as main or secondary cause        ≈ 13 %    brief §5.5: 13 % of registered poor in 2015
central water supply / tap water      91 / 88 % brief §5.9: Gansu, May 2019
exited / planned 2018 / not exited    53/19/22  brief §7: 4.17 million poor at end-2014, 1.89
                                                million at end-2017; addendum ("Other Gansu
                                                facts"): 0.935 million exited in 2019, 0.175
                                                million left, so about 1.11 million at end-2018
ex-situ relocation                    ≈ 10 %    brief §5.3: 173,900 households in 2016-2020, an
                                                upper bound as it includes non-registered
                                                neighbours; the share used is an assumption
counties                              9         brief §3.2: the last eight to exit (2020-11-21)
                                                and 清水县; all in the 58 contiguous-area
                                                counties, so ``poor_county_type: contiguous``
====================================  ========  ===============================================

Its households live in 12-20 villages a county (`REGISTRY_VILLAGES`, 144 villages in 36 townships,
9-40 households a village), so that village poverty incidence means something; the sample's codes
are the two draws as they are.  examples/generate_areas.py writes the village and county records.

The brief gives no shares for the rest, so these are assumptions: the household categories
(general 70 %, Dibao 22 %, tekun 8 %), the other main causes, health, labour and schooling, the
returned and newly identified shares, Dibao amounts (2,000-4,000 yuan a household a year; the
brief found no Gansu Dibao standard, addendum §2), Wubao amounts (4,500-7,500 a person a year),
rigid spending, land (1.2-4 mu of farmland a person, 0.3-1 mu when short of land), the location
flags (about half ecologically fragile; disaster-prone and key ecological areas by county, as an
illustration, not a zoning map) and which measures a household had.  Every support amount is
synthetic (示例数据): made up for the example, not a policy value, even where it echoes a figure
the brief reports — microcredit 50,000 over 3 years (brief §5.1: a ceiling, and one county's
loans), preschool fee waiver 1,000 a year and secondary vocational tuition 2,000 a year (brief
§5.5), a ranger post 8,000 a year (brief §5.4: pay in Yunnan and one deputy's proposal; Gansu's was
not found, and the ecology pack leaves it not established), a relocation subsidy of 40,000 (one
Gulang household's, addendum §4), the 退耕还林 subsidy of 1,200 yuan a mu over 5 years (addendum §5,
national, L-M).  These amounts reach explanations: the buffer after exit keeps the amount held at
exit, read from the record's support history, so an explanation of an example household shows a
synthetic amount, not one the packs establish.

The registry, and only the registry, carries planted data-quality defects (see `DEFECTS`: about
1 % paid both Dibao and Wubao, 0.5 % 因病 with everyone healthy, 0.5 % general households paid
Dibao, 0.3 % each of 因学 with nobody at school, migrant workers without labour capacity and exited
households in a grade-D house) and leaves a few fields out (0.5 % each, `GAPS`), so that
data-quality checks have something to find.

Only the standard library is used (gspolicy and Polars too to write tables).  The shared stream
is one ``random.Random(seed)`` whose draws are those of the sample; the registry's profile changes
only weights, and every field the sample does not have comes from a generator of its own
(``random.Random(f"{seed}-{index}")`` per household, ``f"{seed}-defects"`` and ``f"{seed}-gaps"``),
so the output is the same on every run and platform::

    python examples/generate_households.py                # writes examples/households.jsonl
    python examples/generate_households.py --count 3000 -o examples/registry/households.jsonl
    python examples/generate_households.py --count 3000 -o /tmp/r.jsonl --stats   # and its shares
    python examples/generate_households.py --count 1000000 -o /tmp/r.parquet     # registry tables

Any size is written in bounded memory, a block of 4,096 households at a time (JSON Lines; CSV,
Parquet or Excel as the three registry tables).  It takes two passes over the same streams: the
first keeps one byte a household (which defects it may carry) and draws the defects and the gaps
as they were always drawn, the second writes each household as it is generated; so the output is
byte for byte what holding the whole registry in memory gave (``build`` still does that, for checks).
A million households take about 5 minutes and about 330 MB (about 245 MB at 200,000); the text
grows 2.8 GB as JSON Lines, the Parquet tables about 100 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SEED = 20181001
COUNT = 60
OUTPUT = Path(__file__).with_name("households.jsonl")

COUNTIES = ("621126", "621121", "622926", "621225", "621226", "620521")
PERIOD = ("2017-10-01", "2018-09-30")  # the 2018 exit check's income period (brief §2.3)
OLD_PERIOD = ("2017-01-01", "2017-12-31")  # a calendar-year period some records still carry
RECORDED_ON = dt.date(2018, 9, 30)

# Chinese labels (some of them registry aliases) for the codes this script writes; the schema
# accepts either and canonicalises to the code.
ZH: dict[str, dict[str, str]] = {
    "region_class": {"west": "西部"},
    "category": {"general": "一般贫困户", "dibao": "低保", "tekun": "五保户"},
    "status": {
        "not_exited": "未脱贫",
        "pre_exit": "预脱贫",
        "exited": "已脱贫",
        "returned": "返贫",
        "newly_identified": "新识别",
    },
    "identification_standard": {"national": "国家标准", "provincial": "省定标准"},
    "main_cause": {
        "illness": "因病",
        "disability": "因残",
        "schooling": "因学",
        "disaster": "因灾",
        "lack_of_land": "缺土地",
        "lack_of_water": "缺水",
        "lack_of_skills": "缺技术",
        "lack_of_labour": "缺劳力",
        "lack_of_funds": "缺资金",
        "poor_transport": "交通条件落后",
        "lack_of_drive": "自身发展动力不足",
    },
    "basis": {"net": "纯收入", "disposable": "可支配收入"},
    "grade": {"a": "A级", "b": "B级", "c": "危房C类", "d": "危房D类"},
    "relocation": {
        "none": "未搬迁",
        "planned": "计划搬迁",
        "keys_handed_over": "已交钥匙",
        "moved_in": "已入住",
    },
    "resettlement": {"central": "集中安置", "scattered": "分散"},
    "supply": {
        "large_scheme": "千吨万人供水工程",
        "small_scheme": "小型集中供水工程",
        "dispersed": "分散式供水",
    },
    "relation": {
        "head": "户主",
        "spouse": "配偶",
        "child": "子女",
        "child_in_law": "儿媳或女婿",
        "grandchild": "孙子女",
        "parent": "父母",
        "other": "其他",
    },
    "sex": {"male": "男", "female": "女"},
    "health": {"healthy": "健康", "chronic": "长期慢性病", "serious": "大病", "disabled": "残疾"},
    "labour": {
        "ordinary": "普通劳动力",
        "skilled": "技能劳动力",
        "weak": "弱劳动力或半劳动力",
        "lost": "丧失劳动力",
        "none": "无劳动力",
    },
    "schooling": {
        "not_in_school": "非在校生",
        "preschool": "学前教育",
        "primary": "小学",
        "junior_secondary": "七至九年级",
        "senior_secondary": "高中",
        "secondary_vocational": "中职",
        "higher_vocational": "高职",
        "undergraduate": "本科及以上",
    },
    "dropout_reason": {"illness": "因病", "work": "外出务工", "other": "其他"},
}

# Support measures: (measure id, lowest and highest amount in yuan).  The ids and amounts are
# synthetic (示例数据), not policy parameters: 40,000 is one Gulang household's relocation subsidy
# (addendum §4) and 8,000 a Yunnan ranger's pay (brief §5.4), neither a Gansu rule.
MEASURES = (
    ("industry_grant", 3000, 10000),
    ("microcredit", 50000, 50000),  # poverty microcredit of up to 50,000 yuan (brief §5.1)
    ("housing_renovation", 6000, 20000),
    ("relocation_subsidy", 40000, 40000),
    ("yulu_plan", 1500, 3000),
    ("eco_ranger", 8000, 8000),
    ("medical_assistance", 500, 15000),
    ("skills_training", 800, 2000),
)

MeasureRange = tuple[str, int, int]


@dataclasses.dataclass(frozen=True)
class Profile:
    """The distributions of the shared random stream, and whether to write the full registry.

    ``SAMPLE`` holds the values the 60-household example was made with and must never change (the
    committed examples/households.jsonl is byte-for-byte its output).  ``REGISTRY`` changes only
    weights and names, never the number of draws a choice takes, and adds everything else from
    random generators of its own.
    """

    name: str
    counties: tuple[str, ...]
    status_weights: tuple[int, ...]  # not_exited, pre_exit, exited, returned, newly_identified
    size_weights: tuple[int, ...]  # sizes 1..7 of households that are not tekun
    fallback_causes: tuple[tuple[str, int], ...]  # main causes not read off the members
    relocation_cuts: tuple[float, float, float]  # upper ends of none, planned, keys_handed_over
    supply_weights: tuple[int, int, int]  # large_scheme, small_scheme, dispersed
    piped_share: float  # share of households on a central scheme with a tap in the home
    measures: tuple[MeasureRange, ...]
    full: bool  # write the fields added in schema 2018.1, support around exit, planted defects
    # county code: villages per township; empty: every drawn township and village code is used
    villages: tuple[tuple[str, tuple[int, ...]], ...] = ()


SAMPLE = Profile(
    name="sample",
    counties=COUNTIES,
    status_weights=(36, 26, 24, 7, 7),
    size_weights=(4, 12, 18, 26, 22, 12, 6),
    fallback_causes=(
        ("lack_of_funds", 30),
        ("lack_of_skills", 22),
        ("lack_of_water", 12),
        ("poor_transport", 10),
        ("lack_of_land", 8),
        ("disaster", 6),
        ("lack_of_drive", 6),
        ("illness", 6),
    ),
    relocation_cuts=(0.8, 0.88, 0.95),
    supply_weights=(45, 35, 20),
    piped_share=0.9,
    measures=MEASURES,
    full=False,
)

# The registry spreads households over the eight counties that were the last to exit, on
# 2020-11-21 (brief §3.2), and 清水县.  Codes: GB/T 2260; all nine are among the 58 counties of the
# contiguous destitute areas (六盘山区 and 秦巴山区).
REGISTRY_COUNTIES: dict[str, tuple[str, str]] = {  # county code: (city code, county name)
    "621126": ("621100", "岷县"),
    "621121": ("621100", "通渭县"),
    "622926": ("622900", "东乡族自治县"),
    "621225": ("621200", "西和县"),
    "621226": ("621200", "礼县"),
    "620521": ("620500", "清水县"),
    "622921": ("622900", "临夏县"),
    "621223": ("621200", "宕昌县"),
    "621027": ("621000", "镇原县"),
}
PROVINCE = "620000"

# The registry's villages: each county's households live in 12-20 villages, about 15-30 registered
# households a village, so that a village's poverty incidence means something (drawn codes taken
# as they are would give some 2,100 villages of 1-2 households).  County code: the number of
# villages in each of its townships; township codes are the county code and 101, 102, ..., village
# codes the township code and 201, 202, ...  The numbers are invented, as are the codes below the
# county.  `Generator.place` maps the two draws the sample uses onto these pools, so the random
# stream, and every other field, is what it would be without them.
REGISTRY_VILLAGES: dict[str, tuple[int, ...]] = {
    "621126": (4, 3, 5, 4),  # 16 villages, about 21 households each
    "621121": (5, 4, 4),  # 13, about 26
    "622926": (3, 4, 4, 3, 4),  # 18, about 19
    "621225": (4, 4, 4),  # 12, about 28
    "621226": (5, 5, 4, 5),  # 19, about 18
    "620521": (4, 3, 4, 3),  # 14, about 24
    "622921": (3, 5, 4, 3),  # 15, about 22
    "621223": (4, 4, 3, 4, 5),  # 20, about 17
    "621027": (4, 5, 4, 4),  # 17, about 20
}

REGISTRY = Profile(
    name="registry",
    counties=tuple(REGISTRY_COUNTIES),
    # brief §7: 4.17 million poor at end-2014, 1.89 million left at end-2017; addendum: 0.935
    # million exited in 2019 and 0.175 million remained, so about 1.11 million at end-2018
    status_weights=(22, 19, 53, 2, 4),
    # with 8 % tekun households of 1-2 people this gives a mean of about 4.13 people (brief §7)
    size_weights=(3, 9, 15, 27, 25, 14, 7),
    # 因病 with nobody ill is a planted defect here, not a fallback
    fallback_causes=(
        ("lack_of_funds", 36),
        ("lack_of_skills", 22),
        ("lack_of_water", 12),
        ("poor_transport", 10),
        ("lack_of_land", 8),
        ("disaster", 6),
        ("lack_of_drive", 6),
    ),
    relocation_cuts=(0.9, 0.93, 0.97),  # about 10 % in ex-situ relocation (brief §5.3)
    supply_weights=(52, 39, 9),  # central supply 91 % (brief §5.9, May 2019)
    piped_share=0.967,  # 0.91 × 0.967 ≈ 88 % with tap water (brief §5.9, May 2019)
    measures=tuple(("ranger_post" if m == "eco_ranger" else m, lo, hi) for m, lo, hi in MEASURES),
    full=True,
    villages=tuple(REGISTRY_VILLAGES.items()),
)


def money(fen: int) -> int | float:
    """An amount in fen as a JSON number of yuan (whole yuan as an integer)."""
    if fen % 100 == 0:
        return fen // 100
    return fen / 100  # the shortest repr of n/100 is exactly two decimals


def day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


class Generator:
    def __init__(self, seed: int = SEED, profile: Profile = SAMPLE) -> None:
        self.seed = seed
        self.profile = profile
        self.rng = random.Random(seed)  # the shared stream of the sample; see `Profile`
        self.numbers: dict[str, int] = {}
        self.facts: list[dict[str, Any]] = []  # plain facts per household, for planting defects
        self.defective: set[int] = set()  # indices of households with a planted defect
        self.planted: dict[str, list[str]] = {}  # defect name: household ids
        self.households: list[dict[str, Any]] = []

    # -- labels ---------------------------------------------------------------------------------
    def label(self, kind: str, code: str, chinese: bool) -> str:
        return ZH[kind][code] if chinese else code

    def yes_no(self, value: bool, chinese: bool) -> bool | str:
        """Registry exports write yes/no as 是/否; the schema accepts both forms."""
        if chinese:
            return "是" if value else "否"
        return value

    # -- place ------------------------------------------------------------------------------------
    def place(self, county: str, township: int, village: int) -> tuple[str, str]:
        """Township and village codes from the two drawn numbers (1-15 and 1-29).

        Without village pools (the sample) the numbers are the codes' last three digits (101-115,
        201-229).  With pools (the registry) the two draws, read as one number 0-434, pick the
        village of the county's pool by their remainder, so the pool's villages get about equal
        shares and the random stream is untouched.
        """
        pools = dict(self.profile.villages)
        if county not in pools:
            return f"{county}{100 + township:03d}", f"{county}{100 + township:03d}{200 + village:03d}"
        sizes = pools[county]
        index = ((township - 1) * 29 + (village - 1)) % sum(sizes)
        for number, size in enumerate(sizes, start=1):
            if index < size:
                code = f"{county}{100 + number:03d}"
                return code, f"{code}{201 + index:03d}"
            index -= size
        raise AssertionError("unreachable: the index is below the pool's size")

    # -- one household ----------------------------------------------------------------------------
    def household(self, index: int) -> dict[str, Any]:
        rng = self.rng
        profile = self.profile
        county = profile.counties[index % len(profile.counties)]
        self.numbers[county] = self.numbers.get(county, 0) + 1
        number = self.numbers[county]
        township, village = self.place(county, rng.randrange(1, 16), rng.randrange(1, 30))
        chinese = index % 3 == 1  # about a third written as a registry export would write them

        status = rng.choices(
            ["not_exited", "pre_exit", "exited", "returned", "newly_identified"], profile.status_weights
        )[0]
        category = rng.choices(["general", "dibao", "tekun"], [70, 22, 8])[0]
        size = (
            1 + rng.randrange(2) if category == "tekun" else rng.choices(range(1, 8), profile.size_weights)[0]
        )
        members = self.members(county, number, size, category)

        reg: dict[str, Any] = {"category": self.label("category", category, chinese)}
        reg["status"] = self.label("status", status, chinese)
        reg["identification_standard"] = self.label(
            "identification_standard", "national" if rng.random() < 0.9 else "provincial", chinese
        )
        if status == "newly_identified":
            identified = day(rng, dt.date(2018, 10, 1), dt.date(2018, 12, 20))
        else:
            identified = day(rng, dt.date(2014, 4, 1), dt.date(2014, 10, 31))
            if rng.random() < 0.15:
                identified = day(rng, dt.date(2015, 10, 1), dt.date(2016, 12, 31))
        reg["identified_on"] = identified.isoformat()
        if status == "pre_exit":
            reg["planned_exit_year"] = 2018
        elif status in ("not_exited", "newly_identified"):
            reg["planned_exit_year"] = rng.choice([2019, 2019, 2020])
        if status in ("exited", "returned"):
            year = rng.choice([2015, 2016, 2017] if status == "exited" else [2016, 2017])
            exited = max(
                identified + dt.timedelta(days=180), day(rng, dt.date(year, 11, 1), dt.date(year, 12, 31))
            )
            reg["planned_exit_year"] = exited.year
            reg["exited_on"] = exited.isoformat()
            if status == "returned":
                reg["returned_on"] = day(rng, dt.date(2018, 10, 1), dt.date(2018, 12, 15)).isoformat()
        reg["main_cause"] = self.label("main_cause", self.cause(members), chinese)

        household: dict[str, Any] = {
            "id": f"{county}-{number:04d}",
            "county_code": county,
            "township_code": township,
            "village_code": village,
            "region_class": self.label("region_class", "west", chinese),
            "size": size,
            "registration": reg,
            "income": self.income(status, category, members, chinese),
            "food_and_clothing_secured": self.yes_no(
                status in ("exited", "pre_exit") or rng.random() < 0.85, chinese
            ),
            "housing": self.housing(status, chinese),
            "water": self.water(status, chinese),
        }
        support = self.support(status, category, members, household["housing"])
        if support:
            household["support"] = support
        household["members"] = [self.member_out(m, chinese) for m in members]
        if profile.full:
            facts = {"status": status, "category": category, "chinese": chinese, "members": members}
            self.facts.append(facts)
            self.complete(household, index, facts)
        return household

    # -- members ----------------------------------------------------------------------------------
    def members(self, county: str, number: int, size: int, category: str) -> list[dict[str, Any]]:
        """Plain member facts (codes, exact age) to be written out by `member_out`."""
        rng = self.rng
        head_age = rng.randint(62, 86) if category == "tekun" else rng.randint(28, 72)
        head_sex = "male" if rng.random() < 0.85 else "female"
        people: list[tuple[str, str, int]] = [("head", head_sex, head_age)]
        if size >= 2 and category != "tekun":
            people.append(
                ("spouse", "female" if head_sex == "male" else "male", max(20, head_age + rng.randint(-6, 3)))
            )
        elif size >= 2:
            people.append(("other", rng.choice(["male", "female"]), rng.randint(55, 85)))
        if size >= 3 and head_age < 45 and rng.random() < 0.6:
            people.append(("parent", rng.choice(["male", "female"]), min(95, head_age + rng.randint(22, 30))))
        while len(people) < size:
            if head_age >= 55 and rng.random() < 0.5:
                if not any(r == "child_in_law" for r, _, _ in people) and rng.random() < 0.4:
                    people.append(
                        ("child_in_law", rng.choice(["male", "female"]), rng.randint(22, head_age - 20))
                    )
                else:
                    people.append(
                        ("grandchild", rng.choice(["male", "female"]), rng.randint(0, max(0, head_age - 42)))
                    )
            else:
                low, high = max(0, head_age - 42), max(0, head_age - 19)
                people.append(("child", rng.choice(["male", "female"]), rng.randint(low, high)))
        out = []
        for n, (relation, sex, age) in enumerate(people, start=1):
            out.append(self.person(f"{county}-{number:04d}-{n:02d}", relation, sex, age, category))
        return out

    def person(self, ident: str, relation: str, sex: str, age: int, category: str) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        if age >= 60:
            health = (
                "chronic"
                if roll < 0.35
                else "serious"
                if roll < 0.45
                else "disabled"
                if roll < 0.55
                else "healthy"
            )
        else:
            health = (
                "chronic"
                if roll < 0.08
                else "serious"
                if roll < 0.12
                else "disabled"
                if roll < 0.17
                else "healthy"
            )
        if age < 16:
            labour = "none"
        elif health in ("serious", "disabled") or age >= 75 or category == "tekun":
            labour = rng.choice(["lost", "none"]) if age >= 70 or health == "serious" else "weak"
        elif age >= 60 or health == "chronic":
            labour = "weak"
        else:
            labour = "skilled" if rng.random() < 0.2 else "ordinary"
        schooling, enrolled = self.school(age)
        dropped_out = False
        reason = None
        if schooling == "junior_secondary" and rng.random() < 0.2:
            dropped_out, enrolled, schooling = True, False, "not_in_school"
            reason = "illness" if health != "healthy" else rng.choice(["work", "other"])
        migrant = (
            labour in ("ordinary", "skilled") and not enrolled and 18 <= age <= 55 and rng.random() < 0.55
        )
        return {
            "id": ident,
            "relation": relation,
            "sex": sex,
            "age": age,
            "health": health,
            "labour": labour,
            "schooling": schooling,
            "enrolled": enrolled,
            "dropped_out": dropped_out,
            "dropout_reason": reason,
            "migrant_worker": migrant,
            "months_worked": rng.randint(3, 11) if migrant else None,
            "basic_medical_insurance": rng.random() < 0.97,
            "critical_illness_insurance": rng.random() < 0.9,
        }

    def school(self, age: int) -> tuple[str, bool]:
        rng = self.rng
        if 3 <= age <= 5:
            return ("preschool", True) if rng.random() < 0.8 else ("not_in_school", False)
        if 6 <= age <= 11:
            return "primary", True
        if 12 <= age <= 14:
            return "junior_secondary", True
        if 15 <= age <= 17:
            roll = rng.random()
            if roll < 0.55:
                return "senior_secondary", True
            if roll < 0.85:
                return "secondary_vocational", True
            return "not_in_school", False
        if 18 <= age <= 21 and rng.random() < 0.35:
            return rng.choice(["higher_vocational", "undergraduate"]), True
        return "not_in_school", False

    def member_out(self, person: dict[str, Any], chinese: bool) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {"id": person["id"]}
        for key in ("relation", "sex"):
            out[key] = self.label(key, person[key], chinese)
        age = person["age"]
        if rng.random() < 0.25:
            out["age"] = age
            out["age_recorded_on"] = RECORDED_ON.isoformat()
        else:
            born = RECORDED_ON.replace(year=RECORDED_ON.year - age - 1) + dt.timedelta(
                days=1 + rng.randrange(364)
            )
            out["birth_date"] = born.isoformat()
        for key in ("health", "labour", "schooling"):
            out[key] = self.label(key, person[key], chinese)
        if 6 <= age <= 21 or person["enrolled"]:
            out["enrolled"] = person["enrolled"]
            out["dropped_out"] = person["dropped_out"]
        if person["dropout_reason"]:
            out["dropout_reason"] = self.label("dropout_reason", person["dropout_reason"], chinese)
        if person["migrant_worker"]:
            out["migrant_worker"] = True
            out["months_worked"] = person["months_worked"]
        elif person["labour"] in ("ordinary", "skilled"):
            out["migrant_worker"] = False
        out["basic_medical_insurance"] = person["basic_medical_insurance"]
        out["critical_illness_insurance"] = person["critical_illness_insurance"]
        return out

    # -- household facts --------------------------------------------------------------------------
    def cause(self, members: list[dict[str, Any]]) -> str:
        rng = self.rng
        if any(m["health"] == "serious" for m in members) and rng.random() < 0.7:
            return "illness"
        if any(m["health"] == "disabled" for m in members) and rng.random() < 0.6:
            return "disability"
        studying = ("higher_vocational", "undergraduate", "secondary_vocational")
        if any(m["schooling"] in studying for m in members) and rng.random() < 0.6:
            return "schooling"
        if all(m["labour"] in ("weak", "lost", "none") for m in members):
            return "lack_of_labour"
        causes = self.profile.fallback_causes
        return rng.choices([c for c, _ in causes], [w for _, w in causes])[0]

    def income(
        self, status: str, category: str, members: list[dict[str, Any]], chinese: bool
    ) -> dict[str, Any]:
        rng = self.rng
        centre = {
            "exited": 5000,
            "pre_exit": 4100,
            "not_exited": 3000,
            "returned": 2600,
            "newly_identified": 2500,
        }[status]
        per_capita = max(1800, int(rng.gauss(centre, 700))) * 100 + rng.choice(
            [0, 0, 0, 50, rng.randrange(100)]
        )
        earners = sum(1 for m in members if m["migrant_worker"])
        non_counting = rng.choice([0, 0, rng.randint(50, 600)]) * 100
        transfers = (rng.randint(600, 1800) if category != "general" else rng.randint(100, 700)) * 100
        transfers = min(transfers, per_capita - non_counting)
        rest = per_capita - non_counting - transfers
        wages = rest * rng.randint(50, 80) // 100 if earners else rest * rng.randint(0, 20) // 100
        prop = min(rest - wages, rng.choice([0, 0, rng.randint(20, 200) * 100]))
        production = rest - wages - prop
        period = OLD_PERIOD if status == "exited" and rng.random() < 0.3 else PERIOD
        out: dict[str, Any] = {
            "per_capita": money(per_capita),
            "period_start": period[0],
            "period_end": period[1],
            "basis": self.label("basis", "net" if rng.random() < 0.6 else "disposable", chinese),
            "wages": money(wages),
            "production": money(production),
            "property": money(prop),
            "transfers": money(transfers),
            "non_counting_transfers": money(non_counting),
        }
        return out

    def housing(self, status: str, chinese: bool) -> dict[str, Any]:
        rng = self.rng
        if status in ("exited", "pre_exit"):
            grade = rng.choices(["a", "b"], [55, 45])[0]
        else:
            grade = rng.choices(["a", "b", "c", "d"], [35, 35, 18, 12])[0]
        out: dict[str, Any] = {"grade": self.label("grade", grade, chinese)}
        out["floor_area"] = rng.randint(30, 140)
        roll = rng.random()
        none, planned, keys = self.profile.relocation_cuts
        if roll < none:
            out["relocation"] = self.label("relocation", "none", chinese)
        elif roll < planned:
            out["relocation"] = self.label("relocation", "planned", chinese)
            out["resettlement"] = self.label("resettlement", rng.choice(["central", "scattered"]), chinese)
        elif roll < keys:
            out["relocation"] = self.label("relocation", "keys_handed_over", chinese)
            out["resettlement"] = self.label("resettlement", "central", chinese)
        else:
            out["relocation"] = self.label("relocation", "moved_in", chinese)
            out["resettlement"] = self.label("resettlement", rng.choice(["central", "scattered"]), chinese)
        return out

    def water(self, status: str, chinese: bool) -> dict[str, Any]:
        rng = self.rng
        supply = rng.choices(["large_scheme", "small_scheme", "dispersed"], self.profile.supply_weights)[0]
        piped = supply != "dispersed" and rng.random() < self.profile.piped_share
        out: dict[str, Any] = {"supply": self.label("supply", supply, chinese)}
        low = 12 if status in ("not_exited", "newly_identified", "returned") else 20
        out["litres_per_person_day"] = rng.randint(low, 60) + rng.choice([0, 0, 0.5])
        out["piped"] = self.yes_no(piped, chinese)
        if not piped:
            out["round_trip_minutes"] = rng.choice([5, 8, 10, 12, 15, 18, 20, 25, 30, 40])
        out["quality_ok"] = rng.random() < 0.92
        out["guarantee_rate"] = rng.randint(85, 100) / 100
        return out

    def support(
        self, status: str, category: str, members: list[dict[str, Any]], housing: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        relocated = housing.get("relocation") in ("keys_handed_over", "moved_in", "已交钥匙", "已入住")
        students = any(m["schooling"] in ("secondary_vocational", "higher_vocational") for m in members)
        ill = any(m["health"] in ("serious", "chronic") for m in members)
        fitting = {
            "relocation_subsidy": relocated,
            "yulu_plan": students,
            "medical_assistance": ill,
            "housing_renovation": not relocated,
        }
        pool = [m for m in self.profile.measures if fitting.get(m[0], True)]
        items: list[dict[str, Any]] = []
        count = 0 if status == "newly_identified" else rng.choices([0, 1, 2, 3], [10, 35, 35, 20])[0]
        for _ in range(count):
            measure, low, high = rng.choice(pool)
            start = day(rng, dt.date(2015, 3, 1), dt.date(2018, 6, 30))
            item: dict[str, Any] = {"measure": measure, "amount": rng.randint(low // 100, high // 100) * 100}
            item["start"] = start.isoformat()
            if measure in ("microcredit", "eco_ranger", "ranger_post"):
                end = plus_years(start, 3 if measure == "microcredit" else 1)
                if not self.profile.full:  # the sample ends a term on its anniversary
                    end += dt.timedelta(days=1)
                item["end"] = end.isoformat()
            items.append(item)
        if category == "dibao":
            items.append(
                {
                    "measure": "dibao",
                    "amount": rng.randint(20, 40) * 100,
                    "start": "2018-01-01",
                    "end": "2018-12-31",
                }
            )
        return items

    # -- the registry's fields (each household from its own random generator) -------------------
    def complete(self, household: dict[str, Any], index: int, facts: dict[str, Any]) -> None:
        """Add the fields of schema 2018.1 that the sample does not have.

        Every draw here comes from ``random.Random(f"{seed}-{index}")``, never from the shared
        stream, so adding or changing a field leaves every other field of every household as it was.
        """
        rng = random.Random(f"{self.seed}-{index}")
        chinese: bool = facts["chinese"]
        members: list[dict[str, Any]] = facts["members"]
        category: str = facts["category"]
        reg = household["registration"]
        county = household["county_code"]
        household["province_code"] = PROVINCE
        household["city_code"] = REGISTRY_COUNTIES[county][0]
        household["poor_county_type"] = "contiguous"
        reg["secondary_causes"] = self.secondary_causes(rng, reg, members, household["water"], chinese)
        household["social"] = self.social(rng, category, members, household.get("support", []))
        household["location"] = self.location(rng, county, household["housing"], chinese)
        household["land"] = self.land(rng, reg, members, household["location"])
        if facts["status"] in ("exited", "returned"):
            exited = dt.date.fromisoformat(reg["exited_on"])
            dated = self.exit_support(rng, exited, members, household["land"], household["location"])
            household.setdefault("support", []).extend(dated)
        for person, out in zip(members, household["members"], strict=True):
            self.member_more(rng, person, out, category, chinese)
        ordered = {key: household[key] for key in FIELD_ORDER if key in household}
        household.clear()
        household.update(ordered)

    def secondary_causes(
        self,
        rng: random.Random,
        reg: dict[str, Any],
        members: list[dict[str, Any]],
        water: dict[str, Any],
        chinese: bool,
    ) -> list[str]:
        main = reg.get("main_cause")
        healths = {m["health"] for m in members}
        workers = sum(1 for m in members if m["labour"] in ("ordinary", "skilled"))
        chances = {
            "illness": 0.6 if healths & {"serious", "chronic"} else 0.0,
            "disability": 0.6 if "disabled" in healths else 0.0,
            # brief §5.5: 因学 was 13 % of registered poor households in 2015, main or secondary
            "schooling": SCHOOLING_SECONDARY if any(studying(m) for m in members) else 0.0,
            "lack_of_water": 0.4 if water["supply"] == "dispersed" else 0.03,
            "lack_of_skills": 0.25,
            "lack_of_labour": 0.3 if workers <= 1 and len(members) >= 3 else 0.0,
            "lack_of_funds": 0.35,
            "poor_transport": 0.1,
        }
        picked = [c for c, p in chances.items() if rng.random() < p]
        picked = [c for c in picked if self.label("main_cause", c, chinese) != main][:3]
        return [self.label("main_cause", c, chinese) for c in picked]

    def social(
        self,
        rng: random.Random,
        category: str,
        members: list[dict[str, Any]],
        support: list[dict[str, Any]],
    ) -> dict[str, Any]:
        dibao = sum(s["amount"] for s in support if s["measure"] == "dibao")
        if category == "dibao" and not dibao:
            dibao = rng.randint(20, 40) * 100
        wubao = rng.randint(45, 75) * 100 * len(members) if category == "tekun" else 0
        spending = 0
        for m in members:
            spending += {
                "serious": rng.randint(80, 300) * 100,
                "chronic": rng.randint(10, 40) * 100,
                "disabled": rng.randint(5, 20) * 100,
            }.get(m["health"], 0)
            spending += {
                "primary": rng.randint(3, 8) * 100,
                "junior_secondary": rng.randint(5, 10) * 100,
                "senior_secondary": rng.randint(30, 50) * 100,
                "secondary_vocational": rng.randint(20, 40) * 100,
                "higher_vocational": rng.randint(60, 100) * 100,
                "undergraduate": rng.randint(80, 150) * 100,
            }.get(m["schooling"] if m["enrolled"] else "", 0)
        return {
            "dibao_per_year": dibao if category == "dibao" else 0,
            "wubao_per_year": wubao,
            "rigid_spending": spending,
        }

    def location(
        self, rng: random.Random, county: str, housing: dict[str, Any], chinese: bool
    ) -> dict[str, bool | str]:
        relocating = housing.get("relocation") not in (None, "none", "未搬迁")
        key_share = KEY_ECOLOGICAL_SHARE.get(county, 0.0)
        return {
            "ecologically_fragile": self.yes_no(relocating or rng.random() < 0.45, chinese),
            "disaster_prone": self.yes_no(rng.random() < DISASTER_SHARE.get(county, 0.15), chinese),
            "relocation_zone": self.yes_no(relocating, chinese),
            "key_ecological_area": self.yes_no(rng.random() < key_share, chinese),
        }

    def land(
        self,
        rng: random.Random,
        reg: dict[str, Any],
        members: list[dict[str, Any]],
        location: dict[str, bool | str],
    ) -> dict[str, int | float]:
        short = reg.get("main_cause") in ("lack_of_land", "缺土地")
        per_person = rng.uniform(0.3, 1.0) if short else rng.uniform(1.2, 4.0)
        key = location["key_ecological_area"] in (True, "是")
        fragile = location["ecologically_fragile"] in (True, "是")
        forest = rng.uniform(1, 30) if rng.random() < (0.6 if key else 0.2) else 0.0
        returned = rng.uniform(0.5, 8) if rng.random() < (0.4 if fragile else 0.15) else 0.0
        return {
            "farmland_mu": mu(per_person * len(members)),
            "forest_mu": mu(forest),
            "returned_farmland_mu": mu(returned),
        }

    def exit_support(
        self,
        rng: random.Random,
        exited: dt.date,
        members: list[dict[str, Any]],
        land: dict[str, int | float],
        location: dict[str, bool | str],
    ) -> list[dict[str, Any]]:
        """Support held around the exit date, as the buffer after exit reads it.

        The amounts are synthetic (示例数据), not policy values, though some echo figures the brief
        reports: microcredit up to 50,000 over 3 years (brief §5.1, addendum §6); preschool fee
        waiver 1,000 a year and secondary vocational tuition 2,000 a year (brief §5.5); a ranger
        post 8,000 a year on one-year contracts (brief §5.4: not a Gansu figure); the 退耕还林
        subsidy of 1,200 yuan a mu over 5 years (addendum §5, a national figure).  The buffer shows
        them as the amount held at exit.  Amounts are in each measure's own unit, as the
        seven_batches packs define it (the farmland subsidy per mu returned).
        """
        items: list[dict[str, Any]] = []
        years_since = RECORDED_ON.year - exited.year
        if rng.random() < 0.45:
            start = exited - dt.timedelta(days=rng.randint(150, 900))
            items.append(dated("microcredit", 50000, start, plus_years(start, 3)))
        for m in members:
            age_at_exit = m["age"] - years_since
            if 3 <= age_at_exit <= 5:
                start = dt.date(exited.year - (age_at_exit - 3), 9, 1)
                end = dt.date(exited.year + 6 - age_at_exit, 8, 31)
                items.append(dated("preschool_fee_waiver", 1000, start, end))
            if m["schooling"] == "secondary_vocational" and 15 <= age_at_exit <= 17:
                start = dt.date(exited.year - (age_at_exit - 15), 9, 1)
                items.append(
                    dated("secondary_vocational_tuition", 2000, start, dt.date(start.year + 3, 7, 31))
                )
        returned = land["returned_farmland_mu"]
        if returned:
            start = dt.date(rng.randint(2015, exited.year), 1, 1)
            items.append(dated("returned_farmland_subsidy", 1200, start, plus_years(start, 5)))
        workers = [m for m in members if 18 <= m["age"] <= 60 and m["labour"] in ("ordinary", "weak")]
        if location["key_ecological_area"] in (True, "是") and workers and rng.random() < 0.5:
            for year in (exited.year, exited.year + 1):  # a contract held at exit, and its renewal
                items.append(dated("ranger_post", 8000, dt.date(year, 1, 1), dt.date(year, 12, 31)))
        if not items:
            start = exited - dt.timedelta(days=rng.randint(200, 700))
            items.append(dated("industry_grant", rng.randint(30, 100) * 100, start, None))
        return items

    def member_more(
        self, rng: random.Random, person: dict[str, Any], out: dict[str, Any], category: str, chinese: bool
    ) -> None:
        if person["health"] == "disabled":
            out["disability_grade"] = rng.choices([1, 2, 3, 4], [12, 23, 30, 35])[0]
        if person["age"] >= 16:
            chance = {"skilled": 0.8, "ordinary": 0.35, "weak": 0.1}.get(person["labour"], 0.0)
            out["skills_training"] = self.yes_no(rng.random() < chance, chinese)
        out["dibao"] = self.yes_no(category == "dibao", chinese)
        out["wubao"] = self.yes_no(category == "tekun", chinese)


# -- the registry's proportions and planted defects ----------------------------------------------

# brief §5.5: 因学 13 % of registered poor households in 2015, as the main or a secondary cause.
# The main-cause rule above gives about 4 %; this chance of naming schooling as a secondary cause
# of a household with someone at school brings the total to about 13 %.
SCHOOLING_SECONDARY = 0.36

# Illustrative, not from the brief or a zoning document: which counties hold key ecological areas
# and how many households live in them, and how disaster-prone each county is.
KEY_ECOLOGICAL_SHARE = {"621126": 0.5, "621223": 0.6, "621226": 0.3}
DISASTER_SHARE = {"621126": 0.35, "621223": 0.4, "621225": 0.3, "621226": 0.3}

# The order of the top-level fields of a registry record (the schema's order).
FIELD_ORDER = (
    "id",
    "province_code",
    "city_code",
    "county_code",
    "poor_county_type",
    "township_code",
    "village_code",
    "region_class",
    "size",
    "registration",
    "income",
    "food_and_clothing_secured",
    "housing",
    "water",
    "social",
    "location",
    "land",
    "support",
    "members",
)

# Data-quality defects planted in the registry only (share of households, what, and the brief
# section with the check that should find it).  Each household carries at most one.
DEFECTS: tuple[tuple[str, float, str], ...] = (
    ("dibao_and_wubao", 0.01, "Dibao and Wubao both paid (nobody receives both, brief §5.7)"),
    ("illness_all_healthy", 0.005, "main cause 因病 with every member healthy (brief §6)"),
    ("general_with_dibao", 0.005, "a general household paid Dibao (brief §5.7)"),
    ("schooling_no_student", 0.003, "main cause 因学 with nobody at school (brief §6)"),
    ("migrant_without_labour", 0.003, "a migrant worker with lost or no labour capacity (brief §5.2)"),
    ("exited_in_d_house", 0.003, "an exited household living in a grade-D house (brief §6)"),
)

# Fields left out of a few registry households (0.5 % each): missing is unknown, never a default.
GAPS = (
    ("income", "per_capita"),
    ("water", "guarantee_rate"),
    ("housing", "grade"),
    ("", "food_and_clothing_secured"),
    ("water", "litres_per_person_day"),
    ("registration", "main_cause"),
    ("", "water"),
    ("land", "farmland_mu"),
)

# Fields left out of a few sample households (at 5-7, 13-15, ... in the order drawn), as real
# registers do: missing is not a default.  The registry's gaps but the last.
SAMPLE_GAPS = GAPS[:-1]


def mu(value: float) -> int | float:
    """An area in mu to one decimal, as a JSON number (whole mu as an integer)."""
    tenths = round(value * 10)
    return tenths // 10 if tenths % 10 == 0 else tenths / 10


def plus_years(start: dt.date, years: int) -> dt.date:
    """The last day of a term of whole years that starts on `start`."""
    try:
        after = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        after = dt.date(start.year + years, 3, 1)
    return after - dt.timedelta(days=1)


def dated(measure: str, amount: int, start: dt.date, end: dt.date | None) -> dict[str, Any]:
    item: dict[str, Any] = {"measure": measure, "amount": amount, "start": start.isoformat()}
    if end is not None:
        item["end"] = end.isoformat()
    return item


def studying(member: dict[str, Any]) -> bool:
    """At school beyond the compulsory stages, or at school with fees (the 因学 burden)."""
    return bool(member["enrolled"]) and member["schooling"] in (
        "preschool",
        "senior_secondary",
        "secondary_vocational",
        "higher_vocational",
        "undergraduate",
    )


def _eligible(name: str, h: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Whether a household (as generated, before any defect or gap) may carry the defect `name`."""
    members = facts["members"]
    if name == "dibao_and_wubao":
        return facts["category"] in ("dibao", "tekun")
    if name == "illness_all_healthy":
        return all(m["health"] == "healthy" for m in members) and "main_cause" in h["registration"]
    if name == "general_with_dibao":
        return facts["category"] == "general"
    if name == "schooling_no_student":
        return not any(m["enrolled"] for m in members) and "main_cause" in h["registration"]
    if name == "migrant_without_labour":
        return any(16 <= m["age"] <= 70 and m["labour"] in ("lost", "none") for m in members)
    return facts["status"] == "exited" and "grade" in h["housing"]


_DIBAO = 1 << len(DEFECTS)  # beside the eligibility bits: a Dibao (not a tekun) household


def _draw(rng: random.Random, name: str, dibao: bool) -> int | None:
    """The one draw a defect takes when it is planted (None: it takes none)."""
    if name == "dibao_and_wubao":
        return rng.randint(45, 75) if dibao else rng.randint(20, 40)
    if name == "general_with_dibao":
        return rng.randint(20, 40)
    if name == "migrant_without_labour":
        return rng.randint(3, 10)
    return None


def _plant(
    generator: Generator, name: str, draw: int | None, h: dict[str, Any], facts: dict[str, Any]
) -> None:
    """Plant the defect `name` in household `h` (`draw`: its `_draw`)."""
    label = generator.label
    zh: bool = facts["chinese"]
    if name == "dibao_and_wubao":
        assert draw is not None
        social = h["social"]
        if facts["category"] == "dibao":
            social["wubao_per_year"] = draw * 100 * len(h["members"])
            h["members"][0]["wubao"] = generator.yes_no(True, zh)
        else:
            social["dibao_per_year"] = draw * 100
            h["members"][0]["dibao"] = generator.yes_no(True, zh)
    elif name == "illness_all_healthy":
        h["registration"]["main_cause"] = label("main_cause", "illness", zh)
    elif name == "general_with_dibao":
        assert draw is not None
        h["social"]["dibao_per_year"] = draw * 100
    elif name == "schooling_no_student":
        h["registration"]["main_cause"] = label("main_cause", "schooling", zh)
    elif name == "migrant_without_labour":
        n = next(
            k
            for k, m in enumerate(facts["members"])
            if 16 <= m["age"] <= 70 and m["labour"] in ("lost", "none")
        )
        h["members"][n]["migrant_worker"] = True
        h["members"][n]["months_worked"] = draw
    else:
        h["housing"]["grade"] = label("grade", "d", zh)


def _gap(household: dict[str, Any], record: str, field: str) -> None:
    """Leave a field out (``record`` "": a top-level field; "members": the last member's)."""
    if record == "members":
        household["members"][-1].pop(field, None)
    else:
        (household.get(record, {}) if record else household).pop(field, None)


@dataclasses.dataclass
class Plan:
    """What the second pass changes in which household: the planted defects (name and draw) and
    the fields left out, by household index; and the planted households' ids by defect."""

    defects: dict[int, tuple[str, int | None]]
    gaps: dict[int, list[tuple[str, str]]]
    planted: dict[str, list[str]]


def household_id(profile: Profile, index: int) -> str:
    """The id of household `index` (its county's code and its number in the county)."""
    counties = profile.counties
    return f"{counties[index % len(counties)]}-{index // len(counties) + 1:04d}"


def plan(seed: int, count: int, profile: Profile) -> Plan:
    """The first pass: generate every household once, keeping a byte of each (which defects it
    may carry), and draw the defects and gaps as the in-memory generator always drew them — the
    same samples from the same streams — so the second pass can write each household as it comes.
    """
    generator = Generator(seed, profile)
    flags = bytearray(count)
    for index in range(count):
        h = generator.household(index)
        if not profile.full:
            continue
        facts = generator.facts.pop()
        bits = _DIBAO if facts["category"] == "dibao" else 0
        for k, (name, _share, _why) in enumerate(DEFECTS):
            if _eligible(name, h, facts):
                bits |= 1 << k
        flags[index] = bits
    defects: dict[int, tuple[str, int | None]] = {}
    gaps: dict[int, list[tuple[str, str]]] = {}
    planted: dict[str, list[str]] = {}
    if not profile.full:
        rng = generator.rng  # the sample's gaps: drawn from the shared stream after every household
        for n, (record, field) in enumerate(SAMPLE_GAPS):
            index = 5 + n * 8 + rng.randrange(3)
            if index < count:  # fewer households than the sample: fewer gaps
                gaps.setdefault(index, []).append((record, field))
        if count > 17:  # and a member whose labour capacity and insurance were not recorded
            gaps.setdefault(17, []).extend([("members", "labour"), ("members", "critical_illness_insurance")])
        return Plan(defects, gaps, planted)
    rng = random.Random(f"{seed}-defects")
    for k, (name, share, _why) in enumerate(DEFECTS):
        eligible = array("I", (i for i in range(count) if flags[i] >> k & 1 and i not in defects))
        chosen = sorted(rng.sample(eligible, min(len(eligible), max(1, round(share * count)))))
        for i in chosen:
            defects[i] = (name, _draw(rng, name, bool(flags[i] & _DIBAO)))
        planted[name] = [household_id(profile, i) for i in chosen]
    del flags
    rng = random.Random(f"{seed}-gaps")
    free = array("I", (i for i in range(count) if i not in defects))
    k = max(1, count // 200)
    for record, field in GAPS:
        for i in rng.sample(free, min(k, len(free))):
            gaps.setdefault(i, []).append((record, field))
    for i in rng.sample(free, min(k, len(free))):  # a member whose labour was not recorded
        gaps.setdefault(i, []).extend([("members", "labour"), ("members", "skills_training")])
    return Plan(defects, gaps, planted)


def households(
    seed: int, count: int, profile: Profile, planned: Plan, facts: list[dict[str, Any]] | None = None
) -> Iterator[dict[str, Any]]:
    """The second pass: each household as written, one at a time (`facts`: where to keep each
    household's plain facts, for checks; None keeps nothing)."""
    generator = Generator(seed, profile)
    for index in range(count):
        h = generator.household(index)
        fact = generator.facts.pop() if profile.full else {}
        defect = planned.defects.get(index)
        if defect is not None:
            _plant(generator, defect[0], defect[1], h, fact)
        for record, field in planned.gaps.get(index, ()):
            _gap(h, record, field)
        if facts is not None and profile.full:
            facts.append(fact)
        yield h


def stream(
    seed: int = SEED, count: int = COUNT, profile: Profile | None = None
) -> tuple[Plan, Iterator[dict[str, Any]]]:
    """The households `build` makes, one at a time in bounded memory (two passes; memory grows by
    a few bytes a household for the first pass's samples)."""
    chosen = profile or (SAMPLE if count <= COUNT else REGISTRY)
    planned = plan(seed, count, chosen)
    return planned, households(seed, count, chosen, planned)


def build(seed: int = SEED, count: int = COUNT, profile: Profile | None = None) -> Generator:
    """Generate `count` households in memory (with their plain facts, for checks); the profile
    defaults to the sample up to 60, else the registry."""
    generator = Generator(seed, profile or (SAMPLE if count <= COUNT else REGISTRY))
    planned = plan(seed, count, generator.profile)
    generator.households = list(households(seed, count, generator.profile, planned, generator.facts))
    generator.planted = planned.planted
    generator.defective = set(planned.defects)
    return generator


def generate(seed: int = SEED, count: int = COUNT, profile: Profile | None = None) -> list[dict[str, Any]]:
    return build(seed, count, profile).households


BLOCK = 4_096  # households written at a time


def blocks(items: Iterable[dict[str, Any]], size: int | None = None) -> Iterator[list[dict[str, Any]]]:
    block: list[dict[str, Any]] = []
    for item in items:
        block.append(item)
        if len(block) == (size or BLOCK):
            yield block
            block = []
    if block:
        yield block


def write_tables(households: Iterable[dict[str, Any]], output: Path) -> list[Path]:
    """The households as registry tables (households, members, support items keyed by
    `household_id`), a block at a time: CSV or Parquet files named after `output`, or one Excel
    workbook; the files written."""
    from gspolicy.api import load_policies  # noqa: PLC0415  # only for table output
    from gspolicy.schema.tabular import RegistryWriter  # noqa: PLC0415

    with RegistryWriter(output, load_policies().schema) as writer:
        for block in blocks(households):
            writer.write(block)
    return writer.files


def write_lines(households: Iterable[dict[str, Any]], output: Path) -> None:
    """The households as JSON Lines, a block at a time."""
    with output.open("w", encoding="utf-8") as out:
        for block in blocks(households):
            out.write(to_text(block))


def to_text(households: Iterable[dict[str, Any]]) -> str:
    """The JSON Lines text the script writes."""
    return "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households)


CODES: dict[str, dict[str, str]] = {kind: {v: k for k, v in labels.items()} for kind, labels in ZH.items()}


def code(kind: str, value: object) -> object:
    """The code of a value written either way (a code or a Chinese label)."""
    return CODES[kind].get(value, value) if isinstance(value, str) else value


def truth(value: object) -> bool:
    """A yes/no value written either way (true or 是)."""
    return value is True or value == "是"


class Tally:
    """The proportions of the households written, counted one household at a time."""

    def __init__(self) -> None:
        self.n = self.people = self.schooling = self.water = self.central = self.piped = 0
        self.moving = 0
        self.counts: dict[str, Counter[str]] = {k: Counter() for k in ("status", "category", "main_cause")}
        self.flags: Counter[str] = Counter()
        self.measures: Counter[str] = Counter()

    def add(self, h: dict[str, Any]) -> None:
        self.n += 1
        self.people += len(h["members"])
        r = h["registration"]
        for key, counter in self.counts.items():
            counter[str(code(key, r.get(key, "(missing)")))] += 1
        if code("main_cause", r.get("main_cause")) == "schooling" or "schooling" in [
            code("main_cause", c) for c in r.get("secondary_causes", [])
        ]:
            self.schooling += 1
        if "water" in h:
            w = h["water"]
            self.water += 1
            self.central += code("supply", w["supply"]) != "dispersed"
            self.piped += truth(w.get("piped"))
        self.moving += code("relocation", h["housing"].get("relocation")) != "none"
        if "location" in h:
            for flag in LOCATION_FLAGS:
                self.flags[flag] += truth(h["location"][flag])
        if code("status", r["status"]) == "exited":
            self.measures.update(s["measure"] for s in h.get("support", []))

    def lines(self, planted: dict[str, list[str]], full: bool) -> list[str]:
        n = self.n

        def share(count: int) -> str:
            return f"{count} ({100 * count / n:.1f} %)"

        lines = [f"households: {n}; people: {self.people}; mean size: {self.people / n:.2f}"]
        for key, counts in self.counts.items():
            lines.append(f"{key}: " + ", ".join(f"{k} {share(v)}" for k, v in counts.most_common()))
        lines.append(f"因学 as main or secondary cause: {share(self.schooling)}")
        lines.append(f"water recorded: {self.water}; central supply {self.central}, tap water {self.piped}")
        lines[-1] += f" ({100 * self.central / self.water:.1f} % / {100 * self.piped / self.water:.1f} %)"
        lines.append(f"in ex-situ relocation: {share(self.moving)}")
        if full:
            for flag in LOCATION_FLAGS:
                lines.append(f"location.{flag}: {share(self.flags[flag])}")
            lines.append(
                "support items of exited households: "
                + ", ".join(f"{k} {v}" for k, v in self.measures.most_common())
            )
            for name, ids in planted.items():
                lines.append(
                    f"defect {name}: {len(ids)} ({', '.join(ids[:3])}{', …' if len(ids) > 3 else ''})"
                )
        return lines


LOCATION_FLAGS = ("ecologically_fragile", "disaster_prone", "relocation_zone", "key_ecological_area")


def stats(generator: Generator) -> list[str]:
    """The proportions of a generated registry, for the registry's README and for checking."""
    tally = Tally()
    for h in generator.households:
        tally.add(h)
    return tally.lines(generator.planted, generator.profile.full)


def tallied(households: Iterable[dict[str, Any]], tally: Tally | None) -> Iterator[dict[str, Any]]:
    for h in households:
        if tally is not None:
            tally.add(h)
        yield h


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=OUTPUT,
        help="JSON Lines, or registry tables by the suffix: .csv or .parquet (three files), .xlsx "
        "(three sheets) (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    parser.add_argument("--count", type=int, default=COUNT, help="households (default: %(default)s)")
    parser.add_argument(
        "--profile",
        choices=("sample", "registry"),
        help="sample: the fields and proportions of the 60-household example; registry: every schema "
        "field, the brief's proportions, planted defects (default: sample up to 60 households)",
    )
    parser.add_argument("--stats", action="store_true", help="print the proportions of what was written")
    args = parser.parse_args(argv)
    profile = {"sample": SAMPLE, "registry": REGISTRY}.get(args.profile or "")
    chosen = profile or (SAMPLE if args.count <= COUNT else REGISTRY)
    planned, written = stream(args.seed, args.count, chosen)
    tally = Tally() if args.stats else None
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix.lower() in (".csv", ".parquet", ".xlsx"):
        try:
            write_tables(tallied(written, tally), args.output)
        except ValueError as err:  # more rows than an Excel sheet holds
            sys.exit(f"generate_households: {err}")
    else:
        write_lines(tallied(written, tally), args.output)
    if tally is not None:
        sys.stdout.write("\n".join(tally.lines(planned.planted, chosen.full)) + "\n")


if __name__ == "__main__":
    main()
