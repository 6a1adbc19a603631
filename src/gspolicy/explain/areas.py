"""Village and county decisions, decided from household decisions plus the areas' own figures.

The schema says how areas are assembled: a record type with a *gathered* list (``gather:
{records: household, by: village_code}``) gets, as items of that list, every record of the
gathered type whose ``by`` field equals its key, each item holding the record itself (``derive:
record``) and the verdicts of packs on it (``derive: {verdict: P}`` — true for pass, false for
fail, missing otherwise; ``derive: {any_rule: P}`` — whether a rule of P applies).  Types are
decided in dependency order (households, then villages, then counties, which gather both), so a
county's villages carry the village verdicts.

An area's packs then count and sum over those items in the expression language like over any
list, three-valued: an undetermined household makes a count or a sum an interval, and the
verdict is undetermined only when the interval straddles the threshold.

Each `AreaDecision` holds the decision of the area's exit pack, the pack's facts as figures, the
verdicts of the other packs with criteria for the same level (the national standard beside
Gansu's), and for every criterion that fails or is undetermined the items that weigh most on it
(the criterion's ``weigh`` aggregate, heaviest first), with what each undetermined item lacks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy._location import DataPath
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import CriterionResult, Outcome, outcome_of, problems_of
from gspolicy.engine.run import PackOutcome, PackValues, run_condition
from gspolicy.engine.verdicts import settle_of, show_value
from gspolicy.explain.area_reads import AreaReads, area_reads
from gspolicy.explain.build import decide_outcomes, outcomes_for, pack_verdict
from gspolicy.explain.decision import Decision
from gspolicy.explain.gather import (
    Assembler,
    Derived,
    derived_of,
    derived_packs,
    gathered_ids,
    gathered_items,
    gathering_order,
    key_of,
    lacks_by_item,
    name_of,
)
from gspolicy.explain.parts import CriterionVerdict, Detail, Membership, Verdict
from gspolicy.explain.render_areas import area_to_json, render_area
from gspolicy.lang import Interval, Unknown, Value
from gspolicy.lang.interpret import Context, fact_values
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record, Schema

__all__ = [
    "AreaDecision",
    "AreaOutcome",
    "AreaReads",
    "AreaResult",
    "Figure",
    "Weight",
    "area_reads",
    "decide_areas",
    "gathering_order",
]

TOP = 5
"""How many weighing items an area decision lists per criterion (the heaviest)."""


@attrs.frozen
class Weight:
    """One item (a household or a village) that weighs on a criterion, and by how much."""

    criterion: str
    item: str  # household id or village code
    label: str  # the item as shown: id, with the village name when there is one
    value: str  # its share of the `weigh` aggregate: a number, or a range when undetermined
    high: Decimal  # the largest it may weigh (for sorting)
    missing: tuple[str, ...] = ()  # what the item's own decision lacks, when its share is unsure
    unsure: bool = False  # its share is a range or unknown (listed first under an undetermined criterion)


@attrs.frozen
class Figure:
    """A fact of the area's pack with its value (an interval when undetermined items make it one)."""

    name: str
    title: Text
    value: str | None
    missing: tuple[str, ...] = ()


@attrs.frozen
class AreaDecision:
    """The decision on one village or county, with the figures and the items behind it."""

    level: str  # the record type: "village" or "county"
    code: str
    name: str | None
    gathered: Mapping[str, tuple[str, ...]]  # gathered list -> the ids of its items
    decision: Decision
    figures: tuple[Figure, ...]
    weights: tuple[Weight, ...]  # per failing or undetermined criterion, heaviest first
    weighing: Mapping[str, int]  # criterion -> how many items weigh on it in all
    others: tuple[tuple[str, Verdict | None], ...]  # other packs with criteria at this level

    @property
    def verdict(self) -> Verdict | None:
        return self.decision.verdict

    @property
    def items(self) -> dict[str, int]:
        """Gathered list -> how many items it holds."""
        return {name: len(ids) for name, ids in self.gathered.items()}

    @property
    def outcome(self) -> AreaOutcome:
        """What the decision says without its explanation (as `decide_areas` gives every area)."""
        return AreaOutcome(self.level, self.code, self.name, self.gathered, self.decision.outcome())

    def render(self, lang: Lang = "en", *, detail: Detail = "brief") -> str:
        """The area decision as text in `lang` at a detail level (`Detail`; ``brief`` by default)."""
        return render_area(self, lang, detail=detail)

    def to_json(self, *, detail: Detail = "full") -> dict[str, Any]:
        """A JSON-ready form, its decision at a detail level (``full`` by default)."""
        return area_to_json(self, detail=detail)


