"""A failing pack test case's report explains the actual decision at a detail level: `brief` by
default, `fails` without the passing criteria, `full` with every reason."""

from __future__ import annotations

import datetime as dt

import pytest

from gspolicy.testing.cases import Case, CaseResult, run_case

from support.bundled import shared_policies
from support.households import default_household


@pytest.fixture(scope="module")
def failed() -> CaseResult:
    household = default_household()
    household["housing"]["grade"] = "c"
    case = Case(
        file="exit_2018.yaml",
        name="a C-grade house passes (deliberately wrong)",
        pack="exit_criteria.household",
        as_of=dt.date(2018, 12, 31),
        household=household,
        expect={"verdict": "pass"},
    )
    result = run_case(case, shared_policies().policy_set)
    assert not result.passed
    return result


def test_a_failure_report_explains_at_the_level_asked(failed: CaseResult) -> None:
    brief, fails, full = (failed.report("en", detail=d) for d in ("brief", "fails", "full"))  # type: ignore[arg-type]
    assert failed.report("en") == brief  # brief by default
    for text in (brief, fails, full):
        assert "verdict: expected pass, actual fail" in text
        assert "✗ exit.housing" in text
    assert "✓ exit.income" in brief
    assert "✓ exit.income" not in fails
    assert "      read: water." not in brief  # a passing criterion's values: only at full
    assert "      read: water." in full
    assert len(fails) < len(brief) < len(full)


def test_a_failure_report_in_chinese_keeps_its_level(failed: CaseResult) -> None:
    text = failed.report("zh", detail="fails")
    assert "实际判定的说明：" in text
    assert "✗ exit.housing" in text
    assert "✓" not in text
