"""A library of policy properties to call from your own tests, built on Hypothesis.

Each ``assert_*`` function draws households (by default `gspolicy.strategies.from_schema`, or any
strategy you give), decides them with the policies and raises `PropertyFailed` — an
`AssertionError` — with a clear message when the property does not hold.  Hypothesis shrinks the
failing example first, so the household in the message is a small one, and
`PropertyFailed.counterexample` can be written out as a YAML pack test case with `write_case` —
a case that fails under ``gspolicy test`` until the packs are fixed::

    from gspolicy.testing.properties import assert_monotone, write_case

    def test_more_income_never_hurts():
        assert_monotone(policies, "income.per_capita", as_of=dt.date(2018, 12, 31))

The properties: `assert_deterministic`, `assert_monotone` (in a named numeric field),
`assert_buffer_not_reduced` (support never reduced during the buffer), `assert_explanations_sufficient`,
`assert_version_isolation` (as-of evaluation ignores values not in force) and `assert_settles`
(an undetermined verdict becomes determined once the fields or parameters it names are supplied).
Every function takes `settings` (a `hypothesis.settings`; default: the active profile, no
deadline).  `as_of` is a date or a strategy of dates.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import yaml
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy.engine.run import run_pack
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Decision
from gspolicy.pack.fmt import format_text
from gspolicy.pack.model import DatedValue
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema
from gspolicy.schema.records import validate_record
from gspolicy.strategies import HasPolicySet, HouseholdStrategies, field_by_path, from_schema, policy_set_from

__all__ = [
    "Counterexample",
    "PropertyFailed",
    "assert_buffer_not_reduced",
    "assert_deterministic",
    "assert_explanations_sufficient",
    "assert_monotone",
    "assert_settles",
    "assert_version_isolation",
    "write_case",
]

_RANK = {"fail": 0, "undetermined": 1, "pass": 2}


@attrs.frozen
class Counterexample:
    """A (shrunk) household on which a property fails, ready to be written as a test case.

    `expect` is what the property demands, in the grammar of a test case's ``expect``.
    """

    property: str
    household: Record
    as_of: dt.date
    pack: str
    expect: Mapping[str, Any]
    message: str

    def write(self, path: Path | str, *, name: str | None = None) -> Path:
        """Add this counterexample as a case to the test file at `path` (see `write_case`)."""
        return write_case(
            path,
            self.household,
            as_of=self.as_of,
            pack=self.pack,
            expect=self.expect,
            name=name or f"{self.property}: {self.message}",
        )


class PropertyFailed(AssertionError):
    """A property does not hold; `counterexample` holds the shrunk household."""

    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(
            f"{counterexample.property} does not hold: {counterexample.message}\n"
            f"  as of {counterexample.as_of.isoformat()}, household: "
            f"{json.dumps(counterexample.household.to_data(), ensure_ascii=False, sort_keys=True)}"
        )
        self.counterexample = counterexample


def _settings(value: settings | None) -> settings:
    if value is None:
        # no `explain` phase: it re-runs a failing example many times over, slow for whole decisions
        return settings(
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        )
    if not isinstance(value, settings):
        raise InvalidArgument(f"settings={value!r} must be a hypothesis.settings")
    return value


def _dates(as_of: dt.date | SearchStrategy[dt.date]) -> SearchStrategy[dt.date]:
    if isinstance(as_of, SearchStrategy):
        return as_of
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise InvalidArgument(f"as_of={as_of!r} must be a datetime.date or a strategy of dates")
    return st.just(as_of)


def _households(policy_set: PolicySet, households: SearchStrategy[Record] | None) -> SearchStrategy[Record]:
    if households is None:
        return from_schema(policy_set.schema)
    if not isinstance(households, SearchStrategy):
        raise InvalidArgument(f"households={households!r} must be a hypothesis strategy of households")
    return households


def _run(
    test: Callable[[Record, dt.date], None],
    households: SearchStrategy[Record],
    dates: SearchStrategy[dt.date],
    config: settings,
) -> None:
    @config
    @given(household=households, as_of=dates)
    def run(household: Record, as_of: dt.date) -> None:
        test(household, as_of)

    run()


def _judged(policy_set: PolicySet, pack: str | None) -> dict[str, str]:
    """The verdict pack a property judges by: `pack` when the set has it, else the set's own."""
    return {"exit_pack": pack} if pack is not None and pack in policy_set.ids else {}


