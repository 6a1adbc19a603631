"""The example department reports of examples/reports/: the clean one reconciles, and each
planted discrepancy is found with the households behind it (examples/reports/README.md).  The
example registry's figures are computed once for the module (a few CPU-seconds: slow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from gspolicy.errors import PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.stats import Figures, parse_quarter
from gspolicy.stats.figures import figures
from gspolicy.stats.reconcile import (
    Difference,
    check_keys,
    indicators_in_force,
    known_keys,
    read_report,
    reconcile,
    tracking_keys,
)
from gspolicy.stats.registry import decided_pairs

from support.bundled import shared_policies

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
REPORTS = ROOT / "examples" / "reports"
QUARTER = parse_quarter("2017Q4")


def _make_reports() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_reports", REPORTS / "make_reports.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _make_reports()


@attrs.frozen
class Example:
    policy_set: PolicySet
    figures: Figures
    seen: dict[str, set[str]]

    def differences(self, name: str) -> list[Difference]:
        indicators = indicators_in_force(self.policy_set, QUARTER)
        report = read_report(REPORTS / name, indicators, QUARTER)
        assert check_keys(report, indicators, known_keys(self.policy_set, self.figures, self.seen)) == []
        return reconcile(self.figures, report)


@pytest.fixture(scope="module")
def example() -> Example:
    policy_set = shared_policies().policy_set
    seen: dict[str, set[str]] = {}
    pairs = decided_pairs(policy_set, [MAKE.REGISTRY], QUARTER.last)
    return Example(
        policy_set, figures(policy_set, tracking_keys(policy_set, pairs, QUARTER, seen), QUARTER), seen
    )


def test_the_reports_are_the_generators_from_the_registrys_figures(example: Example) -> None:
    made = MAKE.reports(example.figures)
    assert sorted(made) == sorted(p.name for p in REPORTS.glob("*.csv"))
    for name, text in made.items():
        assert (REPORTS / name).read_text(encoding="utf-8") == text, f"run {REPORTS / 'make_reports.py'}"


def test_the_clean_report_agrees(example: Example) -> None:
    assert example.differences("clean.csv") == []


def test_a_county_over_reporting_exits_is_found_with_its_exited_households(example: Example) -> None:
    [found] = example.differences("county_over_reports_exits.csv")
    cell = example.figures.tables["stat.exited"].cells[(MAKE.OVER_REPORTING_COUNTY,)]
    assert (found.indicator, found.keys) == ("stat.exited", (("county", MAKE.OVER_REPORTING_COUNTY),))
    assert (found.reported, found.computed, found.gap) == (cell.value + MAKE.OVER_REPORTED_BY, cell.value, 3)
    assert found.households == cell.households
    assert len(found.households) == cell.value


def test_a_missing_village_is_found_with_the_households_that_exited_there(example: Example) -> None:
    [found] = example.differences("missing_village.csv")
    table = example.figures.tables["stat.exited_by_village"]
    village = min(k for k in table.cells if k[0] == MAKE.MISSING_VILLAGE_COUNTY)
    assert (found.indicator, found.keys) == (table.id, tuple(zip(table.keys, village, strict=True)))
    assert found.reported is None
    assert found.computed == table.cells[village].value
    assert found.households == table.cells[village].households


def test_a_quarter_shifted_is_a_located_error_and_nothing_is_compared(example: Example) -> None:
    indicators = indicators_in_force(example.policy_set, QUARTER)
    with pytest.raises(PolicyError) as raised:
        read_report(REPORTS / "quarter_shifted.csv", indicators, QUARTER)
    [problem] = raised.value.diagnostics
    lines = (REPORTS / "quarter_shifted.csv").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("2017Q3,"))
    assert lines[line - 1].startswith(f"2017Q3,stat.exited,{MAKE.SHIFTED_COUNTY},")
    assert problem.code == "reconcile/other-quarter"
    assert problem.location is not None
    assert problem.location.header().endswith(f"quarter_shifted.csv:{line}")
    assert "2017Q3" in problem.message("zh")
    assert "2017Q4" in problem.message("en")


def test_a_batch_total_one_above_is_found_with_the_batchs_households(example: Example) -> None:
    [found] = example.differences("batch_total_plus_one.csv")
    cell = example.figures.tables["stat.households_in_batch"].cells[MAKE.BATCH_CELL]
    assert found.keys == (("county", MAKE.BATCH_CELL[0]), ("batch", MAKE.BATCH_CELL[1]))
    assert (found.reported, found.computed, found.gap) == (cell.value + 1, cell.value, 1)
    assert found.households == cell.households


def test_a_household_counted_in_a_batch_it_is_not_in_is_the_one_extra(example: Example) -> None:
    [found] = example.differences("household_level.csv")
    table = example.figures.tables["stat.exited_through"]
    into = (MAKE.HOUSEHOLD_COUNTY, MAKE.HOUSEHOLD_TO)
    [extra] = found.extra
    assert found.keys == tuple(zip(table.keys, into, strict=True))
    assert found.missing == ()
    assert extra in table.cells[(MAKE.HOUSEHOLD_COUNTY, MAKE.HOUSEHOLD_FROM)].households
    assert extra not in table.cells[into].households
    assert found.households == table.cells[into].households