@attrs.frozen
class AreaOutcome:
    """What the decision on one village or county says, without the trace, the figures and the
    weighing items: the per-record evaluator's outcome of the area's packs (the level's pack is
    the outcome's `exit_pack`) and the items it gathered.  Every area decided gets one; only
    the areas someone looks at get an `AreaDecision`."""

    level: str
    code: str
    name: str | None
    gathered: Mapping[str, tuple[str, ...]]  # gathered list -> the ids of its items
    outcome: Outcome

    @property
    def verdict(self) -> Verdict | None:
        return self.outcome.verdict

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        """The verdict of each criterion of the level's pack (none when it is not in force)."""
        found = self.outcome.pack(self.outcome.exit_pack)
        return found.criteria if found is not None else ()

    @property
    def others(self) -> tuple[tuple[str, Verdict | None], ...]:
        """The other packs with criteria at this level and their verdicts (the national
        standard beside Gansu's), by pack id."""
        return tuple(
            (p.id, p.verdict)
            for p in sorted(self.outcome.packs, key=lambda p: p.id)
            if p.id != self.outcome.exit_pack and p.criteria
        )


@attrs.frozen
class AreaResult:
    """Every village and county decided on one date, and the problems met on the way.

    `outcomes` holds every area decided, by level, in the order given; `villages` and
    `counties` the explained decisions — every area's, unless `decide_areas` was told which
    to explain."""

    as_of: dt.date
    villages: tuple[AreaDecision, ...]
    counties: tuple[AreaDecision, ...]
    problems: tuple[Text, ...] = ()
    # "household/village" -> ids of the households no given village gathers (and so on)
    orphans: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    outcomes: Mapping[str, tuple[AreaOutcome, ...]] = attrs.field(factory=dict)


