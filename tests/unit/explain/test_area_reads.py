"""What the areas' packs read of each household (`area_reads`): the fields a streamed run keeps
of every household, or None when a read cannot be served by them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.explain.area_reads import area_reads

DAY = dt.date(2018, 12, 31)


def test_the_bundled_area_packs_read_a_few_plain_fields() -> None:
    reads = area_reads(gspolicy.load_policies().policy_set, DAY)
    assert reads is not None
    assert set(reads.paths) == {
        ("id",),
        ("village_code",),
        ("county_code",),
        ("size",),
        ("registration", "status"),
        ("registration", "identified_on"),
    }
    assert set(reads.derive) == {
        ("exit_criteria.household", "verdict"),
        ("identification.household", "any_rule"),
    }


@pytest.mark.parametrize(
    ("read", "why"),
    [
        ("count(household.members)", "a list of the household"),
        ("(1 if present(household.registration) else 0)", "a nested record whole"),
        ("household.income.per_capita", "a number with decimals"),
    ],
)
def test_a_read_the_kept_fields_cannot_serve_gives_none(tmp_path: Path, read: str, why: str) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "exit_criteria" / "village" / "2018.1.yaml"
    text = pack.read_text(encoding="utf-8")
    assert "          household.size\n" in text
    pack.write_text(text.replace("          household.size\n", f"          {read}\n", 1), encoding="utf-8")
    policies = gspolicy.load_policies(root)
    assert area_reads(policies.policy_set, DAY) is None, why
