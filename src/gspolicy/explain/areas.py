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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._glossary import group, word
from gspolicy._i18n import Lang, Text
from gspolicy._location import DataPath
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import CriterionResult, Outcome, outcome_of, problems_of, settle_of
from gspolicy.engine.outcome import derived_lacks as _outcome_missing
from gspolicy.engine.outcome import derived_value as _bool_of
from gspolicy.engine.run import PackOutcome, PackValues, run_condition
from gspolicy.explain.build import (
    decide_outcomes,
    outcomes_for,
    pack_verdict,
    show_value,
)
from gspolicy.explain.decision import CriterionVerdict, Decision, Detail, Membership, Verdict
from gspolicy.explain.render import check_detail, render_text, verdict_word
from gspolicy.explain.render_json import json_value
from gspolicy.explain.wording import fact_value, grouped
from gspolicy.lang import Interval, Unknown, Value
from gspolicy.lang.interpret import Context, fact_values
from gspolicy.lang.typed import TAge, TAggregate, TField, TPresent, TypedExpr, typed_children
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import FieldSpec, Record, RecordSpec, Schema

__all__ = [
    "AreaDecision",
    "AreaOutcome",
    "AreaResult",
    "Figure",
    "Weight",
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


def gathering_order(schema: Schema, types: Iterable[str]) -> list[str]:
    """Record types in the order they can be decided: a type after every type it gathers."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order or name in path:
            return
        for field in schema.records[name].fields.values():
            if field.gather is not None:
                visit(field.gather.records, (*path, name))
        order.append(name)

    for t in types:
        visit(t, ())
    return order


def _derived_packs(schema: Schema, item_type: str) -> set[str]:
    return {
        f.derive.pack
        for f in schema.records[item_type].fields.values()
        if f.derive is not None and f.derive.pack is not None
    }


Derived = Mapping[tuple[str, str], tuple[bool | None, tuple[str, ...]]]
"""The derived fields of a gathered record's items, each ``(pack, form)`` (``derive: {form:
pack}``) with its value and, when missing, what its pack lacks (`derived_value`, `derived_lacks`)."""


DerivedOf = Callable[[tuple[str, str]], tuple[bool | None, tuple[str, ...]]]
"""What gives an item's derived field ``(pack, form)``: its value and what it lacks when missing."""


def _derived_of(
    outcomes: Mapping[str, PackValues],
) -> DerivedOf:
    def get(key: tuple[str, str]) -> tuple[bool | None, tuple[str, ...]]:
        pack, form = key
        value = _bool_of(outcomes.get(pack), form)
        return value, (_outcome_missing(outcomes.get(pack), pack) if value is None else ())

    return get


def _item(
    spec: RecordSpec,
    record: Record,
    derived: DerivedOf,
) -> tuple[Record, dict[str, Any]]:
    """The item of a gathered list for `record`, and for each unknown derived field what the
    item's own decision lacks."""
    values: dict[str, object] = {}
    lacks: dict[str, Any] = {}
    for name, field in spec.fields.items():
        d = field.derive
        if d is None:
            continue
        if d.form == "record":
            values[name] = record
            continue
        assert d.pack is not None
        value, lacking = derived((d.pack, d.form))
        if value is None:
            lacks[name] = lacking
        else:
            values[name] = value
    return Record(spec.name, values), lacks


@attrs.frozen
class AreaReads:
    """What the areas' packs need of each gathered household (the root records): the fields
    they read (`paths`, with the key, the name and the fields the households are gathered by)
    and the derived fields of the households' items, ``(pack, form)``."""

    paths: tuple[tuple[str, ...], ...]
    derive: tuple[tuple[str, str], ...]


_SLIM_KINDS = frozenset({"bool", "int", "date", "string", "enum"})


