"""`diff --prove`: a version change that matters only for households of seven or more members is
found (with a confirmed household of seven or more), and a bound of six reads "equal within the
bound" — never more than the bound proves."""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy.analysis.prove_diff import compare_packs
from gspolicy.cli import main
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from unit.analysis._plant import EXIT_2016, EXIT_2018, copy_policies, plant


def _exit_2018(root: Path) -> object:
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d for d in problems if d.is_error]
    assert isinstance(policy_set, PolicySet)
    return next(p for p in policy_set.versions("exit_criteria.household") if p.version == "2018.1")


def test_planted_a_change_for_seven_members_or_more(tmp_path: Path) -> None:
    old_root = copy_policies(tmp_path / "old")
    new_root = copy_policies(tmp_path / "new")
    plant(
        new_root,
        EXIT_2018,
        "require: food_and_clothing_secured",
        "require: food_and_clothing_secured and (not present(members) or count(members) < 7)",
    )
    old, new = _exit_2018(old_root), _exit_2018(new_root)
    found = compare_packs(old, new, timeout=5, only=["exit.food_clothing", "exit.water"])  # type: ignore[arg-type]
    by_id = {i.id: i for i in found.items}
    changed = by_id["exit.food_clothing"]
    assert changed.result == "differs"
    assert changed.new == "fail"
    assert changed.old != "fail"
    witness = changed.answer.witness
    assert witness is not None
    assert len(witness.record.get("members")) >= 7  # type: ignore[arg-type]
    assert by_id["exit.water"].result == "equal"
    # within a bound of six members the versions are equal, and that is all that is claimed
    small = compare_packs(old, new, timeout=5, bound=6, only=["exit.food_clothing"])  # type: ignore[arg-type]
    assert [(i.id, i.result) for i in small.items] == [("exit.food_clothing", "equal")]
    assert small.bound == 6


@pytest.mark.slow  # both exit versions, every criterion (about 3 CPU-s)
def test_diff_prove_between_the_bundled_exit_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_policies(tmp_path)
    code = main(
        ["--lang", "en", "diff", str(root / EXIT_2016), str(root / EXIT_2018), "--prove", "--timeout", "5000"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "proof: exit_criteria.household@2016.1 → exit_criteria.household@2018.1" in out
    assert "criterion exit.income: differs" in out
    assert "criterion exit.food_clothing: equal for every household whose lists hold at most 8 items" in out
