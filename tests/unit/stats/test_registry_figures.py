"""A registry's figures are the reference figures over its households decided one by one, and a
file with a problem gives no figures at all, only its located problems."""

from __future__ import annotations

from pathlib import Path

import pytest

import gspolicy
from gspolicy.errors import PolicyError
from gspolicy.stats import figures, parse_quarter
from gspolicy.stats.registry import registry_figures

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "households.jsonl"


def test_a_registry_gives_the_figures_of_its_households_decided_one_by_one() -> None:
    policies = gspolicy.load_policies()
    quarter = parse_quarter("2019Q4")
    households = gspolicy.load_households(EXAMPLE, policies=policies)
    pairs = [(h, policies.decide(h, quarter.last)) for h in households]
    expected = figures(policies.policy_set, pairs, quarter)
    assert registry_figures(policies.policy_set, [EXAMPLE], quarter) == expected
    assert any(table.total.value for table in expected.tables.values())


def test_a_file_with_a_problem_gives_no_figures_but_every_problem(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "households.jsonl"
    bad.write_text(
        "\n".join([lines[0], '{"id": "bad-1", "size": "many"}', *lines[1:], lines[0]]) + "\n",
        encoding="utf-8",
    )
    policies = gspolicy.load_policies()
    with pytest.raises(PolicyError) as raised:
        registry_figures(policies.policy_set, [bad], parse_quarter("2019Q4"))
    codes = {d.code for d in raised.value.diagnostics}
    assert "record/duplicate-id" in codes  # the id given twice, in the last block read
    assert len(codes) >= 2  # and the bad size, in the first: every problem is reported
    assert all(d.location is not None and str(bad) in str(d.location.file) for d in raised.value.diagnostics)
