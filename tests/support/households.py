"""Hypothesis strategies for households that matter to the exit criteria.

`exit_households()` draws a *valid* household as plain data, built around the ``defaults``
household of the exit pack's own test cases (``policies/exit_criteria/household/tests/exit_2018.yaml``,
a household that passes every 2018 criterion) and varying what the exit criteria, the
applicability condition and the buffer read: income and its period, water, housing, food and
clothing, the poverty status and its dates, the members (ages written as a birth date or as a
recorded age, schooling, dropping out, medical insurance) and the support history.  With
``remove=True`` (the default) it sometimes removes a few fields, so undetermined verdicts are drawn
too.  `as_of_dates()` draws assessment dates; `exit_cases()` draws both.

Keyword-only options, validated eagerly, Hypothesis-style: ``exit_households(remove=False)``.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from gspolicy._resources import bundled_policies

__all__ = [
    "EXIT_CASES_FILE",
    "REMOVABLE",
    "as_of_dates",
    "default_household",
    "exit_cases",
    "exit_households",
    "get_path",
    "scalar_paths",
    "set_path",
]

EXIT_CASES_FILE = bundled_policies() / "exit_criteria" / "household" / "tests" / "exit_2018.yaml"

REMOVABLE = (
    "income.per_capita",
    "income.non_counting_transfers",
    "income.period_start",
    "income.period_end",
    "food_and_clothing_secured",
    "housing.grade",
    "water.litres_per_person_day",
    "water.piped",
    "water.quality_ok",
    "water.guarantee_rate",
    "registration.status",
    "registration.identified_on",
    "members[0].basic_medical_insurance",
    "members[0].critical_illness_insurance",
    "members[0].dropped_out",
)
"""Data paths `exit_households` may remove (each read by an exit criterion or the applicability)."""


@cache
def _defaults(path: Path = EXIT_CASES_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = data["defaults"]
    assert isinstance(defaults, dict)
    return defaults


def default_household() -> dict[str, Any]:
    """A fresh copy of the exit cases' ``defaults`` household (it passes every 2018 criterion)."""
    return copy.deepcopy(_defaults())


# -- data paths on plain data ----------------------------------------------------------------------


def _steps(path: str) -> list[str | int]:
    out: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        out.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            out.append(int(index))
            rest = rest.removeprefix("[")
    return out


def get_path(data: Any, path: str) -> Any:
    """The value at a data path (``members[2].age``) in plain data; KeyError/IndexError if absent."""
    current = data
    for step in _steps(path):
        current = current[step]
    return current


def set_path(data: Any, path: str, value: Any) -> None:
    """Set (or, with `value` None, remove) the value at a data path in plain data, in place."""
    *parents, last = _steps(path)
    current = data
    for step in parents:
        current = current[step]
    if value is None:
        if isinstance(current, dict):
            current.pop(last, None)
        return
    current[last] = value


