"""The property-tests how-to runs as written: its Python blocks, put together in order, make a test
module that pytest runs green in a workspace made with `gspolicy init`; and its sizing advice holds
(a planted non-monotone rule is found within the profile's 200 examples)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.strategies import boundary_households
from gspolicy.testing.properties import PropertyFailed, assert_monotone

pytest_plugins = ["pytester"]

PAGE = bundled_policies().parent / "docs" / "how-to" / "property-tests.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def module_of_the_page() -> str:
    return "\n".join(_BLOCK.findall(PAGE.read_text(encoding="utf-8")))


@pytest.mark.slow  # runs the page's examples under pytester: full suite
def test_the_examples_of_the_page_run_as_written(pytester: pytest.Pytester) -> None:
    shutil.copytree(bundled_policies(), pytester.path / "policies")
    (pytester.path / "test_my_packs.py").write_text(module_of_the_page(), encoding="utf-8")
    # the page's profile is `gspolicy` (200 examples); the same tests, fewer examples, keep this fast
    pytester.makeconftest(
        "from hypothesis import settings\nsettings.register_profile('docs', max_examples=3, deadline=None)\n"
    )
    result = pytester.runpytest(
        "test_my_packs.py", "--hypothesis-profile=docs", "-p", "no:cacheprovider", "-q"
    )
    result.assert_outcomes(passed=7)


PLANTED = """\
  - id: exit.planted_cap
    title: {zh: 收入上限（植入的错误规则）, en: "An income cap (a planted, non-monotone rule)"}
    require: income.per_capita < 9000
    cite: {source: gansu_2018_standard}
"""


@pytest.mark.slow  # a search of up to 200 examples: full suite
def test_the_sizing_advice_holds_a_planted_cap_is_found_within_the_profiles_200_examples(
    tmp_path: Path,
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "exit_criteria" / "household" / "2018.1.yaml"
    pack.write_text(pack.read_text(encoding="utf-8") + PLANTED, encoding="utf-8")
    policies = gspolicy.load_policies(root)
    cases = root / "exit_criteria" / "household" / "tests" / "exit_2018.yaml"
    passing = policies.household(yaml.safe_load(cases.read_text(encoding="utf-8"))["defaults"])
    day = dt.date(2018, 12, 31)
    households = boundary_households(policies, as_of=day, base=st.just(passing))
    quick = settings(
        max_examples=200,  # the profile's number, which the page says finds it (50 finds it most of the time)
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    with pytest.raises(PropertyFailed, match=r"exit\.planted_cap"):
        assert_monotone(policies, "income.per_capita", as_of=day, households=households, settings=quick)
