"""`check --prove` on planted defects: a dead rule, an always-true criterion, two overlapping
exclusive rules — each found, with a household the interpreter confirms — and a timeout that
reads "not proved", never "consistent"."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from gspolicy.analysis.prove import PackProof, case_yaml, case_yaml_of, prove_pack, search
from gspolicy.analysis.prove_across import prove_across
from gspolicy.analysis.prove_report import render_proofs
from gspolicy.analysis.smt import is_true
from gspolicy.cli import main
from gspolicy.engine.outcome import decide_outcome
from gspolicy.lang.interpret import Context, evaluate
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.validate import validate_record
from unit.analysis._plant import EXIT_2018, POLICIES, copy_policies, plant

pytestmark = pytest.mark.slow  # proofs with the solver over planted packs: full suite

HOUSING = Path("seven_batches/housing/2016.1.yaml")


def _load(root: Path) -> PolicySet:
    policy_set, problems = load_policies([root])
    assert policy_set is not None, [d for d in problems if d.is_error]
    return policy_set


def _with_housing(tmp_path: Path) -> Path:
    root = copy_policies(tmp_path)
    shutil.copytree(POLICIES / "seven_batches" / "housing", root / "seven_batches" / "housing")
    return root


def _confirmed(policy_set: PolicySet, proof: PackProof, pack_id: str) -> None:
    """Every finding's household is valid, and the interpreter gives it the values its case expects."""
    pack = policy_set.versions(pack_id)[-1]
    for finding in proof.findings:
        assert finding.witness is not None
        record, problems = validate_record(dict(finding.witness.household), policy_set.schema)
        assert record is not None, problems
        ctx = Context(record, finding.witness.as_of, _params(pack, finding.witness.as_of), pack.facts)
        for key, table in (("rules", pack.rules), ("criteria", pack.criteria)):
            for name, want in finding.expect.get(key, {}).items():
                value = evaluate(table[name], ctx)
                assert value is (want in ("yes", "pass")), (name, want, value)
        # the case is a pack case: YAML with the household and the expectation
        (case,) = yaml.safe_load(case_yaml(finding, "planted"))
        assert set(case) == {"name", "as_of", "household", "expect"}


def _params(pack, as_of):  # type: ignore[no-untyped-def]
    from gspolicy.engine.run import parameter_values

    return parameter_values(pack, as_of)


def test_planted_dead_rule_and_overlapping_exclusive_rules(tmp_path: Path) -> None:
    root = _with_housing(tmp_path)
    # repair can never hold: a grade both C and D; rebuild now also takes grade C (overlaps repair)
    plant(
        root,
        HOUSING,
        'when: registered_poor and housing.grade == "c" and not resettled_safely',
        'when: registered_poor and housing.grade == "c" and housing.grade == "d" and not resettled_safely',
    )
    plant(
        root,
        HOUSING,
        'when: registered_poor and housing.grade == "d" and not resettled_safely',
        'when: registered_poor and housing.grade in ["c", "d"] and not resettled_safely',
    )
    plant(
        root,
        HOUSING,
        "  - [housing.repair, housing.rebuild]",
        "  - [housing.repair, housing.rebuild]\n  - [housing.rebuild, housing.disaster]",
    )
    policy_set = _load(root)
    proof = prove_pack(policy_set.versions("seven_batches.housing")[-1], timeout=5)
    kinds = {(f.kind, f.names) for f in proof.findings}
    assert ("never-true", ("housing.repair",)) in kinds
    assert ("exclusive-overlap", ("housing.rebuild", "housing.disaster")) in kinds
    # a rule that never holds overlaps nothing: that pair is proved exclusive
    assert ("housing.repair", "housing.rebuild") in proof.exclusive_proved
    _confirmed(policy_set, proof, "seven_batches.housing")
    zh = render_proofs([proof], "zh", timeout=5)
    assert "互斥规则 housing.rebuild, housing.disaster 可同时成立" in zh
    assert "seven_batches.housing@2016.1：4 条规则和标准，已证明 3，已驳倒 1" in zh


