"""The benchmarks' reference workload is a pack like any other: it loads with the library of the
day, so `python benchmarks/all.py` runs (a format change once left it behind, refused)."""

from __future__ import annotations

from pathlib import Path

from gspolicy.pack.load import load_policies

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "reference"


def test_the_reference_workload_loads_and_has_its_ten_rules() -> None:
    policy_set, problems = load_policies([REFERENCE])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    (pack,) = policy_set.packs
    assert len(pack.pack.criteria) + len(pack.pack.rules) == 10
    assert policy_set.exit_pack() == pack.id
