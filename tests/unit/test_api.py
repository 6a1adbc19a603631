"""The Python API for applications: `load_policies`, `load_households`, `Policies.evaluate` and
`Policies.evaluate_many`.

Loading: the bundled policies, or a given root (a `str`, a `Path` or a list).  Bad packs raise
`PolicyError` and bad records `HouseholdError`, each holding located diagnostics.  Deciding: the
as-of date as a `date` or an ISO string; a validated `Record` or plain data; `evaluate_many`
equals evaluating one by one; one `Policies` object shared between threads decides as it does
alone.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import gspolicy
from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_households, load_policies
from gspolicy.errors import HouseholdError, PolicyError
from gspolicy.schema.model import Record

from support.bundled import shared_policies
from support.households import default_household

REPO = bundled_policies().parent
EXAMPLES = REPO / "examples" / "households.jsonl"
AS_OF = dt.date(2018, 12, 31)


@pytest.fixture(scope="module")
def policies() -> Policies:
    return shared_policies()


@pytest.fixture(scope="module")
def households(policies: Policies) -> tuple[Record, ...]:
    return load_households(EXAMPLES, policies=policies)


# -- loading --------------------------------------------------------------------------------------


def test_the_facade_exports_the_api() -> None:
    assert gspolicy.load_policies is load_policies
    assert gspolicy.load_households is load_households
    assert gspolicy.Policies is Policies


def test_load_the_bundled_policies(policies: Policies) -> None:
    assert "exit_criteria.household" in policies.pack_ids
    versions = [p.version for p in policies.policy_set.versions("exit_criteria.household")]
    assert versions == ["2016.1", "2018.1"]
    assert policies.schema.root == "household"


@pytest.mark.parametrize("form", [str, Path, lambda p: [p]], ids=["str", "Path", "list"])
def test_load_policies_from_a_given_root(tmp_path: Path, form: object, policies: Policies) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    loaded = load_policies(form(root))  # type: ignore[operator]
    assert loaded.pack_ids == policies.pack_ids
    # the same packs: the same content hashes, so the same decisions
    hashes = {(p.id, p.version): p.content_hash for p in loaded.policy_set.packs}
    assert hashes == {(p.id, p.version): p.content_hash for p in policies.policy_set.packs}


def test_a_bad_pack_raises_policy_error_with_located_diagnostics(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "exit_criteria" / "household" / "2018.1.yaml"
    text = pack.read_text(encoding="utf-8")
    pack.write_text(
        text.replace("require: food_and_clothing_secured", "require: food_and_clothes_secured"), "utf-8"
    )
    with pytest.raises(PolicyError) as info:
        load_policies(root)
    assert not isinstance(info.value, HouseholdError)
    located = [d for d in info.value.diagnostics if d.is_error]
    assert located
    rendered = info.value.render("en")
    assert "2018.1.yaml:" in rendered
    assert "food_and_clothes_secured" in rendered
    assert "food_and_clothing_secured" in rendered  # did you mean


def test_a_missing_policy_root_raises_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="nowhere"):
        load_policies(tmp_path / "nowhere")


def test_load_households(households: tuple[Record, ...]) -> None:
    n = sum(1 for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(households) == n
    assert all(isinstance(h, Record) for h in households)
    # without `policies`, the bundled schema is used: the same records
    assert load_households(str(EXAMPLES)) == households


def test_bad_households_raise_household_error_with_located_diagnostics(tmp_path: Path) -> None:
    good = json.dumps({"id": "A-1"})
    bad = json.dumps({"id": "A-2", "income": {"per_capita": "lots"}, "water": {"guarantee_rate": 2}})
    path = tmp_path / "records.jsonl"
    path.write_text(f"{good}\n{bad}\n", encoding="utf-8")
    with pytest.raises(HouseholdError) as info:
        load_households(path)
    rendered = info.value.render("en")
    assert "records.jsonl:2" in rendered
    assert "income.per_capita" in rendered
    assert "water.guarantee_rate" in rendered
    assert len([d for d in info.value.diagnostics if d.is_error]) == 2  # every problem, not the first
    assert isinstance(info.value, ValueError)  # errors subclass builtins


def test_a_missing_household_file_raises(tmp_path: Path) -> None:
    with pytest.raises(PolicyError):
        load_households(tmp_path / "none.jsonl")


# -- deciding ---------------------------------------------------------------------------------------


def test_evaluate_with_a_date_or_an_iso_string(policies: Policies, households: tuple[Record, ...]) -> None:
    for household in households[:5]:
        by_date = policies.evaluate(household, AS_OF)
        assert policies.evaluate(household, "2018-12-31") == by_date
        assert policies.evaluate(household, dt.datetime(2018, 12, 31, 17, 30)) == by_date
        assert by_date.as_of == AS_OF


def test_evaluate_a_plain_household(policies: Policies) -> None:
    data = default_household()
    decision = policies.evaluate(data, AS_OF)
    assert decision.verdict == "pass"
    assert decision.household == data["id"]
    assert decision == policies.evaluate(policies.household(data), AS_OF)


def test_evaluate_rejects_an_invalid_plain_household(policies: Policies) -> None:
    data = default_household()
    data["water"]["guarantee_rate"] = 1.5
    with pytest.raises(HouseholdError, match=r"water\.guarantee_rate"):
        policies.evaluate(data, AS_OF)


def test_evaluate_names_the_version_in_force(policies: Policies) -> None:
    data = default_household()
    versions = {
        day: {p.id: p.version for p in policies.evaluate(data, day).packs}["exit_criteria.household"]
        for day in ("2017-06-30", "2018-08-20", "2018-08-21", "2020-12-31")
    }
    assert versions == {
        "2017-06-30": "2016.1",
        "2018-08-20": "2016.1",
        "2018-08-21": "2018.1",
        "2020-12-31": "2018.1",
    }
    late = policies.evaluate(data, "2021-06-30")
    assert late.verdict is None
    assert late.criteria == ()
    assert any("exit_criteria.household" in p.en and "exit_criteria.household" in p.zh for p in late.problems)


@pytest.mark.slow  # explains a sample twice: full suite
def test_evaluate_many_equals_evaluate_one_by_one(policies: Policies, households: tuple[Record, ...]) -> None:
    many = policies.evaluate_many(households, "2018-12-31")
    assert many == [policies.evaluate(h, AS_OF) for h in households]
    assert policies.evaluate_many([], AS_OF) == []
    plain = [default_household()]
    assert policies.evaluate_many(plain, AS_OF) == [policies.evaluate(plain[0], AS_OF)]


@pytest.mark.slow
def test_one_policies_object_shared_between_threads(
    policies: Policies, households: tuple[Record, ...]
) -> None:
    days = [dt.date(2017, 6, 30), AS_OF]
    jobs = [(h, d) for d in days for h in households]
    sequential = [policies.evaluate(h, d) for h, d in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda job: policies.evaluate(*job), jobs))
    assert threaded == sequential  # every field of every decision (frozen attrs)


def test_the_docstring_example_of_the_api_module_works(policies: Policies) -> None:
    """The example at the top of `gspolicy.api` (and `docs/reference/api.md`) runs as written."""
    households = gspolicy.load_households([EXAMPLES])
    decision = policies.evaluate(households[0], as_of=dt.date(2018, 12, 31))
    assert decision.verdict in ("pass", "fail", "undetermined", "not_applicable")
    assert isinstance(decision.missing, tuple)
    assert decision.render("zh").startswith(f"农户 {households[0]['id']} 退出验收判定")