def area_reads(policy_set: PolicySet, as_of: dt.date) -> AreaReads | None:
    """What the packs in force on `as_of` read of the root records the areas gather, when that
    is only fields a record held by those fields alone shows exactly as the whole record would
    (plain values at named paths); None otherwise — a pack reads a household's list or nested
    record whole, an age, a number with decimals, or a gathered list through another item.
    A caller may then gather records that hold these fields only (and `item_fields`)."""
    schema = policy_set.schema
    root = schema.root
    root_spec = schema.records[root]
    holders: dict[str, dict[str, tuple[str, ...]]] = {}  # type -> gathered field -> record fields
    gathered_any: set[tuple[str, str]] = set()  # (type, field) of every gathered list
    by_fields: set[str] = set()
    derive: list[tuple[str, str]] = []
    for type_name, spec in schema.records.items():
        for name, f in spec.fields.items():
            if f.gather is None or f.record is None:
                continue
            gathered_any.add((type_name, name))
            if f.gather.records != root:
                continue
            by_fields.add(f.gather.by)
            item = schema.records[f.record]
            holders.setdefault(type_name, {})[name] = tuple(
                n for n, g in item.fields.items() if g.derive is not None and g.derive.form == "record"
            )
            for g in item.fields.values():
                d = g.derive
                if d is not None and d.pack is not None and (d.pack, d.form) not in derive:
                    derive.append((d.pack, d.form))
    paths: set[tuple[str, ...]] = set()

    def gathered_through(type_name: str | None, path: tuple[str, ...]) -> bool:
        """Whether `path` from a record of `type_name` passes through a gathered list."""
        spec = schema.records.get(type_name or "")
        for part in path:
            if spec is None:
                return False
            if (spec.name, part) in gathered_any:
                return True
            field = spec.fields.get(part)
            spec = schema.records.get(field.record or "") if field is not None else None
        return False

    def walk(node: TypedExpr, scopes: dict[int, tuple[str, str | None]]) -> bool:
        """Collect what `node` reads of households; False when a read cannot be served.
        `scopes`: scope -> ("household", record field of the item) or ("other", record type)."""
        if isinstance(node, TPresent):
            return walk(node.field, scopes)
        if isinstance(node, TAge):
            return scopes.get(node.scope, ("other", None))[0] != "household"
        if isinstance(node, TField):
            kind, what = scopes.get(node.scope, ("other", None))
            if kind == "household":
                if node.path[0] != what:
                    return True  # a derived field of the item
                if len(node.path) < 2:
                    return False  # the household read whole
                paths.add(node.path[1:])
                return True
            return not gathered_through(what, node.path) or node.scope == 0
        if isinstance(node, TAggregate):
            source = node.source
            inner: tuple[str, str | None] = ("other", None)
            if isinstance(source, TField):
                kind, what = scopes.get(source.scope, ("other", None))
                if kind == "household":
                    return False  # a list of the household
                owner = schema.records.get(what or "")
                field = (
                    owner.fields.get(source.path[0]) if owner is not None and len(source.path) == 1 else None
                )
                if field is not None and field.gather is not None and field.gather.records == root:
                    fields = holders.get(owner.name if owner else "", {}).get(source.path[0], ())
                    if len(fields) != 1:
                        return False
                    inner = ("household", fields[0])
                elif field is not None and field.record is not None:
                    inner = ("other", field.record)
                elif owner is not None and gathered_through(owner.name, source.path):
                    return False
            elif not walk(source, scopes):
                return False
            if node.body is None:
                return True
            return walk(node.body, {**scopes, node.scope: inner})
        return all(walk(child, scopes) for child in typed_children(node))

    for checked in policy_set.all_in_force(as_of):
        if checked.subject not in holders and checked.subject != root:
            continue
        if checked.subject == root:
            continue
        if checked.buffer is not None:
            return None
        roots = [
            *checked.facts.values(),
            *checked.criteria.values(),
            *checked.givens.values(),
            *checked.rules.values(),
            *checked.weighs.values(),
            *([checked.applies] if checked.applies is not None else []),
        ]
        if not all(walk(expr, {0: ("other", checked.subject)}) for expr in roots):
            return None
    key = root_spec.key
    paths.update((f,) for f in by_fields)
    if key is not None:
        paths.add((key,))
    if "name" in root_spec.fields:
        paths.add(("name",))
    for path in paths:
        found = schema.field_at(root_spec, path)
        if found is None or found.kind not in _SLIM_KINDS:
            return None
    return AreaReads(tuple(sorted(paths)), tuple(derive))