def _verdicts(decision: Decision) -> dict[str, object]:
    out: dict[str, object] = {"verdict": decision.verdict}
    out["applicability"] = decision.applicability.status if decision.applicability else None
    out["buffer"] = decision.buffer.status if decision.buffer else None
    out.update({f"criteria.{c.id}": c.verdict for c in decision.criteria})
    out.update({f"rules.{m.rule}": m.applies for m in decision.memberships})
    return out


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
    judged = _judged(policy_set, pack)
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
                    "determinism", household, day, verdict_pack, _expect_of(first), "two evaluations differ"
                )
            )

    _run(test, _households(policy_set, households), _dates(as_of), _settings(settings))


def _expect_of(decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {"verdict": decision.verdict}
    out["criteria"] = {c.id: c.verdict for c in decision.criteria}
    return out


# -- monotonicity -----------------------------------------------------------------------------------


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
    judged = _judged(policy_set, pack)
    verdict_pack = judged.get("exit_pack") or exit_pack_of(policy_set)
    source = _households(policy_set, households)
    steps = _increments(spec)

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[Record, Record]:
        household = draw(source)
        value = draw(st.integers(-(10**5), 10**5).map(Decimal)) if _get(household, parts) is None else None
        low = _get(household, parts) if value is None else value
        assert isinstance(low, int | Decimal)
        high = Decimal(low) + draw(steps)
        lo_v, hi_v = (low, high) if increasing else (high, low)
        cast: Callable[[Decimal], object] = int if spec.kind == "int" else (lambda d: d)
        return _put(policy_set.schema, household, parts, cast(Decimal(lo_v))), _put(
            policy_set.schema, household, parts, cast(Decimal(hi_v))
        )

    config = _settings(settings)

    @config
    @given(pair=pairs(), day=_dates(as_of))
    def run(pair: tuple[Record, Record], day: dt.date) -> None:
        worse, better = pair
        for h in pair:
            assume(validate_record(h.to_data(), policy_set.schema)[0] is not None)
        before, after = decide(policy_set, worse, day, **judged), decide(policy_set, better, day, **judged)
        if before.verdict == "not_applicable" or after.verdict == "not_applicable":
            return
        old, new = _verdicts(before), _verdicts(after)
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
                        f"{shown} `{field}` from {_get(worse, parts)} to {_get(better, parts)} "
                        f"turned `{key}` from {was} to {new[key]}",
                    )
                )

    run()


def _get(record: Record, parts: list[str]) -> object:
    current: object = record
    for part in parts:
        if not isinstance(current, Record):
            return None
        current = current.get(part)
    return current


def _put(schema: Schema, record: Record, parts: list[str], value: object) -> Record:
    spec: RecordSpec = schema.records[record.type_name]
    if len(parts) == 1:
        return record.replace(**{parts[0]: value})
    inner_spec = schema.records[spec.fields[parts[0]].record or ""]
    inner = record.get(parts[0])
    inner = inner if isinstance(inner, Record) else Record(inner_spec.name, {})
    return record.replace(**{parts[0]: _put(schema, inner, parts[1:], value)})


# -- support never reduced during the buffer -------------------------------------------------------


