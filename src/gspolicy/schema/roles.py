"""The roles a schema's fields play for the library, and who may change a field.

Code never names a schema field: where the library needs a particular field (a member's birth
date to compute an age, the support list's start and end dates, the registration status an event
sets), the schema says which field plays that role (``role: birth_date``), and code asks the
loaded schema for it (`Schema.role`, `RecordSpec.roles`).  A schema whose fields are renamed, with
their roles kept, decides the same.  ``changeable:`` says who can change a field: the household
itself, a department, or nobody (read by a what-if search).  This module declares the roles the
library knows, with what each needs (its kinds, its place, its companions); the loader checks a
schema's ``role:`` and ``changeable:`` against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

from gspolicy._i18n import Text

__all__ = [
    "AGE_RECORDED_ON",
    "BIRTH_DATE",
    "CHANGEABLE",
    "COUNTY_CODE",
    "DISABILITY_GRADE",
    "DROPOUT_REASON",
    "DROPPED_OUT",
    "ENROLLED",
    "EXITED_ON",
    "HEALTH",
    "HOUSEHOLD_SIZE",
    "HOUSING_GRADE",
    "IDENTIFIED_ON",
    "INCOME_PER_CAPITA",
    "MAIN_CAUSE",
    "MEDICAL_INSURANCE",
    "MEMBERS",
    "NON_COUNTING_TRANSFERS",
    "PLANNED_EXIT_YEAR",
    "RECORDED_AGE",
    "REGISTRATION_STATUS",
    "RELATION",
    "RELOCATION_STAGE",
    "RESETTLEMENT_TYPE",
    "RETURNED_ON",
    "RIGID_SPENDING",
    "ROLES",
    "SCHOOLING",
    "SUPPORT",
    "SUPPORT_AMOUNT",
    "SUPPORT_END",
    "SUPPORT_MEASURE",
    "SUPPORT_START",
    "TOWNSHIP_CODE",
    "VILLAGE_CODE",
    "Changeable",
    "Place",
    "RoleSpec",
]

Changeable = Literal["household", "department", "no"]
"""Who can change a field: the household itself (its income, its children's schooling), a
department (the support it grants, the registration it keeps), or nobody (a birth date, a code)."""
CHANGEABLE: tuple[Changeable, ...] = ("household", "department", "no")

Place = Literal["root", "record", "member", "support"]
"""Where a role's field may be: a field of the root record (``root``), a field reached from the
root through record fields (``record``), a field of the items of the ``members`` list
(``member``) or of the ``support`` list (``support``)."""

# the roles, by name (each name is the role, not a field: the schema says which field plays it)
COUNTY_CODE: Final = "county_code"
TOWNSHIP_CODE: Final = "township_code"
VILLAGE_CODE: Final = "village_code"
HOUSEHOLD_SIZE: Final = "household_size"
MEMBERS: Final = "members"
SUPPORT: Final = "support"
REGISTRATION_STATUS: Final = "registration_status"
MAIN_CAUSE: Final = "main_cause"
IDENTIFIED_ON: Final = "identified_on"
EXITED_ON: Final = "exited_on"
PLANNED_EXIT_YEAR: Final = "planned_exit_year"
RETURNED_ON: Final = "returned_on"
INCOME_PER_CAPITA: Final = "income_per_capita"
NON_COUNTING_TRANSFERS: Final = "non_counting_transfers"
RIGID_SPENDING: Final = "rigid_spending"
HOUSING_GRADE: Final = "housing_grade"
RELOCATION_STAGE: Final = "relocation_stage"
RESETTLEMENT_TYPE: Final = "resettlement_type"
BIRTH_DATE: Final = "birth_date"
RECORDED_AGE: Final = "recorded_age"
AGE_RECORDED_ON: Final = "age_recorded_on"
HEALTH: Final = "health"
RELATION: Final = "relation"
DISABILITY_GRADE: Final = "disability_grade"
SCHOOLING: Final = "schooling"
ENROLLED: Final = "enrolled"
DROPPED_OUT: Final = "dropped_out"
DROPOUT_REASON: Final = "dropout_reason"
MEDICAL_INSURANCE: Final = "medical_insurance"
SUPPORT_MEASURE: Final = "support_measure"
SUPPORT_AMOUNT: Final = "support_amount"
SUPPORT_START: Final = "support_start"
SUPPORT_END: Final = "support_end"

_NUMBERS = frozenset({"int", "money", "ratio", "decimal"})


@attrs.frozen
class RoleSpec:
    """A role the library reads a field by: what it means, the kinds of field that may play it,
    where the field may be, and the roles that must be declared with it."""

    name: str
    title: Text
    kinds: frozenset[str]
    place: Place
    needs: tuple[str, ...] = ()


def _role(
    name: str, zh: str, en: str, kinds: set[str] | frozenset[str], place: Place, needs: tuple[str, ...] = ()
) -> RoleSpec:
    return RoleSpec(name, Text(zh=zh, en=en), frozenset(kinds), place, needs)


ROLES: Mapping[str, RoleSpec] = {
    r.name: r
    for r in (
        _role(COUNTY_CODE, "县级区划代码", "the household's county code", {"string"}, "root"),
        _role(TOWNSHIP_CODE, "乡镇区划代码", "the household's township code", {"string"}, "root"),
        _role(VILLAGE_CODE, "行政村区划代码", "the household's village code", {"string"}, "root"),
        _role(HOUSEHOLD_SIZE, "家庭人口数", "the household's size", {"int"}, "root", (MEMBERS,)),
        _role(MEMBERS, "家庭成员名单", "the list of household members", {"list"}, "root"),
        _role(
            SUPPORT,
            "帮扶措施记录",
            "the list of support received",
            {"list"},
            "root",
            (SUPPORT_MEASURE, SUPPORT_START, SUPPORT_END),
        ),
        _role(REGISTRATION_STATUS, "贫困户状态", "the registration (poverty) status", {"enum"}, "record"),
        _role(MAIN_CAUSE, "主要致贫原因", "the main cause of poverty", {"enum"}, "record"),
        _role(IDENTIFIED_ON, "识别日期", "the date the household was identified", {"date"}, "record"),
        _role(EXITED_ON, "脱贫日期", "the date the household exited", {"date"}, "record"),
        _role(
            PLANNED_EXIT_YEAR,
            "计划脱贫年度",
            "the year the household's exit is planned for",
            {"int"},
            "record",
        ),
        _role(RETURNED_ON, "返贫日期", "the date the household returned to poverty", {"date"}, "record"),
        _role(INCOME_PER_CAPITA, "人均收入", "income per capita", _NUMBERS, "record"),
        _role(
            NON_COUNTING_TRANSFERS,
            "不计入稳定脱贫收入的转移性收入",
            "transfers not counted towards stable exit income",
            _NUMBERS,
            "record",
        ),
        _role(RIGID_SPENDING, "刚性支出", "rigid spending", _NUMBERS, "record"),
        _role(HOUSING_GRADE, "住房安全等级", "the housing safety grade", {"enum"}, "record"),
        _role(RELOCATION_STAGE, "易地扶贫搬迁进度", "the relocation stage", {"enum"}, "record"),
        _role(RESETTLEMENT_TYPE, "安置方式", "the resettlement type", {"enum"}, "record"),
        _role(BIRTH_DATE, "出生日期", "a member's birth date (the language's `age`)", {"date"}, "member"),
        _role(
            RECORDED_AGE,
            "记录的年龄",
            "a member's age as recorded, when no birth date is given",
            {"int"},
            "member",
            (BIRTH_DATE, AGE_RECORDED_ON),
        ),
        _role(
            AGE_RECORDED_ON,
            "年龄记录日期",
            "the date a member's age was recorded",
            {"date"},
            "member",
            (RECORDED_AGE,),
        ),
        _role(HEALTH, "健康状况", "a member's health", {"enum"}, "member"),
        _role(
            RELATION,
            "与户主关系",
            "a member's relation to the household head (its code `head` marks the head)",
            {"enum"},
            "member",
        ),
        _role(DISABILITY_GRADE, "残疾等级", "a member's disability grade", {"int"}, "member"),
        _role(SCHOOLING, "在校生状况", "a member's school stage", {"enum"}, "member"),
        _role(ENROLLED, "在校", "whether a member is enrolled at school", {"bool"}, "member"),
        _role(DROPPED_OUT, "辍学", "whether a member dropped out of school", {"bool"}, "member"),
        _role(DROPOUT_REASON, "辍学原因", "why a member dropped out", {"enum"}, "member"),
        _role(
            MEDICAL_INSURANCE,
            "基本医疗保险",
            "whether a member holds basic medical insurance",
            {"bool"},
            "member",
        ),
        _role(SUPPORT_MEASURE, "措施编号", "a support item's measure", {"string"}, "support", (SUPPORT,)),
        _role(SUPPORT_AMOUNT, "措施金额", "a support item's amount", _NUMBERS, "support", (SUPPORT,)),
        _role(
            SUPPORT_START,
            "开始日期",
            "the first day a support item was held",
            {"date"},
            "support",
            (SUPPORT,),
        ),
        _role(
            SUPPORT_END,
            "结束日期",
            "the last day a support item was held",
            {"date"},
            "support",
            (SUPPORT, SUPPORT_START),
        ),
    )
}
"""Every role the library knows, by name."""