def _key_of(schema: Schema, record: Record) -> str:
    key = schema.records[record.type_name].key
    return str(record.get(key, "?")) if key is not None else "?"


class _Assembler:
    """Decides record types in gathering order and builds the items other types gather."""

    def __init__(self, policy_set: PolicySet, as_of: dt.date) -> None:
        self.policy_set = policy_set
        self.schema = policy_set.schema
        self.as_of = as_of
        # (gathered type, item type) -> (item, what its unknown fields lack, the gathered record)
        self.items: dict[tuple[str, str], list[tuple[Record, dict[str, Any], Record]]] = {}
        self.problems: list[Text] = []
        # (gathered type, item type, field) -> the items by that field of their record; and
        # (gathered type, item type) -> what each item lacks, by the item's identity
        self._index: dict[tuple[str, str, str], dict[object, list[Record]]] = {}
        self._lacks: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}

    def _by_key(self, gathered: str, item_type: str, by: str) -> dict[object, list[Record]]:
        """The items of `gathered` records (as `item_type`) by the value of their record's field
        `by`, in the order they were added (built once, not per subject)."""
        found = self._index.get((gathered, item_type, by))
        if found is None:
            found = {}
            for item, _lacks, source in self.items.get((gathered, item_type), []):
                found.setdefault(source.get(by), []).append(item)
            self._index[(gathered, item_type, by)] = found
        return found

    def lacks_of(self, gathered: str, item_type: str) -> dict[int, dict[str, Any]]:
        """What each item of `gathered` records lacks, by the item's identity."""
        found = self._lacks.get((gathered, item_type))
        if found is None:
            found = {id(item): lacks for item, lacks, _s in self.items.get((gathered, item_type), [])}
            self._lacks[(gathered, item_type)] = found
        return found

    def gathered_fields(self, type_name: str) -> list[tuple[str, FieldSpec]]:
        return [(n, f) for n, f in self.schema.records[type_name].fields.items() if f.gather is not None]

    def needed_items(self, types: Sequence[str]) -> dict[str, set[str]]:
        """For each gathered type, the item types other types gather it into."""
        need: dict[str, set[str]] = {}
        for t in types:
            for _n, f in self.gathered_fields(t):
                assert f.gather is not None
                assert f.record is not None
                need.setdefault(f.gather.records, set()).add(f.record)
        return need

    def subject(self, record: Record) -> Record:
        """The record with its gathered lists filled (a list given in the data is replaced)."""
        key = _key_of(self.schema, record)
        filled: dict[str, object] = dict(record)
        for name, f in self.gathered_fields(record.type_name):
            assert f.gather is not None
            assert f.record is not None
            filled[name] = tuple(self._by_key(f.gather.records, f.record, f.gather.by).get(key, ()))
        return Record(record.type_name, filled, record.origin)

    def add_items(
        self,
        record: Record,
        derived: DerivedOf,
        item_types: Iterable[str],
    ) -> None:
        for item_type in item_types:
            item, lacks = _item(self.schema.records[item_type], record, derived)
            self.items.setdefault((record.type_name, item_type), []).append((item, lacks, record))
            self._index = {k: v for k, v in self._index.items() if k[:2] != (record.type_name, item_type)}
            self._lacks.pop((record.type_name, item_type), None)


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
            counts = Counter(_key_of(schema, r) for r in items)
            twice = sorted(k for k, n in counts.items() if n > 1)
            if twice:
                raise ValueError(f"{type_name} records given more than once: {', '.join(twice[:5])}")
    asm = _Assembler(policy_set, as_of)
    order = gathering_order(schema, [t for t in records if t in schema.records])
    need = asm.needed_items(order)
    decided: dict[str, list[AreaDecision]] = {}
    compact: dict[str, list[AreaOutcome]] = {}
    for type_name in order:
        item_types = sorted(need.get(type_name, ()))
        derived = set().union(*(_derived_packs(schema, i) for i in item_types)) if item_types else set()
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
            ready = (known or {}).get(_key_of(schema, record)) if level_pack is None else None
            values: Mapping[str, PackValues]
            if ready is not None:
                values = ready
            elif level_pack is None:
                values = {
                    p.id: lower(p, as_of).run(subject)
                    for p in policy_set.all_in_force(as_of)
                    if p.id in derived and p.subject == subject.type_name
                }
            elif explain is None or explain(type_name, _key_of(schema, subject)):
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
                        _key_of(schema, subject),
                        _name_of(subject),
                        _gathered_ids(schema, subject),
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
            asm.add_items(subject, _derived_of(values), item_types)
    orphans: dict[str, set[str]] = {}
    for holder in order:
        keys = {_key_of(schema, r) for r in records.get(holder, ())}
        for _n, f in asm.gathered_fields(holder):
            assert f.gather is not None
            for r in records.get(f.gather.records, ()):
                if r.get(f.gather.by) not in keys:
                    orphans.setdefault(f"{f.gather.records}/{holder}", set()).add(_key_of(schema, r))
    return AreaResult(
        as_of,
        tuple(decided.get("village", ())),
        tuple(decided.get("county", ())),
        tuple(asm.problems),
        {k: tuple(sorted(v)) for k, v in sorted(orphans.items())},
        {k: tuple(v) for k, v in compact.items()},
    )


