"""Properties of decisions on generated households, each shown to catch a planted bug.

* **Explanation sufficiency.**  The data paths a decision cites (the readings of its applicability,
  criteria, rule memberships and buffer) are a subset of the paths the evaluation trace read; and
  changing any scalar field the decision does *not* cite — to another valid value, or removing it —
  never changes a verdict (the exit verdict, the applicability, any criterion, rule or buffer status).
* **Monotonicity.**  Raising `income.per_capita` never turns a pass into a fail, for any criterion
  or for the verdict; for the income criterion it never moves down fail < undetermined < pass.
* **Determinism.**  The same household evaluated twice gives equal decisions and equal JSON, and
  `evaluate_many` equals evaluating one by one.

Each property is a plain function that raises `AssertionError` when it does not hold; the `@given`
test runs it on generated examples, and a planted-bug test monkeypatches a bug into gspolicy (or
into a copy of the packs) and shows, with `hypothesis.find`, that the same function then fails on
a generated example.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
import shutil
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, find, given, settings
from hypothesis import strategies as st

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.engine.run import run_pack
from gspolicy.errors import HouseholdError
from gspolicy.explain import buffer as buffer_module
from gspolicy.explain import verdicts as verdicts_module
from gspolicy.explain.decision import Decision, Reading
from gspolicy.schema.model import FieldSpec, Record, Schema

from support.bundled import shared_policies
from support.households import default_household, exit_cases, get_path, scalar_paths, set_path

POLICIES = shared_policies()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# how hard a planted-bug test looks for a counterexample (no shrinking: any example will do)
HUNT = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)

Case = tuple[dict[str, Any], dt.date]


def _fails(check: Callable[..., Any], *args: Any) -> bool:
    try:
        check(*args)
    except AssertionError:
        return True
    return False


# -- what a decision cites, what the trace read, what its verdicts are -----------------------------


def cited_paths(decision: Decision) -> set[str]:
    readings: list[Reading] = []
    if decision.applicability is not None:
        readings.extend(decision.applicability.readings)
    for c in decision.criteria:
        readings.extend(c.readings)
    for m in decision.memberships:
        readings.extend(m.readings)
    if decision.buffer is not None:
        readings.extend(decision.buffer.readings)
    return {r.path for r in readings}


def read_paths(policies: Policies, record: Record, as_of: dt.date) -> set[str]:
    """Every data path the evaluation of the packs in force read (fields, ages, presence checks)."""
    found: set[str] = set()
    for pack in policies.policy_set.all_in_force(as_of):
        if pack.subject != record.type_name:
            continue
        outcome = run_pack(pack, record, as_of)
        results = [
            outcome.applies,
            *outcome.givens.values(),
            *outcome.criteria.values(),
            *outcome.rules.values(),
        ]
        if outcome.buffer is not None:
            b = outcome.buffer
            results.extend([b.retained, *b.active.values(), *b.until.values()])
        for result in results:
            if result is not None:
                found.update(e.name for e in result.events if e.kind in ("field", "age", "present"))
    return found


def verdicts(decision: Decision) -> dict[str, object]:
    out: dict[str, object] = {
        "verdict": decision.verdict,
        "applicability": decision.applicability.status if decision.applicability else None,
        "buffer": decision.buffer.status if decision.buffer else None,
    }
    out.update({c.id: c.verdict for c in decision.criteria})
    out.update({m.rule: m.applies for m in decision.memberships})
    return out


_AGE_FIELDS = re.compile(r"^(.*)\.(birth_date|age|age_recorded_on)$")


def is_cited(path: str, cited: set[str]) -> bool:
    """Whether a stored field is cited: itself, or for a member's birth date or recorded age, the
    age computed from them (`members[2].age`)."""
    if path in cited:
        return True
    match = _AGE_FIELDS.match(path)
    return bool(match) and f"{match.group(1)}.age" in cited


def field_spec(schema: Schema, path: str) -> FieldSpec:
    spec = schema.root_record
    names = [re.sub(r"\[\d+\]", "", part) for part in path.split(".")]
    for name in names[:-1]:
        field = spec.fields[name]
        assert field.record is not None
        spec = schema.records[field.record]
    return spec.fields[names[-1]]


def mutated(schema: Schema, household: dict[str, Any], path: str, seed: int) -> dict[str, Any]:
    """`household` with the field at `path` removed (one seed in five) or set to another value of
    its kind, chosen by `seed` (the result may break a cross-field rule; callers validate it)."""
    out = copy.deepcopy(household)
    value = get_path(out, path)
    spec = field_spec(schema, path)
    if seed % 5 == 0 and not spec.required:
        set_path(out, path, None)
        return out
    new: Any
    if spec.kind == "bool":
        new = not value
    elif spec.kind == "enum":
        assert spec.enum is not None
        codes = [v.code for v in schema.enums[spec.enum].values if v.code != value]
        new = codes[seed % len(codes)]
    elif spec.kind == "date":
        new = value + dt.timedelta(days=(seed % 2000) - 1000 or 1)
    elif spec.kind in ("int", "decimal", "money", "ratio"):
        low = spec.min if isinstance(spec.min, Decimal) else Decimal(-(10**6))
        high = spec.max if isinstance(spec.max, Decimal) else Decimal(10**6)
        step = Decimal(seed % 997) / (100 if spec.kind == "ratio" else 1) + (
            Decimal("0.01") if spec.kind in ("money", "ratio") else 1
        )
        new = Decimal(value) + step if Decimal(value) + step <= high else Decimal(value) - step
        new = max(low, min(high, new))
        if spec.kind == "int":
            new = int(new)
        if new == value:
            new = low if value != low else high
    elif spec.pattern:
        digits = str(seed).rjust(12, "7")
        new = re.sub(r"\[0-9\]\{(\d+)\}", lambda m: digits[: int(m.group(1))], spec.pattern)
    else:
        new = f"{value}-{seed}"
    set_path(out, path, new)
    return out


def uncited_scalars(household: dict[str, Any], cited: set[str]) -> list[str]:
    paths = scalar_paths(household)
    return [p for p in paths if not p.endswith(("id", ".measure")) and not is_cited(p, cited)]


# -- explanation sufficiency -----------------------------------------------------------------------


def check_sufficiency(policies: Policies, case: Case, pick: int, seed: int) -> bool:
    """The property; False when the drawn change is not a valid household (nothing was checked)."""
    household, as_of = case
    record = policies.household(household)
    decision = policies.evaluate(record, as_of)
    cited = cited_paths(decision)
    read = read_paths(policies, record, as_of)
    assert cited <= read, f"cited but never read: {sorted(cited - read)}"
    candidates = uncited_scalars(household, cited)
    if not candidates:
        return False
    path = candidates[pick % len(candidates)]
    changed = mutated(policies.schema, household, path, seed)
    try:
        other = policies.evaluate(changed, as_of)
    except HouseholdError:
        return False
    assert verdicts(other) == verdicts(decision), f"changing the uncited field `{path}` changed a verdict"
    return True


@pytest.mark.slow  # a search: full suite
@SETTINGS
@given(case=exit_cases(), pick=st.integers(0, 10**6), seed=st.integers(0, 10**6))
def test_explanations_are_sufficient(case: Case, pick: int, seed: int) -> None:
    assume(check_sufficiency(POLICIES, case, pick, seed))


def _sufficiency_fails(policies: Policies) -> Callable[[tuple[Case, int, int]], bool]:
    def fails(example: tuple[Case, int, int]) -> bool:
        case, pick, seed = example
        return _fails(check_sufficiency, policies, case, pick, seed)

    return fails


_SUFFICIENCY_EXAMPLES = st.tuples(exit_cases(), st.integers(0, 10**6), st.integers(0, 10**6))


def test_planted_bug_an_uncited_deciding_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: `_readings` drops plain field reads (only ages are cited)."""
    original = verdicts_module.readings_of

    def readings_without_fields(events: Iterable[Any]) -> tuple[Reading, ...]:
        return original(e for e in events if e.kind != "field")

    for module in (verdicts_module, buffer_module):  # every part of a decision cites what it read
        monkeypatch.setattr(module, "readings_of", readings_without_fields)
    found = find(_SUFFICIENCY_EXAMPLES, _sufficiency_fails(POLICIES), settings=HUNT)
    assert found is not None


