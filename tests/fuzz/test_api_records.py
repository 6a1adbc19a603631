"""Fuzzing households given to the Python API (the "records via the API" family): a valid
household edited at random (values replaced by odd ones, keys removed, renamed or added, items
duplicated, mappings wrapped in lists), with dates and pack names right or wrong, is decided or
refused: `Policies` raises nothing but `PolicyError` / `HouseholdError`, a decision always renders
and serialises, and nothing is executed, imported or opened meanwhile."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, check_api, count, watched
from fuzz.mutations import mutated_data
from gspolicy.explain.decision import Decision

from support.bundled import shared_policies
from support.households import default_household

POLICIES = shared_policies()
DATES = st.one_of(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.sampled_from(["2018-12-31", "2018-02-30", "", "x", "2018-12-31T00:00:00", "9999-12-31", "0001-01-01"]),
    st.dates(),
)
EXIT_PACKS = st.sampled_from(
    [None, None, None, "exit_criteria.household", "exit_criteria.househld", "", "x" * 300]
)


def _decide(data: Any, as_of: Any, exit_pack: str | None) -> Decision:
    return POLICIES.evaluate(data, as_of, exit_pack=exit_pack)


@budget(40)
@given(st.data(), DATES, EXIT_PACKS)
def test_an_edited_household_is_decided_or_refused(
    data: st.DataObject, as_of: Any, exit_pack: str | None
) -> None:
    count("records via the API")
    household = data.draw(mutated_data(default_household()))
    with watched():
        decision = check_api(lambda: _decide(household, as_of, exit_pack))
        if decision is not None:
            text = "".join(
                decision.render(lang, detail=level) for lang in ("zh", "en") for level in ("brief", "full")
            )
            payload = json.dumps([decision.to_json(), decision.to_json(detail="brief")], ensure_ascii=False)
    if decision is not None:
        assert text
        assert payload


@budget(10, long=4_000)
@given(st.data(), DATES)
def test_edited_households_decide_villages_and_counties_or_are_refused(
    data: st.DataObject, as_of: Any
) -> None:
    count("records via the API")
    households = [data.draw(mutated_data(default_household())) for _ in range(data.draw(st.integers(1, 3)))]
    village = data.draw(
        mutated_data({"code": "621126100001", "name": "村", "county_code": "621126", "rural_population": 300})
    )
    with watched():
        check_api(lambda: POLICIES.evaluate_areas(households, as_of, villages=[village]))