def decide_areas(
    policy_set: PolicySet,
    records: Mapping[str, Sequence[Record]],
    as_of: dt.date,
    *,
    packs: Mapping[str, str] | None = None,
    top: int = TOP,
    known: Mapping[str, Mapping[str, PackValues]] | None = None,
    item_fields: Mapping[str, Callable[[int], Derived]] | None = None,
    decided_one: Callable[[], None] | None = None,
    explain: Callable[[str, str], bool] | None = None,
) -> AreaResult:
    """Decide every village and county in `records` (by record type: ``household``, ``village``,
    ``county``) as of `as_of`; `packs` names the pack giving each level's verdict (default: the
    level's verdict pack, ``kind: exit``).  A record given
    twice (the same key) raises `ValueError`: it would be counted twice.  Gathered records (the
    households of a village) are run by the per-record evaluator; `known` holds their pack values
    already computed (by record key, e.g. for the households a caller has decided anyway), used
    instead of running the packs again; `item_fields` (by record type) gives, for the record at each
    index of `records[type]`, the derived fields of its items already worked out (every one of
    `item_derivations`), e.g. by the columnar runner: then its packs are not run at all, and the
    record need hold only the fields the areas' packs read (`area_reads`).  `decided_one` is
    called after each area is decided (a progress bar's step).

    Every area gets its `AreaOutcome` (`AreaResult.outcomes`) from the per-record evaluator;
    `explain(level, code)` says which also get their explained `AreaDecision`, run by the traced
    interpreter (default: every one)."""
    schema = policy_set.schema
    # an area is a record type gathering others; its verdict pack is found by role (`kind: exit`)
    chosen = {
        t: found
        for t, spec in schema.records.items()
        if any(f.gather is not None for f in spec.fields.values())
        and (found := policy_set.exit_pack(t)) is not None
    }
    chosen.update(packs or {})
    for type_name, items in records.items():
        if type_name in schema.records and schema.records[type_name].key is not None:
            counts = Counter(key_of(schema, r) for r in items)
            twice = sorted(k for k, n in counts.items() if n > 1)
            if twice:
                raise ValueError(f"{type_name} records given more than once: {', '.join(twice[:5])}")
    asm = Assembler(policy_set, as_of)
    order = gathering_order(schema, [t for t in records if t in schema.records])
    need = asm.needed_items(order)
    decided: dict[str, list[AreaDecision]] = {}
    compact: dict[str, list[AreaOutcome]] = {}
    for type_name in order:
        item_types = sorted(need.get(type_name, ()))
        derived = set().union(*(derived_packs(schema, i) for i in item_types)) if item_types else set()
        level_pack = chosen.get(type_name)
        for pack_id in sorted(derived | ({level_pack} if level_pack else set())):
            if policy_set.in_force(pack_id, as_of) is None:
                problem = Text(
                    zh=f"{as_of.isoformat()} 没有有效的政策包 `{pack_id}` 版本；由它得出的字段均缺失",
                    en=f"no version of pack `{pack_id}` is in force on {as_of.isoformat()}; "
                    "the fields derived from it are missing",
                )
                if problem not in asm.problems:
                    asm.problems.append(problem)
        given = (item_fields or {}).get(type_name) if level_pack is None else None
        for index, record in enumerate(records.get(type_name, ())):
            if record.type_name != type_name:
                raise ValueError(f"a {record.type_name} record given as {type_name}")
            subject = asm.subject(record)
            if given is not None:
                asm.add_items(subject, given(index).__getitem__, item_types)
                continue
            ready = (known or {}).get(key_of(schema, record)) if level_pack is None else None
            values: Mapping[str, PackValues]
            if ready is not None:
                values = ready
            elif level_pack is None:
                values = {
                    p.id: lower(p, as_of).run(subject)
                    for p in policy_set.all_in_force(as_of)
                    if p.id in derived and p.subject == subject.type_name
                }
            elif explain is None or explain(type_name, key_of(schema, subject)):
                outcomes = outcomes_for(policy_set, subject, as_of)
                area = _area_decision(asm, subject, outcomes, level_pack, top)
                decided.setdefault(type_name, []).append(area)
                compact.setdefault(type_name, []).append(area.outcome)
                values = {k: o.values() for k, o in outcomes.items()}
            else:
                values = {
                    p.id: lower(p, as_of).run(subject)
                    for p in policy_set.all_in_force(as_of)
                    if p.subject == subject.type_name
                }
                compact.setdefault(type_name, []).append(
                    AreaOutcome(
                        type_name,
                        key_of(schema, subject),
                        name_of(subject),
                        gathered_ids(schema, subject),
                        outcome_of(
                            policy_set,
                            subject,
                            as_of,
                            values,
                            exit_pack=level_pack,
                            problems=problems_of(values),
                        ),
                    )
                )
            if level_pack is not None and decided_one is not None:
                decided_one()
            asm.add_items(subject, derived_of(values), item_types)
    orphans: dict[str, set[str]] = {}
    for holder in order:
        keys = {key_of(schema, r) for r in records.get(holder, ())}
        for _n, f in asm.gathered_fields(holder):
            assert f.gather is not None
            for r in records.get(f.gather.records, ()):
                if r.get(f.gather.by) not in keys:
                    orphans.setdefault(f"{f.gather.records}/{holder}", set()).add(key_of(schema, r))
    return AreaResult(
        as_of,
        tuple(decided.get("village", ())),
        tuple(decided.get("county", ())),
        tuple(asm.problems),
        {k: tuple(sorted(v)) for k, v in sorted(orphans.items())},
        {k: tuple(v) for k, v in compact.items()},
    )


_ITEM = re.compile(r"^([a-z_][a-z0-9_]*)\[(\d+)\]")


def _item_labels(schema: Schema, subject: Record) -> dict[str, tuple[str, str]]:
    """``households[3]`` -> (item id, label) for every gathered list of the subject."""
    out: dict[str, tuple[str, str]] = {}
    for name, index, ident, inner in gathered_items(schema, subject):
        named = inner.get("name") if inner is not None else None
        label = f"{ident} {named}" if isinstance(named, str) else ident
        out[str(DataPath((name,)).child(index))] = (ident, label)
    return out


def _relabel(text: str, labels: Mapping[str, tuple[str, str]]) -> str:
    match = _ITEM.match(text)
    if match is None:
        return text
    found = labels.get(match.group(0))
    return text if found is None else f"{match.group(1)}[{found[0]}]{text[match.end() :]}"


def _inside(path: str) -> bool:
    return _ITEM.match(path) is not None


