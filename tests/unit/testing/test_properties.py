"""The property library on the bundled packs (fast settings), a planted non-monotone rule caught and
written out as a YAML case that then fails under `gspolicy test`."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.cli import main
from gspolicy.pack.fmt import format_text
from gspolicy.schema.model import Record
from gspolicy.strategies import boundary_households
from gspolicy.testing.properties import (
    PropertyFailed,
    assert_buffer_not_reduced,
    assert_deterministic,
    assert_explanations_sufficient,
    assert_monotone,
    assert_settles,
    assert_version_isolation,
    write_case,
)

FAST = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
DAY = dt.date(2018, 12, 31)
DAYS = st.sampled_from([dt.date(2017, 6, 30), DAY, dt.date(2019, 12, 31), dt.date(2021, 3, 1)])
ROOTS = [bundled_policies() / p for p in ("schema", "parameters", "exit_criteria", "buffer_period")]


def _defaults(policies: Policies, pack: str) -> Record:
    path = bundled_policies() / pack / "household" / "tests"
    data = yaml.safe_load(next(iter(sorted(path.glob("*.yaml")))).read_text("utf-8"))["defaults"]
    return policies.household(data)


@pytest.fixture(scope="module")
def policies() -> Policies:
    return load_policies(ROOTS)


@pytest.fixture(scope="module")
def households(policies: Policies) -> st.SearchStrategy[Record]:
    base = st.sampled_from([_defaults(policies, "exit_criteria"), _defaults(policies, "buffer_period")])
    return boundary_households(policies, as_of=DAY, base=base)


def test_determinism(policies: Policies, households: st.SearchStrategy[Record]) -> None:
    assert_deterministic(policies, as_of=DAYS, households=households, settings=FAST)


def test_monotone_in_income(policies: Policies, households: st.SearchStrategy[Record]) -> None:
    assert_monotone(policies, "income.per_capita", as_of=DAYS, households=households, settings=FAST)


def test_buffer_support_never_reduced(policies: Policies) -> None:
    base = _defaults(policies, "buffer_period")
    exits = st.dates(dt.date(2016, 1, 1), dt.date(2021, 6, 30))
    households = exits.map(
        lambda d: base.replace(registration=base["registration"].replace(exited_on=d))  # type: ignore[attr-defined]
    )
    assert_buffer_not_reduced(
        policies,
        as_of=st.dates(dt.date(2016, 1, 1), dt.date(2026, 6, 30)),
        households=households,
        settings=FAST,
    )


def test_explanations_sufficient(policies: Policies, households: st.SearchStrategy[Record]) -> None:
    assert_explanations_sufficient(policies, as_of=DAY, households=households, settings=FAST)


def test_version_isolation(policies: Policies, households: st.SearchStrategy[Record]) -> None:
    assert_version_isolation(policies, as_of=DAYS, households=households, settings=FAST)


@pytest.mark.slow  # a property over generated households: full suite
def test_undetermined_settles(policies: Policies, households: st.SearchStrategy[Record]) -> None:
    assert_settles(policies, as_of=DAY, households=households, settings=FAST)


def test_a_planted_version_leak_is_caught(policies: Policies, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: a parameter takes its latest value whatever the date."""
    from gspolicy.pack.model import Parameter

    monkeypatch.setattr(Parameter, "at", lambda self, as_of: self.values[-1] if self.values else None)
    base = _defaults(policies, "exit_criteria")
    income = st.integers(3600, 4700).map(
        lambda n: base.replace(income=base["income"].replace(per_capita=n))  # type: ignore[attr-defined]
    )
    with pytest.raises(PropertyFailed, match="version isolation"):
        assert_version_isolation(policies, as_of=DAY, households=income, settings=FAST)


PLANTED = """\
  - id: exit.planted_cap
    title: {zh: 收入上限（植入的错误规则）, en: "An income cap (a planted, non-monotone rule)"}
    require: income.per_capita <= 5200  # the defaults' income: any raise fails it
    cite: {source: gansu_2018_standard}
"""


def test_a_planted_non_monotone_rule_is_caught_and_written_as_a_failing_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "policies"
    for part in ("schema", "parameters", "exit_criteria", "buffer_period"):
        shutil.copytree(bundled_policies() / part, root / part)
    pack = root / "exit_criteria" / "household" / "2018.1.yaml"
    pack.write_text(pack.read_text("utf-8") + PLANTED, "utf-8")
    planted = load_policies(root)
    base = _defaults(planted, "exit_criteria")
    with pytest.raises(PropertyFailed) as caught:
        assert_monotone(planted, "income.per_capita", as_of=DAY, households=st.just(base), settings=FAST)
    example = caught.value.counterexample
    assert "exit.planted_cap" in str(caught.value)
    assert example.expect == {"criteria": {"exit.planted_cap": "pass"}}
    out = root / "exit_criteria" / "household" / "tests" / "planted.yaml"
    assert example.write(out, name="more income never fails a criterion") == out
    code = main(["test", "--lang", "en", "--policies", str(root), str(out)])
    report = capsys.readouterr().out
    assert code == 1
    assert "more income never fails a criterion" in report
    assert "0 passed, 1 failed" in report
    # against the fixed packs the same case passes
    pack.write_text(
        pack.read_text("utf-8").replace("income.per_capita <= 5200", "income.per_capita >= 0"), "utf-8"
    )
    assert main(["test", "--policies", str(root), str(out)]) == 0


def test_write_case_into_a_file_with_defaults_writes_only_the_changes(
    tmp_path: Path, policies: Policies
) -> None:
    target = tmp_path / "tests" / "cases.yaml"
    shutil.copytree(bundled_policies() / "exit_criteria" / "household" / "tests", target.parent)
    shutil.move(target.parent / "exit_2018.yaml", target)
    household = _defaults(policies, "exit_criteria")
    household = household.replace(food_and_clothing_secured=None)
    write_case(
        target,
        household,
        as_of=DAY,
        pack="exit_criteria.household",
        expect={"criteria": {"exit.food_clothing": "undetermined"}},
        name="written",
    )
    text = target.read_text("utf-8")
    assert format_text(text, path=target) == text  # written in the canonical layout
    data = yaml.safe_load(text)
    assert data["cases"][-1]["household"] == {"food_and_clothing_secured": None}
    assert main(["test", str(target)]) in (0, 1)  # the file still reads
    with pytest.raises(ValueError, match=r"not `buffer_period\.household`"):
        write_case(target, household, as_of=DAY, pack="buffer_period.household", expect={}, name="x")