def _name_of(subject: Record) -> str | None:
    name = subject.get("name")
    return name if isinstance(name, str) else None


def _gathered_items(schema: Schema, subject: Record) -> Iterator[tuple[str, int, str, Record | None]]:
    """(gathered list, index, item id, the item's record) for every item the subject gathers;
    the id is the index when the item holds no record."""
    for name, field in schema.records[subject.type_name].fields.items():
        if field.gather is None:
            continue
        items = subject.get(name)
        if not isinstance(items, tuple):
            continue
        for index, item in enumerate(items):
            inner = next((v for v in item.values() if isinstance(v, Record)), None)
            yield name, index, (_key_of(schema, inner) if inner is not None else str(index)), inner


def _gathered_ids(schema: Schema, subject: Record) -> dict[str, tuple[str, ...]]:
    """Gathered list -> the ids of its items (every gathered list, empty ones too)."""
    out: dict[str, list[str]] = {
        name: []
        for name, field in schema.records[subject.type_name].fields.items()
        if field.gather is not None and isinstance(subject.get(name), tuple)
    }
    for name, _index, ident, _inner in _gathered_items(schema, subject):
        out[name].append(ident)
    return {name: tuple(ids) for name, ids in out.items()}


_ITEM = re.compile(r"^([a-z_][a-z0-9_]*)\[(\d+)\]")


def _item_labels(schema: Schema, subject: Record) -> dict[str, tuple[str, str]]:
    """``households[3]`` -> (item id, label) for every gathered list of the subject."""
    out: dict[str, tuple[str, str]] = {}
    for name, index, ident, inner in _gathered_items(schema, subject):
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
    asm: _Assembler, subject: Record, outcomes: Mapping[str, PackOutcome], level_pack: str, top: int
) -> AreaDecision:
    schema = asm.schema
    decision = decide_outcomes(asm.policy_set, subject, asm.as_of, outcomes, exit_pack=level_pack)
    labels = _item_labels(schema, subject)
    lacks = _item_lacks(asm, subject)
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
                if e.kind != "item" or e.span != texpr.span:
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
        _key_of(schema, subject),
        _name_of(subject),
        _gathered_ids(schema, subject),
        decision,
        tuple(figures),
        tuple(weights),
        weighing,
        tuple(others),
    )