def test_planted_bug_a_path_cited_but_never_read_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: `_readings` cites the stored birth date where the trace read the computed age."""
    original = verdicts_module.readings_of

    def readings_citing_birth_dates(events: Iterable[Any]) -> tuple[Reading, ...]:
        return tuple(
            Reading(r.path.removesuffix(".age") + ".birth_date", r.value) if r.path.endswith(".age") else r
            for r in original(events)
        )

    for module in (verdicts_module, buffer_module):  # every part of a decision cites what it read
        monkeypatch.setattr(module, "readings_of", readings_citing_birth_dates)
    found = find(_SUFFICIENCY_EXAMPLES, _sufficiency_fails(POLICIES), settings=HUNT)
    assert found is not None


def test_a_field_checked_for_presence_is_cited() -> None:
    household = default_household()
    decision = POLICIES.evaluate(household, "2018-12-31")
    assert decision.verdict == "pass"
    household["registration"]["returned_on"] = dt.date(2018, 2, 1)
    assert POLICIES.evaluate(household, "2018-12-31").verdict == "not_applicable"
    # so the explanation of the first decision names the field whose absence made it assessed
    assert "registration.returned_on" in cited_paths(decision)
    (reading,) = (r for r in decision.applicability.readings if r.path == "registration.returned_on")  # type: ignore[union-attr]
    assert reading.value is None


# -- monotonicity in income --------------------------------------------------------------------------

_RANK = {"fail": 0, "undetermined": 1, "pass": 2}


def check_monotone(policies: Policies, case: Case, raise_by: Decimal) -> bool:
    household, as_of = case
    income = household.get("income", {})
    if "per_capita" not in income:
        return False
    richer = copy.deepcopy(household)
    richer["income"]["per_capita"] = Decimal(str(income["per_capita"])) + raise_by
    before, after = policies.evaluate(household, as_of), policies.evaluate(richer, as_of)
    old, new = verdicts(before), verdicts(after)
    for key, was in old.items():
        assert not (was == "pass" and new[key] == "fail"), (
            f"raising income by {raise_by} turned {key} from pass to fail"
        )
    assert (old["verdict"] == "not_applicable") == (new["verdict"] == "not_applicable")
    for c_before, c_after in zip(before.criteria, after.criteria, strict=True):
        if c_before.id == "exit.income":
            assert _RANK[c_after.verdict] >= _RANK[c_before.verdict], (
                f"raising income by {raise_by} moved exit.income from {c_before.verdict} to {c_after.verdict}"
            )
    return True


_RAISES = st.integers(1, 300_000).map(lambda n: Decimal(n) / 100)


@pytest.mark.slow  # explained decisions before and after: full suite
@SETTINGS
@given(case=exit_cases(), raise_by=_RAISES)
def test_raising_income_never_turns_a_pass_into_a_fail(case: Case, raise_by: Decimal) -> None:
    assume(check_monotone(POLICIES, case, raise_by))


@pytest.fixture(scope="module")
def flipped_policies(tmp_path_factory: pytest.TempPathFactory) -> Policies:
    """A copy of the bundled policies whose income criterion compares the wrong way round."""
    root = tmp_path_factory.mktemp("flipped") / "policies"
    shutil.copytree(bundled_policies(), root)
    for path in (root / "exit_criteria" / "household").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "require: stable_income > exit_income_line" in text
        path.write_text(
            text.replace("stable_income > exit_income_line", "stable_income < exit_income_line"), "utf-8"
        )
    return load_policies(root)


@pytest.mark.slow
def test_planted_bug_a_flipped_comparison_is_caught(flipped_policies: Policies) -> None:
    found = find(
        st.tuples(exit_cases(), _RAISES),
        lambda example: _fails(check_monotone, flipped_policies, *example),
        # it stops at the first example found; the larger budget only keeps a rare dry run from failing
        settings=settings(HUNT, max_examples=1500),
    )
    assert found is not None


# -- determinism ---------------------------------------------------------------------------------------


def _json(decision: Decision) -> str:
    return json.dumps(decision.to_json(), ensure_ascii=False, sort_keys=True)


def check_deterministic(policies: Policies, cases: list[Case]) -> None:
    for household, as_of in cases:
        first, second = (
            policies.evaluate(household, as_of),
            policies.evaluate(copy.deepcopy(household), as_of),
        )
        assert first == second
        assert _json(first) == _json(second)
        assert first.render("zh") == second.render("zh")
    for as_of in {d for _, d in cases}:
        same_day = [h for h, d in cases if d == as_of]
        many = policies.evaluate_many(same_day, as_of)
        one_by_one = [policies.evaluate(h, as_of) for h in same_day]
        assert many == one_by_one
        assert [_json(d) for d in many] == [_json(d) for d in one_by_one]


_CASE_LISTS = st.lists(exit_cases(), min_size=1, max_size=4)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=_CASE_LISTS)
def test_decisions_are_deterministic(cases: list[Case]) -> None:
    check_deterministic(POLICIES, cases)


@pytest.mark.slow  # a search: full suite
def test_planted_bug_order_depending_on_a_counter_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted bug: `_readings` rotates its result by a global call count (like iterating a set
    whose order depends on history)."""
    original = verdicts_module.readings_of
    calls = itertools.count()

    def rotating(events: Iterable[Any]) -> tuple[Reading, ...]:
        out = original(events)
        k = next(calls) % max(1, len(out))
        return out[k:] + out[:k]

    for module in (verdicts_module, buffer_module):  # every part of a decision cites what it read
        monkeypatch.setattr(module, "readings_of", rotating)
    found = find(_CASE_LISTS, lambda cases: _fails(check_deterministic, POLICIES, cases), settings=HUNT)
    assert found is not None


def test_the_properties_hold_on_the_pack_cases_defaults() -> None:
    """A fixed example, so that a failure here reads without hypothesis."""
    case = (default_household(), dt.date(2018, 12, 31))
    assert check_sufficiency(POLICIES, case, pick=0, seed=1)
    assert check_monotone(POLICIES, case, Decimal("100"))
    check_deterministic(POLICIES, [case, (default_household(), dt.date(2017, 6, 30))])


@pytest.mark.slow  # a property over generated households: full suite
@SETTINGS
@given(case=exit_cases())
def test_every_cited_path_names_a_schema_field(case: Case) -> None:
    """The cited paths use the data-path grammar of the schema, so the checks above compare like with like."""
    household, as_of = case
    for path in cited_paths(POLICIES.evaluate(household, as_of)):
        assert field_spec(POLICIES.schema, path).name == re.sub(r"\[\d+\]", "", path).split(".")[-1]
