"""Properties that a decision depends on nothing it should not: not the run, uncited fields, other versions.

`assert_deterministic`, `assert_explanations_sufficient`, `assert_version_isolation`.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import attrs
from hypothesis import settings
from hypothesis.strategies import SearchStrategy

from gspolicy.engine.run import run_pack
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Decision
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.strategies.arguments import HasPolicySet, policy_set_from
from gspolicy.testing.properties.harness import (
    Counterexample,
    PropertyFailed,
    dates_of,
    expect_of,
    households_of,
    judged_by,
    run_property,
    run_settings,
    verdicts_of,
)

# -- determinism ------------------------------------------------------------------------------------


def assert_deterministic(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    pack: str | None = None,
    settings: settings | None = None,
) -> None:
    """The same household decided twice gives equal decisions, equal JSON and equal explanations."""
    policy_set = policy_set_from(policies)
    judged = judged_by(policy_set, pack)
    verdict_pack = judged.get("exit_pack") or exit_pack_of(policy_set)

    def test(household: Record, day: dt.date) -> None:
        first = decide(policy_set, household, day, **judged)
        second = decide(policy_set, Record(household.type_name, dict(household)), day, **judged)
        same = (
            first == second
            and json.dumps(first.to_json(), sort_keys=True) == json.dumps(second.to_json(), sort_keys=True)
            and first.render("zh") == second.render("zh")
        )
        if not same:
            raise PropertyFailed(
                Counterexample(
                    "determinism", household, day, verdict_pack, expect_of(first), "two evaluations differ"
                )
            )

    run_property(test, households_of(policy_set, households), dates_of(as_of), run_settings(settings))


# -- explanation sufficiency ------------------------------------------------------------------------


def _cited(decision: Decision) -> set[str]:
    readings = [r for c in decision.criteria for r in c.readings]
    if decision.applicability is not None:
        readings.extend(decision.applicability.readings)
    readings.extend(r for m in decision.memberships for r in m.readings)
    if decision.buffer is not None:
        readings.extend(decision.buffer.readings)
    return {r.path for r in readings}


def _read(policy_set: PolicySet, record: Record, as_of: dt.date) -> set[str]:
    found: set[str] = set()
    for pack in policy_set.all_in_force(as_of):
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


_AGE_PARTS = re.compile(r"^(.*)\.(birth_date|age|age_recorded_on)$")


def _scalars(record: Record, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, value in record.items():
        path = f"{prefix}{name}"
        if isinstance(value, Record):
            out.extend(_scalars(value, path + "."))
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                out.extend(_scalars(item, f"{path}[{i}]."))
        else:
            out.append(path)
    return out


def _without(record: Record, path: str) -> Record:
    head, _, rest = path.partition(".")
    match = re.fullmatch(r"(\w+)\[(\d+)\]", head)
    if match:
        items = list(record[match.group(1)])  # type: ignore[call-overload]  # a list field holds a tuple
        index = int(match.group(2))
        items[index] = _without(items[index], rest)
        return record.replace(**{match.group(1): tuple(items)})
    if not rest:
        return record.replace(**{head: None})
    inner = record[head]
    assert isinstance(inner, Record)
    return record.replace(**{head: _without(inner, rest)})


def assert_explanations_sufficient(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    settings: settings | None = None,
) -> None:
    """What a decision cites was read by the evaluation, and removing any field it does not cite
    changes none of its verdicts (the explanation names everything the decision depends on)."""
    policy_set = policy_set_from(policies)

    def test(household: Record, day: dt.date) -> None:
        decision = decide(policy_set, household, day)
        cited = _cited(decision)
        read = _read(policy_set, household, day)
        if not cited <= read:
            raise PropertyFailed(
                Counterexample(
                    "explanation sufficiency",
                    household,
                    day,
                    exit_pack_of(policy_set),
                    expect_of(decision),
                    f"cited but never read: {sorted(cited - read)}",
                )
            )
        for path in _scalars(household):
            match = _AGE_PARTS.match(path)
            if (
                path in cited
                or (match and f"{match.group(1)}.age" in cited)
                or path.endswith(".id")
                or path == "id"
            ):
                continue
            changed = _without(household, path)
            if validate_record(changed.to_data(), policy_set.schema)[0] is None:
                continue
            if verdicts_of(decide(policy_set, changed, day)) != verdicts_of(decision):
                raise PropertyFailed(
                    Counterexample(
                        "explanation sufficiency",
                        changed,
                        day,
                        exit_pack_of(policy_set),
                        expect_of(decision),
                        f"removing the uncited field `{path}` changed a verdict",
                    )
                )

    run_property(test, households_of(policy_set, households), dates_of(as_of), run_settings(settings))


# -- version isolation ------------------------------------------------------------------------------


def _only_in_force(policy_set: PolicySet, as_of: dt.date) -> PolicySet:
    """The policy set as of `as_of`, worked out here and not by the engine: only the versions
    whose validity holds the date, each parameter with only the value of the latest effective
    date not after it."""
    packs: list[CheckedPack] = []
    for checked in policy_set.packs:
        source = checked.pack
        if not (source.valid_from <= as_of and (source.valid_to is None or as_of <= source.valid_to)):
            continue
        params = {}
        for name, param in source.parameters.items():
            earlier = [v for v in param.values if v.effective <= as_of]
            latest = max(earlier, key=lambda v: v.effective) if earlier else None
            params[name] = attrs.evolve(param, values=(latest,) if latest is not None else ())
        packs.append(attrs.evolve(checked, pack=attrs.evolve(source, parameters=params)))
    return PolicySet(policy_set.schema, tuple(packs))


def assert_version_isolation(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    settings: settings | None = None,
) -> None:
    """A decision as of a date equals the decision with every pack version and parameter value not
    in force on that date removed: nothing earlier or later leaks in."""
    policy_set = policy_set_from(policies)

    def test(household: Record, day: dt.date) -> None:
        full = decide(policy_set, household, day)
        # judged by the full set's verdict pack: the isolated set may hold no version of it
        isolated = decide(
            _only_in_force(policy_set, day),
            household,
            day,
            exit_pack=exit_pack_of(policy_set, household.type_name),
        )
        if json.dumps(full.to_json(), sort_keys=True) != json.dumps(isolated.to_json(), sort_keys=True):
            raise PropertyFailed(
                Counterexample(
                    "version isolation",
                    household,
                    day,
                    exit_pack_of(policy_set),
                    expect_of(isolated),
                    "the decision changes when values not in force are removed",
                )
            )

    run_property(test, households_of(policy_set, households), dates_of(as_of), run_settings(settings))
