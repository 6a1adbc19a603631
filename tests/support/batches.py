"""Hypothesis strategies for households that matter to the seven batches (七个一批) packs.

`batch_households(as_of=...)` starts from `support.households.exit_households` (a valid household
around the exit cases' defaults, with the exit criteria's fields varied and a few sometimes
removed) and varies what the ``seven_batches`` packs read as well: the main and secondary causes
of poverty, the household category, the county type, the location flags, returned farmland, the
water supply scheme, and for every member the labour capacity, health, disability grade, Wubao
flag and school stage.  Birth dates are often put exactly on the working-age edges (16 and 65
years before the as-of date, and the day after), so the boundaries of "able to work" are drawn.

Members whose age is known only as a recorded age (an interval) never get an able labour
capacity, and a labour capacity is sometimes removed only from members with a birth date: so
`able_to_work` below can always be computed from the record when it is definite, and otherwise
says "unknown" (never a wrong definite answer).

`able_to_work(member, as_of)` is the definition every seven_batches pack uses, written out here on
purpose instead of read from the packs (so that a pack whose definition drifts is caught):
labour ordinary or skilled and aged 16 to 64 inclusive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from support.households import exit_households

__all__ = [
    "ABLE_LABOUR",
    "CAUSES",
    "WORKING_AGE",
    "able_to_work",
    "any_able",
    "batch_cases",
    "batch_dates",
    "batch_households",
]

CAUSES = (
    "illness",
    "disability",
    "schooling",
    "disaster",
    "lack_of_land",
    "lack_of_water",
    "lack_of_skills",
    "lack_of_labour",
    "lack_of_funds",
    "poor_transport",
    "lack_of_drive",
    "marriage",
    "funeral",
    "other",
)
ABLE_LABOUR = ("ordinary", "skilled")
NOT_ABLE_LABOUR = ("weak", "lost", "none")
WORKING_AGE = (16, 65)
"""The documented working age of the seven_batches packs (both ends included)."""

_HEALTH = ("healthy", "chronic", "serious", "disabled")
_STAGES = (
    "not_in_school",
    "preschool",
    "primary",
    "junior_secondary",
    "senior_secondary",
    "secondary_vocational",
    "higher_vocational",
    "undergraduate",
)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def _age(birth: dt.date, as_of: dt.date) -> int:
    years = as_of.year - birth.year
    if (as_of.month, as_of.day) < (birth.month, birth.day):
        years -= 1
    return years


def able_to_work(member: dict[str, Any], as_of: dt.date) -> bool | None:
    """Whether a member is able to work (True / False / None for unknown), from the record."""
    labour = member.get("labour")
    if labour is not None and labour not in ABLE_LABOUR:
        return False
    birth = member.get("birth_date")
    if birth is None:
        return None  # the age is an interval or unknown: not decided here
    in_age = WORKING_AGE[0] <= _age(birth, as_of) <= WORKING_AGE[1]
    if not in_age:
        return False
    return True if labour is not None else None


def any_able(household: dict[str, Any], as_of: dt.date) -> bool | None:
    """Three-valued `any` of `able_to_work` over the members (None: cannot tell from the record)."""
    values = [able_to_work(m, as_of) for m in household.get("members", [])]
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


@st.composite
def _member_changes(draw: st.DrawFn, member: dict[str, Any], as_of: dt.date) -> None:
    if "birth_date" in member and draw(st.integers(0, 3)) == 0:
        edge = draw(st.sampled_from((16, 66)))  # the first day of age 16, the first day past 65
        member["birth_date"] = _years_before(as_of, edge) + dt.timedelta(days=draw(st.sampled_from((0, 1))))
    if "birth_date" in member:
        labour = draw(st.sampled_from(ABLE_LABOUR + NOT_ABLE_LABOUR + (None,)))
    else:
        labour = draw(st.sampled_from(NOT_ABLE_LABOUR))
    if labour is not None:
        member["labour"] = labour
    member["health"] = draw(st.sampled_from(_HEALTH))
    if member["health"] == "disabled" or draw(st.integers(0, 9)) == 0:
        member["disability_grade"] = draw(st.integers(1, 4))
    member["wubao"] = draw(st.sampled_from((False, False, False, True)))
    stage = draw(st.sampled_from(_STAGES))
    member["schooling"] = stage
    member["enrolled"] = stage != "not_in_school" and draw(st.integers(0, 4)) > 0


@st.composite
def batch_households(draw: st.DrawFn, *, as_of: dt.date) -> dict[str, Any]:
    """A valid household as plain data for the seven_batches packs (see the module doc)."""
    h = draw(exit_households(remove=True, as_of=as_of))
    registration = h["registration"]
    registration["main_cause"] = draw(st.sampled_from(CAUSES))
    registration["secondary_causes"] = draw(st.lists(st.sampled_from(CAUSES), max_size=3, unique=True))
    registration["category"] = draw(st.sampled_from(("general", "general", "dibao", "tekun")))
    h["poor_county_type"] = draw(st.sampled_from(("contiguous", "scattered", "not_poor")))
    h["location"] = {
        "relocation_zone": draw(st.integers(0, 4)) == 0,
        "key_ecological_area": draw(st.integers(0, 4)) == 0,
        "ecologically_fragile": draw(st.booleans()),
        "disaster_prone": draw(st.booleans()),
    }
    h["land"] = {
        "farmland_mu": draw(st.integers(0, 20)),
        "returned_farmland_mu": draw(st.sampled_from((0, 0, 0.1, 2))),
    }
    h["water"]["supply"] = draw(st.sampled_from(("large_scheme", "small_scheme", "dispersed")))
    for member in h["members"]:
        draw(_member_changes(member, as_of))
    return h


_NAMED = (
    dt.date(2018, 1, 1),
    dt.date(2018, 8, 20),
    dt.date(2018, 8, 21),
    dt.date(2018, 12, 31),
    dt.date(2019, 1, 1),
    dt.date(2019, 12, 31),
)


def batch_dates(*, min_value: dt.date = dt.date(2018, 1, 1)) -> st.SearchStrategy[dt.date]:
    """Dates from `min_value` to the end of 2019, often a named day (version edges, year ends)."""
    named = [d for d in _NAMED if d >= min_value]
    days = st.dates(min_value=min_value, max_value=dt.date(2019, 12, 31))
    return (st.sampled_from(named) | days) if named else days


def batch_cases(
    *, min_value: dt.date = dt.date(2018, 1, 1)
) -> st.SearchStrategy[tuple[dict[str, Any], dt.date]]:
    """(household, as-of date) pairs from `min_value` (default 2018-01-01) to the end of 2019."""
    return batch_dates(min_value=min_value).flatmap(
        lambda day: st.tuples(batch_households(as_of=day), st.just(day))
    )