def assert_buffer_not_reduced(
    policies: PolicySet | HasPolicySet,
    *,
    as_of: dt.date | SearchStrategy[dt.date],
    households: SearchStrategy[Record] | None = None,
    settings: settings | None = None,
) -> None:
    """While the buffer is active, every support item held on the exit date and not past its own
    end date (both worked out here from the record, not by the packs) is retained unless its
    measure has lapsed (`lapses_when`, listed under `BufferState.ended`); under a basis that keeps
    amounts at exit, at no less than the amount held, and `Decision.support` pays it no less."""
    policy_set = policy_set_from(policies)

    def test(household: Record, day: dt.date) -> None:
        decision = decide(policy_set, household, day)
        buffer = decision.buffer
        if buffer is None or buffer.status != "active":
            return
        registration = household.get("registration")
        exited = registration.get("exited_on") if isinstance(registration, Record) else None
        if not isinstance(exited, dt.date):
            return
        items = household.get("support")
        held = [
            item
            for item in (items if isinstance(items, tuple) else ())
            if isinstance(item.get("start"), dt.date)
            and item["start"] <= exited
            and (not isinstance(item.get("end"), dt.date) or day <= item["end"])
        ]
        kept = list(buffer.retained)
        lapsed = {(r.measure, r.held_from) for r in buffer.ended if r.lapsed == "yes"}
        held = [item for item in held if (item.get("measure"), item["start"]) not in lapsed]
        for item in held:
            match = next(
                (r for r in kept if r.measure == item.get("measure") and r.held_from == item["start"]), None
            )
            problem = None
            if match is None:
                problem = f"measure `{item.get('measure')}` held on the exit date {exited} is not retained"
            elif buffer.amount_rule == "at_exit" and item.get("amount") is not None:
                amount = Decimal(str(item["amount"]))
                if match.amount is None or Decimal(match.amount) < amount:
                    problem = f"measure `{match.measure}` is retained at {match.amount}, less than {amount} held at exit"
                paid = [Decimal(a) for m, a, _ in decision.support if m == match.measure and a is not None]
                if paid and max(paid) < amount:
                    problem = (
                        f"the support pays `{match.measure}` {max(paid)}, less than {amount} held at exit"
                    )
            if problem is not None:
                retained = [
                    {"measure": r.measure, **({"amount": r.amount} if r.amount else {})} for r in kept
                ]
                expect = {"buffer": "active", "retained": retained}
                raise PropertyFailed(
                    Counterexample(
                        "support not reduced during the buffer",
                        household,
                        day,
                        exit_pack_of(policy_set),
                        expect,
                        problem,
                    )
                )
            kept.remove(match)  # type: ignore[arg-type]

    _run(test, _households(policy_set, households), _dates(as_of), _settings(settings))


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
                    _expect_of(decision),
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
            if _verdicts(decide(policy_set, changed, day)) != _verdicts(decision):
                raise PropertyFailed(
                    Counterexample(
                        "explanation sufficiency",
                        changed,
                        day,
                        exit_pack_of(policy_set),
                        _expect_of(decision),
                        f"removing the uncited field `{path}` changed a verdict",
                    )
                )

    _run(test, _households(policy_set, households), _dates(as_of), _settings(settings))


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
                    _expect_of(isolated),
                    "the decision changes when values not in force are removed",
                )
            )

    _run(test, _households(policy_set, households), _dates(as_of), _settings(settings))


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
    judged = _judged(policy_set, pack)
    verdict_pack = judged.get("exit_pack") or exit_pack_of(policy_set)
    schema = policy_set.schema
    source = _households(policy_set, households)

    @st.composite
    def settled(draw: st.DrawFn) -> tuple[Record, dt.date, Record, PolicySet, list[str]]:
        household = draw(source)
        day = draw(_dates(as_of))
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

    config = _settings(settings)

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


# -- writing a counterexample as a YAML case ---------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _dates_back(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dates_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_back(v) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        return dt.date.fromisoformat(value)
    return value


def write_case(
    path: Path | str,
    household: Record | Mapping[str, Any],
    *,
    as_of: dt.date,
    pack: str,
    expect: Mapping[str, Any],
    name: str,
) -> Path:
    """Add a test case to the YAML test file at `path` (created with ``pack: <pack>`` when it
    does not exist; an existing file must be about the same pack).  The household is written in
    full (a `defaults` in the file does not apply: every field the file's defaults has and the
    household lacks is written as ``~``).  Returns the path."""
    target = Path(path)
    data = household.to_data() if isinstance(household, Record) else copy.deepcopy(dict(household))
    document: dict[str, Any] = {"pack": pack, "cases": []}
    if target.exists():
        document = yaml.safe_load(target.read_text(encoding="utf-8")) or document
        if document.get("pack") != pack:
            raise ValueError(f"{target} is about pack `{document.get('pack')}`, not `{pack}`")
        defaults = document.get("defaults")
        if isinstance(defaults, dict) and defaults:
            # the case merges onto the file's defaults: write what differs, `~` for what is not there
            from gspolicy.testing.coverage import record_changes  # noqa: PLC0415  # same package, hypothesis already loaded

            keys: dict[str, str | None] = {
                k: "id"
                for k, v in defaults.items()
                if isinstance(v, list) and v and all(isinstance(i, dict) and "id" in i for i in v)
            }
            data = record_changes(defaults, _dates_back(data), keys)
    case = {"name": name, "as_of": as_of, "household": _dates_back(data), "expect": dict(expect)}
    document.setdefault("cases", []).append(case)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None
    )
    target.write_text(format_text(text, path=target), encoding="utf-8")  # the canonical layout
    return target