def scalar_paths(data: Any, prefix: str = "") -> list[str]:
    """The data path of every scalar in plain data, members and support items included."""
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.extend(scalar_paths(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out.extend(scalar_paths(value, f"{prefix}[{index}]"))
    else:
        out.append(prefix)
    return out


# -- strategies ------------------------------------------------------------------------------------


def _money(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 100, high * 100).map(lambda n: Decimal(n) / 100)


def _dates(low: dt.date, high: dt.date) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=low, max_value=high)


def _mostly(usual: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` about five times in six (the passing value of the defaults), else from `other`."""
    return st.integers(0, 5).flatmap(lambda n: other if n == 0 else st.just(usual))


_STATUSES = ("not_exited", "pre_exit", "exited", "returned", "newly_identified")
_SCHOOL_REASONS = ("illness", "disability", "work", "other")


@st.composite
def _member(draw: st.DrawFn, index: int) -> dict[str, Any]:
    member: dict[str, Any] = {
        "id": f"m{index + 1}",
        "relation": "head"
        if index == 0
        else draw(st.sampled_from(("spouse", "child", "parent", "grandchild"))),
        "basic_medical_insurance": draw(_mostly(True, st.booleans())),
        "critical_illness_insurance": draw(_mostly(True, st.booleans())),
    }
    born = draw(_dates(dt.date(1935, 1, 1), dt.date(2016, 12, 31)))
    if draw(st.integers(0, 4)) == 0:
        # a recorded age instead of a birth date (the age is then known as a range)
        recorded_on = draw(_dates(dt.date(2016, 1, 1), dt.date(2019, 12, 31)))
        member["age"] = max(0, min(120, recorded_on.year - born.year))
        member["age_recorded_on"] = recorded_on
    else:
        member["birth_date"] = born
    if draw(st.booleans()):
        dropped = draw(_mostly(False, st.just(True)))
        member["dropped_out"] = dropped
        if dropped and draw(st.integers(0, 5)) > 0:
            member["dropout_reason"] = draw(st.sampled_from(_SCHOOL_REASONS))
    return member


@st.composite
def exit_households(
    draw: st.DrawFn, *, remove: bool = True, ident: str | None = None, as_of: dt.date | None = None
) -> dict[str, Any]:
    """A valid household as plain data, around the exit cases' defaults (see the module doc).

    With `as_of`, the income period is usually the one checked in that year (1 October of the
    year before to 30 September), so that the income criterion is usually decided."""
    if not isinstance(remove, bool):
        raise TypeError(f"remove={remove!r} must be a bool")
    if ident is not None and not isinstance(ident, str):
        raise TypeError(f"ident={ident!r} must be a string or None")
    if as_of is not None and not isinstance(as_of, dt.date):
        raise TypeError(f"as_of={as_of!r} must be a date or None")
    h = default_household()
    h["id"] = ident or draw(st.integers(1, 9999).map(lambda n: f"G-{n:04d}"))

    income = h["income"]
    income["per_capita"] = draw(
        st.one_of(
            _money(2000, 7000), _money(4200, 7000), st.sampled_from((Decimal("3800"), Decimal("3800.01")))
        )
    )
    income["non_counting_transfers"] = draw(st.sampled_from((0, 300)) | _money(0, 1000))
    if as_of is not None:
        income["period_start"] = dt.date(as_of.year - 1, 10, 1)
        income["period_end"] = dt.date(as_of.year, 9, 30)
    if draw(st.integers(0, 5)) == 0:
        start = draw(_dates(dt.date(2016, 10, 1), dt.date(2019, 10, 1)))
        income["period_start"] = start
        income["period_end"] = start + dt.timedelta(days=draw(st.integers(180, 400)))
    elif as_of is None and draw(st.booleans()):
        year = draw(st.integers(2017, 2020))
        income["period_start"] = dt.date(year - 1, 10, 1)
        income["period_end"] = dt.date(year, 9, 30)

    h["food_and_clothing_secured"] = draw(_mostly(True, st.booleans()))
    water = h["water"]
    water["litres_per_person_day"] = draw(_mostly(40, st.integers(10, 60) | st.sampled_from((19, 20))))
    water["piped"] = draw(_mostly(True, st.booleans()))
    if not water["piped"] or draw(st.booleans()):
        water["round_trip_minutes"] = draw(st.integers(0, 40) | st.sampled_from((20, 21)))
    water["quality_ok"] = draw(_mostly(True, st.booleans()))
    water["guarantee_rate"] = draw(
        _mostly(Decimal("0.95"), st.integers(80, 100).map(lambda n: Decimal(n) / 100))
    )

    housing = h["housing"]
    housing["grade"] = draw(_mostly("b", st.sampled_from(("a", "b", "safe", "c", "d"))))
    if draw(st.integers(0, 3)) == 0:
        housing["resettlement"] = draw(st.sampled_from(("central", "scattered")))
        housing["relocation"] = draw(st.sampled_from(("planned", "keys_handed_over", "moved_in")))
        housing["relocation_debt"] = draw(_mostly(0, st.integers(0, 20000) | st.sampled_from((9999, 10000))))

    registration = h["registration"]
    status = draw(_mostly("pre_exit", st.sampled_from(_STATUSES)))
    registration["status"] = status
    identified = draw(_mostly(dt.date(2014, 6, 1), _dates(dt.date(2014, 1, 1), dt.date(2020, 6, 30))))
    registration["identified_on"] = identified
    if status in ("exited", "returned") or draw(st.integers(0, 4)) == 0:
        exited = identified + dt.timedelta(days=draw(st.integers(30, 1500)))
        registration["exited_on"] = exited
        if status == "returned" or draw(st.integers(0, 4)) == 0:
            registration["returned_on"] = exited + dt.timedelta(days=draw(st.integers(1, 700)))

    count = draw(st.integers(1, 5))
    h["members"] = [draw(_member(i)) for i in range(count)]

    if draw(st.booleans()):
        h["support"] = [
            {
                "measure": draw(st.sampled_from(("industry_grant", "skills_training", "housing_renovation"))),
                "amount": draw(st.integers(0, 20000)),
                "start": draw(_dates(dt.date(2014, 1, 1), dt.date(2019, 12, 31))),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]

    if remove:
        for path in draw(st.lists(st.sampled_from(REMOVABLE), max_size=3, unique=True)):
            try:
                get_path(h, path)
            except (KeyError, IndexError):
                continue
            set_path(h, path, None)
    return h


_NAMED_DAYS = (
    dt.date(2017, 6, 30),
    dt.date(2018, 8, 20),
    dt.date(2018, 8, 21),
    dt.date(2018, 12, 31),
    dt.date(2019, 12, 31),
    dt.date(2020, 12, 31),
)


def as_of_dates(
    *, min_value: dt.date = dt.date(2016, 1, 1), max_value: dt.date = dt.date(2020, 12, 31)
) -> st.SearchStrategy[dt.date]:
    """Assessment dates between `min_value` and `max_value`, often a named day (version edges, year ends)."""
    if min_value > max_value:
        raise ValueError(f"min_value={min_value} is after max_value={max_value}")
    named = [d for d in _NAMED_DAYS if min_value <= d <= max_value]
    days = _dates(min_value, max_value)
    return (st.sampled_from(named) | days) if named else days


def exit_cases(
    *,
    remove: bool = True,
    min_value: dt.date = dt.date(2016, 1, 1),
    max_value: dt.date = dt.date(2020, 12, 31),
) -> st.SearchStrategy[tuple[dict[str, Any], dt.date]]:
    """(household, as-of date) pairs."""
    return as_of_dates(min_value=min_value, max_value=max_value).flatmap(
        lambda day: st.tuples(exit_households(remove=remove, as_of=day), st.just(day))
    )