def _item_lacks(asm: _Assembler, subject: Record) -> dict[str, tuple[str, ...]]:
    """``households[3]`` -> what that household's own decisions lack (for its unknown fields)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, field in asm.schema.records[subject.type_name].fields.items():
        if field.gather is None or field.record is None:
            continue
        by_id = asm.lacks_of(field.gather.records, field.record)
        items = subject.get(name)
        if not isinstance(items, tuple):
            continue
        for index, item in enumerate(items):
            lacks = by_id.get(id(item))
            if lacks:
                path = str(DataPath((name,)).child(index))
                out[path] = tuple(
                    sorted({f"{field_name}: {m}" for field_name, ms in lacks.items() for m in ms})
                )
    return out


# --- rendering ------------------------------------------------------------------------------------


def render_area(area: AreaDecision, lang: Lang = "en", *, detail: Detail = "brief") -> str:
    """The area decision as text: the decision at a detail level (`Detail`), then the figures,
    the other standards and the items weighing on each failing or undetermined criterion (the
    same at every level: they are the area's own reasons)."""
    zh = lang == "zh"
    levels, kinds = group("area_level"), group("area_items")
    level = levels[area.level].get(lang) if area.level in levels else area.level
    named = f"{area.code} {area.name}" if area.name else area.code
    counts = ", ".join(f"{n} {kinds[k].get(lang) if k in kinds else k}" for k, n in area.items.items())
    title = (
        f"{named} {level}（截至 {area.decision.as_of}；汇集 {counts}）"
        if zh
        else f"{named}: {level} as of {area.decision.as_of} (gathered {counts})"
    )
    out = [render_text(area.decision, lang, title=title, detail=detail).rstrip("\n")]
    if area.figures:
        out.append("  数据：" if zh else "  figures:")
        for f in area.figures:
            value = (
                grouped(fact_value(area.decision.words, f.name, f.value))
                if f.value is not None
                else word("truth", "unknown", lang)
            )
            line = f"    {f.name} = {value}  — {f.title.get(lang)}"
            if f.missing:
                line += (
                    ("（需补充：" if zh else " (would settle it: ")
                    + ("、" if zh else ", ").join(f.missing)
                    + ("）" if zh else ")")
                )
            out.append(line)
    if area.others:
        out.append("  其他标准：" if zh else "  other standards:")
        for pid, verdict in area.others:
            out.append(f"    {pid}: {verdict_word(verdict, lang)}")
    if area.weights:
        out.append("  影响最大的对象：" if zh else "  what weighs most:")
        for cid, total in area.weighing.items():
            shown = [w for w in area.weights if w.criterion == cid]
            if not shown:
                continue
            out.append(
                f"    {cid}（共 {total} 个，列出 {len(shown)} 个）"
                if zh
                else f"    {cid} ({total} in all, {len(shown)} shown)"
            )
            for w in shown:
                line = f"      {w.label}: {w.value}"
                if w.missing:
                    line += ("（缺少：" if zh else " (lacks: ") + "; ".join(w.missing) + ("）" if zh else ")")
                out.append(line)
    return "\n".join(out) + "\n"


def area_to_json(area: AreaDecision, *, detail: Detail = "full") -> dict[str, Any]:
    """A JSON-ready form: the decision's stable JSON at a detail level plus the area parts
    (figures and weights with numbers as JSON numbers, a range as ``[low, high]``)."""
    check_detail(detail)
    return {
        "level": area.level,
        "code": area.code,
        "name": area.name,
        "gathered": {name: list(ids) for name, ids in area.gathered.items()},
        "decision": area.decision.to_json(detail=detail),
        "figures": [
            {
                "name": f.name,
                "title": {"zh": f.title.zh, "en": f.title.en},
                "value": json_value(f.value),
                "missing": list(f.missing),
            }
            for f in area.figures
        ],
        "others": [{"pack": p, "verdict": v} for p, v in area.others],
        "weighing": dict(area.weighing),
        "weights": [
            {
                "criterion": w.criterion,
                "item": w.item,
                "label": w.label,
                "value": json_value(w.value, truth=False),
                "missing": list(w.missing),
                "unsure": w.unsure,
            }
            for w in area.weights
        ],
    }