def test_planted_always_true_criterion(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    plant(
        root,
        EXIT_2018,
        "require: food_and_clothing_secured",
        "require: food_and_clothing_secured or not food_and_clothing_secured or not present(food_and_clothing_secured)",
    )
    policy_set = _load(root)
    pack = next(p for p in policy_set.versions("exit_criteria.household") if p.version == "2018.1")
    proof = prove_pack(pack, timeout=5)
    found = [f for f in proof.findings if f.names == ("exit.food_clothing",) or "food" in f.names[0]]
    assert [f.kind for f in found] == ["never-false"]
    assert {c.id: c.status for c in proof.conditions}[found[0].names[0]] == "refuted"
    _confirmed(policy_set, proof, "exit_criteria.household")


def test_a_tiny_timeout_reads_not_proved(bundled) -> None:  # type: ignore[no-untyped-def]
    pack = bundled.policy_set.versions("exit_criteria.household")[-1]
    proof = prove_pack(pack, timeout=0.001, within=(dt.date(2018, 1, 1), dt.date(2018, 12, 31)))
    statuses = [c.status for c in proof.conditions]
    assert "not_proved" in statuses
    assert not proof.findings  # a timeout is never a finding
    assert all(why for _, why in proof.not_proved)


def test_check_prove_reports_per_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "policies"  # the schema, the parameters and the housing batch alone
    for name in ("schema", "parameters", "seven_batches/housing"):
        shutil.copytree(POLICIES / name, root / name)
    plant(
        root,
        HOUSING,
        'when: registered_poor and housing.grade == "d" and not resettled_safely',
        'when: registered_poor and housing.grade in ["c", "d"] and not resettled_safely',
    )
    code = main(["--lang", "en", "check", str(root), "--prove", "--timeout", "5000"])
    out = capsys.readouterr().out
    assert code == 2
    assert "seven_batches.housing@2016.1: 4 rules and criteria" in out
    assert "the exclusive rules housing.repair, housing.rebuild can both hold" in out
    assert "household:" in out
    assert "expect:" in out


def test_planted_violated_invariant(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    for name in ("invariants", "seven_batches/housing"):
        shutil.copytree(POLICIES / name, root / name)
    # the planted invariant: no household that passes exit has passed the income criterion
    plant(
        root,
        Path("invariants/household/2016.1.yaml"),
        'rule("housing.repair") or rule("housing.rebuild") or rule("housing.disaster")',
        'criterion("exit.income")',
    )
    policy_set = _load(root)
    across = prove_across(policy_set, timeout=5)
    (finding,) = [f for f in across.findings if f.kind == "invariant-violated"]
    assert finding.names == ("invariant.exit_no_housing_due",)
    assert finding.witness is not None
    outcome = decide_outcome(
        policy_set, finding.witness.record, finding.witness.as_of, exit_pack="exit_criteria.household"
    )
    assert "invariants.household:invariant.exit_no_housing_due" in outcome.findings
    assert outcome.verdict == "pass"
    (case,) = yaml.safe_load(case_yaml(finding, "planted"))
    assert case["expect"] == {"findings": ["invariants.household:invariant.exit_no_housing_due"]}


def test_the_bundled_invariant_and_batches_are_proved(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    for name in ("invariants", "seven_batches/housing"):
        shutil.copytree(POLICIES / name, root / name)
    policy_set = _load(root)
    across = prove_across(policy_set, timeout=5)
    assert "invariants.household:invariant.exit_no_housing_due" in across.proved
    # with the housing batch alone, a registered poor household with a safe house is in no batch
    (finding,) = across.findings
    assert finding.kind == "no-batch"
    assert finding.witness is not None
    outcome = decide_outcome(
        policy_set, finding.witness.record, finding.witness.as_of, exit_pack="exit_criteria.household"
    )
    housing = next(p for p in outcome.packs if p.id == "seven_batches.housing")
    assert {r.holds for r in housing.rules} == {"no"}


def test_free_parameters_make_a_rule_waiting_on_a_parameter_reachable(bundled) -> None:  # type: ignore[no-untyped-def]
    """The monitor fills `event_shock_after_low_income` per household (not established in the
    pack): read as the engine reads it the rule never holds; read as a free value it holds for a
    household and a value the interpreter confirms together."""
    pack = bundled.policy_set.versions("monitoring.household")[-1]
    rule = pack.rules["risk.shock_after_low_income"]
    window = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))

    def goal(tr):  # type: ignore[no-untyped-def]
        return is_true(tr.tr(rule))

    def confirm(record, as_of, free):  # type: ignore[no-untyped-def]
        params = {**_params(pack, as_of), **free}
        return evaluate(rule, Context(record, as_of, params, pack.facts)) is True

    assert search(pack, goal, confirm, within=window, timeout=5).result == "unsat"
    found = search(pack, goal, confirm, within=window, timeout=5, free_parameters=True)
    assert found.result == "sat"
    assert found.witness is not None
    assert found.witness.parameters == {"event_shock_after_low_income": True}
    assert "with the parameters event_shock_after_low_income = true" in case_yaml_of(found.witness, "x", {})
