"""Properties of a decision under a change to the household: monotone in a field, settled by what it lacks.

A better value in a field never makes it worse (`assert_monotone`); supplying what an undetermined
verdict lacks settles it (`assert_settles`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import attrs
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.pack.model import DatedValue
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema
from gspolicy.schema.paths import value_at, with_value
from gspolicy.schema.records import validate_record
from gspolicy.strategies.arguments import HasPolicySet, field_by_path, policy_set_from
from gspolicy.strategies.households import HouseholdStrategies
from gspolicy.testing.properties.harness import (
    Counterexample,
    PropertyFailed,
    dates_of,
    households_of,
    judged_by,
    run_settings,
    verdicts_of,
)

# -- monotonicity -----------------------------------------------------------------------------------


_RANK = {"fail": 0, "undetermined": 1, "pass": 2}


def _increments(field: FieldSpec) -> SearchStrategy[Decimal]:
    if field.kind == "int":
        return st.integers(1, 1000).map(Decimal)
    places = 2 if field.kind in ("money", "ratio") else 3
    return st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-places))


def assert_monotone(
    policies: PolicySet | HasPolicySet,
    field: str,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    increasing: bool = True,
    pack: str | None = None,
    settings: settings | None = None,
) -> None:
    """Raising the numeric field `field` (lowering it, with ``increasing=False``) never makes the
    exit verdict or any criterion of `pack` worse (fail < undetermined < pass) on an assessed household."""
    policy_set = policy_set_from(policies)
    spec = field_by_path(policy_set.schema, policy_set.schema.root, field)
    if spec.kind not in ("int", "money", "ratio", "decimal"):
        raise InvalidArgument(f"field={field!r} must be a numeric field (it is a {spec.kind} field)")
    parts = field.split(".")
    judged = judged_by(policy_set, pack)
    verdict_pack = judged.get("exit_pack") or exit_pack_of(policy_set)
    source = households_of(policy_set, households)
    steps = _increments(spec)

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[Record, Record]:
        household = draw(source)
        value = (
            draw(st.integers(-(10**5), 10**5).map(Decimal)) if value_at(household, parts) is None else None
        )
        low = value_at(household, parts) if value is None else value
        assert isinstance(low, int | Decimal)
        high = Decimal(low) + draw(steps)
        lo_v, hi_v = (low, high) if increasing else (high, low)
        cast: Callable[[Decimal], object] = int if spec.kind == "int" else (lambda d: d)
        return with_value(policy_set.schema, household, parts, cast(Decimal(lo_v))), with_value(
            policy_set.schema, household, parts, cast(Decimal(hi_v))
        )

    config = run_settings(settings)

    @config
    @given(pair=pairs(), day=dates_of(as_of))
    def run(pair: tuple[Record, Record], day: dt.date) -> None:
        worse, better = pair
        for h in pair:
            assume(validate_record(h.to_data(), policy_set.schema)[0] is not None)
        before, after = decide(policy_set, worse, day, **judged), decide(policy_set, better, day, **judged)
        if before.verdict == "not_applicable" or after.verdict == "not_applicable":
            return
        old, new = verdicts_of(before), verdicts_of(after)
        # criteria first: a failing criterion names the rule at fault better than the verdict
        for key, was in sorted(old.items(), key=lambda kv: kv[0] == "verdict"):
            counted = (
                (key == "verdict" or key.startswith("criteria.")) and was in _RANK and new.get(key) in _RANK
            )
            if counted and _RANK[str(new[key])] < _RANK[str(was)]:
                shown = "raising" if increasing else "lowering"
                expect = {"criteria": {key.split(".", 1)[1]: was}} if key != "verdict" else {"verdict": was}
                raise PropertyFailed(
                    Counterexample(
                        f"monotonicity in `{field}`",
                        better,
                        day,
                        verdict_pack,
                        expect,
                        f"{shown} `{field}` from {value_at(worse, parts)} to {value_at(better, parts)} "
                        f"turned `{key}` from {was} to {new[key]}",
                    )
                )

    run()


# -- undetermined verdicts settle --------------------------------------------------------------------


def _field_at(schema: Schema, path: str) -> tuple[RecordSpec, FieldSpec] | None:
    """The record type holding the field at a data path, and the field."""
    spec = schema.root_record
    parts = [re.sub(r"\[\d+\]$", "", p) for p in path.split(".")]
    for i, part in enumerate(parts):
        field = spec.fields.get(part)
        if field is None:
            return None
        if i == len(parts) - 1:
            return spec, field
        spec = schema.records[field.record or ""]
    return None


def _value_at(record: Record, path: str) -> object:
    """The value at a data path (``members[2].age``), None when it or a record on the way is
    missing."""
    current: object = record
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        name = match.group(1) if match else part
        if not isinstance(current, Record):
            return None
        current = current.get(name)
        if match:
            index = int(match.group(2))
            if not isinstance(current, tuple) or index >= len(current):
                return None
            current = current[index]
    return current


def _supply(record: Record, path: str, value: object) -> Record:
    head, _, rest = path.partition(".")
    match = re.fullmatch(r"(\w+)\[(\d+)\]", head)
    if match:
        items = list(record[match.group(1)])  # type: ignore[call-overload]  # a list field holds a tuple
        index = int(match.group(2))
        items[index] = _supply(items[index], rest, value)
        return record.replace(**{match.group(1): tuple(items)})
    if not rest:
        return record.replace(**{head: value})
    inner = record.get(head)
    inner = inner if isinstance(inner, Record) else Record(head, {})
    return record.replace(**{head: _supply(inner, rest, value)})


def _with_parameter(policy_set: PolicySet, name: str, as_of: dt.date, value: object) -> PolicySet:
    packs = []
    for checked in policy_set.packs:
        param = checked.pack.parameters.get(name)
        if param is None or not checked.pack.in_force(as_of):
            packs.append(checked)
            continue
        dated = param.at(as_of)
        exact = DatedValue(effective=dated.effective if dated else as_of, kind="exact", value=value)
        values = (*(v for v in param.values if v is not dated), exact)
        param = attrs.evolve(param, values=tuple(sorted(values, key=lambda v: v.effective)))
        parameters = {**checked.pack.parameters, name: param}
        packs.append(attrs.evolve(checked, pack=attrs.evolve(checked.pack, parameters=parameters)))
    return PolicySet(policy_set.schema, tuple(packs))


def assert_settles(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    pack: str | None = None,
    settings: settings | None = None,
) -> None:
    """An undetermined exit verdict that names what it lacks (data paths and ``param:<name>``)
    becomes pass, fail or not applicable once every named field and parameter is supplied (the
    verdicts whose named fields are all missing: a field that is there is not supplied)."""
    policy_set = policy_set_from(policies)
    judged = judged_by(policy_set, pack)
    verdict_pack = judged.get("exit_pack") or exit_pack_of(policy_set)
    schema = policy_set.schema
    source = households_of(policy_set, households)

    @st.composite
    def settled(draw: st.DrawFn) -> tuple[Record, dt.date, Record, PolicySet, list[str]]:
        household = draw(source)
        day = draw(dates_of(as_of))
        decision = decide(policy_set, household, day, **judged)
        assume(decision.verdict == "undetermined")
        lacking = [c for c in decision.criteria if c.verdict == "undetermined"]
        assume(all(c.missing and not any(m.startswith("criterion:") for m in c.missing) for c in lacking))
        if decision.applicability is not None and decision.applicability.status == "undetermined":
            assume(bool(decision.applicability.missing))
        names = sorted(
            {m for c in lacking for m in c.missing}
            | set(decision.applicability.missing if decision.applicability else ())
        )
        supplied, changed = household, policy_set
        for name in names:
            if name.startswith("param:"):
                param = next(
                    (
                        p.pack.parameters[name[6:]]
                        for p in policy_set.all_in_force(day)
                        if name[6:] in p.pack.parameters
                    ),
                    None,
                )
                assume(param is not None and param.type == "number")
                number = draw(st.integers(0, 10**5).map(Decimal))
                changed = _with_parameter(changed, name[6:], day, number)
                continue
            target = re.sub(r"\.age$", ".birth_date", name)
            found = _field_at(schema, target)
            assume(found is not None)
            # only data that is missing is supplied: a field that is there but does not let the
            # criterion be judged (an income period that does not cover the period checked) is
            # named too, and another value of it need not settle anything
            assume(_value_at(household, target) is None)
            assert found is not None
            owner, field = found
            value = draw(HouseholdStrategies(schema, {}, False, 2).value(owner, field, "", 0))
            supplied = _supply(supplied, target, value)
        assume(validate_record(supplied.to_data(), schema)[0] is not None)
        return household, day, supplied, changed, names

    config = run_settings(settings)

    @config
    @given(example=settled())
    def run(example: tuple[Record, dt.date, Record, PolicySet, list[str]]) -> None:
        _, day, supplied, changed, names = example
        after = decide(changed, supplied, day, **judged)
        if after.verdict == "undetermined":
            raise PropertyFailed(
                Counterexample(
                    "undetermined settles",
                    supplied,
                    day,
                    verdict_pack,
                    {"missing": list(after.missing)},
                    f"supplying {', '.join(names)} left the verdict undetermined (it now lacks: {', '.join(after.missing) or 'nothing named'})",
                )
            )

    run()
