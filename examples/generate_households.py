"""Generate ``examples/households.jsonl``: 60 synthetic registered households of Gansu.

The households are invented.  They hold no personal data: ids look like ``621126-0001``
(a county code and a running number), nobody has a name, and place codes below the county are
made up.  The county codes are real codes of Gansu poverty counties (岷县 621126, 通渭县
621121, 东乡族自治县 622926, 西和县 621225, 礼县 621226, 清水县 620521); the files give the
codes only.

What the data is meant to show (see policies/schema/household.yaml for the fields):

* household sizes 1-7, statuses mostly not exited or planned to exit this year, some exited
  (with exit dates), a few returned to poverty or newly identified in the 2018 adjustment;
* incomes around 2,000-6,000 yuan per person, mostly over the 2018 check period
  2017-10-01 .. 2018-09-30 (brief §2.3), the components adding up to the per-capita total;
* members given by birth date, or by ``age`` plus ``age_recorded_on`` as some exports do;
* a few households with fields missing (missing data is allowed: it makes decisions
  undetermined, it never turns into a default);
* about a third of the households written with the Chinese labels of a registry export
  (``因病``, ``五保户``, ``危房D类`` ...), the rest with the stable English codes.

Only the standard library is used, and all randomness comes from one ``random.Random(SEED)``,
so the output is the same on every run and every platform::

    python examples/generate_households.py            # writes examples/households.jsonl
    python examples/generate_households.py -o out.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
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
# illustrative, not policy parameters.
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


def money(fen: int) -> int | float:
    """An amount in fen as a JSON number of yuan (whole yuan as an integer)."""
    if fen % 100 == 0:
        return fen // 100
    return fen / 100  # the shortest repr of n/100 is exactly two decimals


def day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.numbers: dict[str, int] = {}

    # -- labels ---------------------------------------------------------------------------------
    def label(self, kind: str, code: str, chinese: bool) -> str:
        return ZH[kind][code] if chinese else code

    def yes_no(self, value: bool, chinese: bool) -> bool | str:
        """Registry exports write yes/no as 是/否; the schema accepts both forms."""
        if chinese:
            return "是" if value else "否"
        return value

    # -- one household ----------------------------------------------------------------------------
    def household(self, index: int) -> dict[str, Any]:
        rng = self.rng
        county = COUNTIES[index % len(COUNTIES)]
        self.numbers[county] = self.numbers.get(county, 0) + 1
        number = self.numbers[county]
        township = f"{county}{100 + rng.randrange(1, 16):03d}"
        village = f"{township}{200 + rng.randrange(1, 30):03d}"
        chinese = index % 3 == 1  # about a third written as a registry export would write them

        status = rng.choices(
            ["not_exited", "pre_exit", "exited", "returned", "newly_identified"], [36, 26, 24, 7, 7]
        )[0]
        category = rng.choices(["general", "dibao", "tekun"], [70, 22, 8])[0]
        size = (
            1 + rng.randrange(2)
            if category == "tekun"
            else rng.choices(range(1, 8), [4, 12, 18, 26, 22, 12, 6])[0]
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
        return rng.choices(
            [
                "lack_of_funds",
                "lack_of_skills",
                "lack_of_water",
                "poor_transport",
                "lack_of_land",
                "disaster",
                "lack_of_drive",
                "illness",
            ],
            [30, 22, 12, 10, 8, 6, 6, 6],
        )[0]

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
        if roll < 0.8:
            out["relocation"] = self.label("relocation", "none", chinese)
        elif roll < 0.88:
            out["relocation"] = self.label("relocation", "planned", chinese)
            out["resettlement"] = self.label("resettlement", rng.choice(["central", "scattered"]), chinese)
        elif roll < 0.95:
            out["relocation"] = self.label("relocation", "keys_handed_over", chinese)
            out["resettlement"] = self.label("resettlement", "central", chinese)
        else:
            out["relocation"] = self.label("relocation", "moved_in", chinese)
            out["resettlement"] = self.label("resettlement", rng.choice(["central", "scattered"]), chinese)
        return out

    def water(self, status: str, chinese: bool) -> dict[str, Any]:
        rng = self.rng
        supply = rng.choices(["large_scheme", "small_scheme", "dispersed"], [45, 35, 20])[0]
        piped = supply != "dispersed" and rng.random() < 0.9
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
        pool = [m for m in MEASURES if fitting.get(m[0], True)]
        items: list[dict[str, Any]] = []
        count = 0 if status == "newly_identified" else rng.choices([0, 1, 2, 3], [10, 35, 35, 20])[0]
        for _ in range(count):
            measure, low, high = rng.choice(pool)
            start = day(rng, dt.date(2015, 3, 1), dt.date(2018, 6, 30))
            item: dict[str, Any] = {"measure": measure, "amount": rng.randint(low // 100, high // 100) * 100}
            item["start"] = start.isoformat()
            if measure in ("microcredit", "eco_ranger"):
                item["end"] = start.replace(
                    year=start.year + (3 if measure == "microcredit" else 1)
                ).isoformat()
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


def drop_some(households: list[dict[str, Any]], rng: random.Random) -> None:
    """Leave fields out of a few households, as real registers do (missing is not a default)."""
    gaps = (
        ("income", "per_capita"),
        ("water", "guarantee_rate"),
        ("housing", "grade"),
        ("", "food_and_clothing_secured"),
        ("water", "litres_per_person_day"),
        ("registration", "main_cause"),
        ("", "water"),
    )
    for n, (record, field) in enumerate(gaps):
        household = households[5 + n * 8 + rng.randrange(3)]
        (household[record] if record else household).pop(field, None)
    # and a member whose labour capacity and insurance were not recorded
    member = households[17]["members"][-1]
    member.pop("labour", None)
    member.pop("critical_illness_insurance", None)


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, Any]]:
    generator = Generator(seed)
    households = [generator.household(i) for i in range(count)]
    drop_some(households, generator.rng)
    return households


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    args = parser.parse_args(argv)
    lines = [json.dumps(h, ensure_ascii=False) for h in generate(args.seed, args.count)]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