def _tidy(c: CriterionVerdict, labels: Mapping[str, tuple[str, str]]) -> CriterionVerdict:
    """A criterion with the per-item readings left out (the weights list the items) and item
    paths named by the items' ids."""
    readings = tuple(r for r in c.readings if not _inside(r.path))
    missing = tuple(sorted({_relabel(m, labels) for m in c.missing}))
    return attrs.evolve(c, readings=readings, missing=missing)


def _tidy_membership(m: Membership, labels: Mapping[str, tuple[str, str]]) -> Membership:
    readings = tuple(r for r in m.readings if not _inside(r.path))
    missing = tuple(sorted({_relabel(x, labels) for x in m.missing}))
    return attrs.evolve(m, readings=readings, missing=missing)


def _weight_high(value: Value) -> Decimal | None:
    if value is True:
        return Decimal(1)
    if value is False or isinstance(value, bool):
        return None
    if isinstance(value, Unknown):
        return Decimal("Infinity")  # an unknown share: listed first, it could weigh anything
    if isinstance(value, Interval):
        high = Decimal(value.high)
        return high if high != 0 or value.low != 0 else None
    if isinstance(value, int | Decimal):
        return Decimal(value) if value != 0 else None
    return None


def _area_decision(
    asm: Assembler, subject: Record, outcomes: Mapping[str, PackOutcome], level_pack: str, top: int
) -> AreaDecision:
    schema = asm.schema
    decision = decide_outcomes(asm.policy_set, subject, asm.as_of, outcomes, exit_pack=level_pack)
    labels = _item_labels(schema, subject)
    lacks = lacks_by_item(asm, subject)
    decision = attrs.evolve(
        decision,
        criteria=tuple(_tidy(c, labels) for c in decision.criteria),
        memberships=tuple(_tidy_membership(m, labels) for m in decision.memberships),
        applicability=None
        if decision.applicability is None
        else attrs.evolve(
            decision.applicability,
            readings=tuple(r for r in decision.applicability.readings if not _inside(r.path)),
        ),
    )
    outcome = outcomes.get(level_pack)
    figures: list[Figure] = []
    weights: list[Weight] = []
    weighing: dict[str, int] = {}
    if outcome is not None:
        checked = outcome.pack
        # every fact once, untraced: a figure shows a value, not how it was reached
        values = fact_values(
            Context(subject=subject, as_of=asm.as_of, parameters=outcome.parameters, facts=checked.facts)
        )
        for name in checked.facts:
            fact = checked.pack.facts[name]
            missing = tuple(sorted({_relabel(m, labels) for m in settle_of(values[name])}))
            figures.append(Figure(name, fact.title, show_value(values[name]), missing))
        verdicts = {c.id: c.verdict for c in decision.criteria}
        for cid, texpr in checked.weighs.items():
            if verdicts.get(cid) not in ("fail", "undetermined"):
                continue
            result = run_condition(texpr, subject, asm.as_of, outcome.parameters, checked)
            found: list[Weight] = []
            for e in result.events:
                if e.kind != "item" or e.node is not texpr:
                    continue
                high = _weight_high(e.value)
                if high is None:
                    continue
                ident, label = labels.get(e.name, (e.name, e.name))
                unsure = isinstance(e.value, Unknown | Interval)
                item_lacks = lacks.get(e.name, ()) if unsure else ()
                shown = show_value(e.value) if not isinstance(e.value, Unknown) else "?"
                if e.value is True:
                    shown = "1"
                found.append(Weight(cid, ident, label, shown or "?", high, item_lacks, unsure))
            if verdicts.get(cid) == "undetermined":
                # what would settle it first: the items whose own share is unsure
                found.sort(key=lambda w: (not w.unsure, -w.high, w.item))
            else:
                found.sort(key=lambda w: (-w.high, w.item))
            weighing[cid] = len(found)
            weights.extend(found[:top])
    others: list[tuple[str, Verdict | None]] = [
        (pid, pack_verdict(o))
        for pid, o in sorted(outcomes.items())
        if pid != level_pack and o.pack.pack.criteria
    ]
    return AreaDecision(
        subject.type_name,
        key_of(schema, subject),
        name_of(subject),
        gathered_ids(schema, subject),
        decision,
        tuple(figures),
        tuple(weights),
        weighing,
        tuple(others),
    )
