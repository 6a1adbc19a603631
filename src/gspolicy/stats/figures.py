"""The reference computation of a statistics pack's figures, one record at a time.

`figures(policy_set, pairs, quarter)` reads every (record, outcome) pair — decided as of the
quarter's last day — once, and gives for each indicator of the statistics packs in force on that
day a `Table`: group key tuple → `Cell` (the value and the ids of the households that make it up).
An indicator's expressions read the record and its outcome through the functions invariants use
(``rule("id")``, ``criterion("id")``, ``granted("measure")``, ``verdict()``, ``buffer()``),
evaluated by the one interpreter (`gspolicy.lang.evaluate`).

- A **stock** is counted as of the quarter's last day; a **flow** counts a household when its
  `dated_by` date falls within the quarter.
- The built-in key ``batch`` puts a household in every batch pack it is a member of (a rule of it
  holds), so the batch rows do not add up to the total; ``measure`` in every measure it gets now.
  With ``held`` they read the history items it gives instead (their measures, and the batch packs
  in force declaring them): "exited through" is the project's attribution, the batches and
  measures a household held on its exit date.
- A household whose figure (or `where`) is unknown is not counted; its id is kept in the
  table's `undetermined`.  A flow's date that is missing is no event: the household is not
  counted, and not undetermined.

Memory is proportional to the number of groups plus the household ids kept: every cell keeps
the ids of its households (reconciliation lists them), as sorted tuples; nothing else of a
record outlives its turn.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal

import attrs

from gspolicy.engine.invariants import Checks, checks_reading, view_of_outcome
from gspolicy.engine.outcome import Outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.lang import Context, Interval, Unknown, Value, evaluate
from gspolicy.lang.typed import TypedExpr
from gspolicy.pack.model import Indicator
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import KEY_NAMES, CheckedIndicator, CheckedPack
from gspolicy.schema.model import Record
from gspolicy.stats.quarter import Quarter

__all__ = ["Cell", "Figures", "Number", "Table", "figures", "key_text", "statistics_in_force"]

Number = int | Decimal


@attrs.frozen
class Cell:
    """One figure: its value (a count of households, or a sum) and the ids of the households
    that make it up, sorted."""

    value: Number
    households: tuple[str, ...]


@attrs.frozen
class Table:
    """One indicator's figures: group key tuple (in the order of `keys`) → cell.  `total` counts
    each household once (for a count, the households in any cell; for a sum, every cell's value
    added up); `undetermined` lists the households whose figure (or `where`, or the items
    `held`) could not be told in some cell — the data it needs is missing."""

    pack: str  # the statistics pack's ``id@version``
    indicator: Indicator
    keys: tuple[str, ...]
    cells: Mapping[tuple[str, ...], Cell]
    total: Cell
    undetermined: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.indicator.id


@attrs.frozen
class Figures:
    """Every indicator's table for one quarter, by indicator id, in the packs' order."""

    quarter: Quarter
    tables: Mapping[str, Table]


@attrs.define
class _Acc:
    """What one indicator has gathered so far."""

    pack: CheckedPack
    indicator: Indicator
    typed: CheckedIndicator
    values: dict[tuple[str, ...], Number] = attrs.field(factory=dict)
    ids: dict[tuple[str, ...], list[str]] = attrs.field(factory=dict)
    counted: set[str] = attrs.field(factory=set)
    total: Number = 0
    undetermined: set[str] = attrs.field(factory=set)

    def add(self, group: tuple[str, ...], household: str, value: Number) -> None:
        self.values[group] = self.values.get(group, 0) + value
        self.ids.setdefault(group, []).append(household)
        self.counted.add(household)
        self.total += value

    def table(self) -> Table:
        cells = {
            group: Cell(self.values[group], tuple(sorted(set(self.ids[group]))))
            for group in sorted(self.values)
        }
        counted = tuple(sorted(self.counted))
        total = len(counted) if self.indicator.figure == "count" else self.total
        return Table(
            self.pack.key,
            self.indicator,
            self.indicator.by,
            cells,
            Cell(total, counted),
            tuple(sorted(self.undetermined)),
        )


def _statistics(policy_set: PolicySet, as_of: dt.date) -> list[CheckedPack]:
    found = (policy_set.in_force(pack_id, as_of) for pack_id in policy_set.of_kind("statistics"))
    return [p for p in found if p is not None]


def key_text(value: Value) -> str:
    """A group key's value as text: ``""`` when it is missing or unknown."""
    if isinstance(value, Unknown | Interval) or value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Value) -> Number | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return value


class _Subject:
    """What the indicators read of one subject type as of the quarter's last day."""

    def __init__(self, policy_set: PolicySet, subject: str, as_of: dt.date, accs: list[_Acc]) -> None:
        exprs: list[TypedExpr] = []
        for acc in accs:
            t = acc.typed
            exprs += [e for e in (t.figure, t.where, t.dated_by, t.held) if e is not None]
        self.checks: Checks = checks_reading(policy_set, subject, as_of, exprs)
        in_force = [p for p in policy_set.all_in_force(as_of) if p.subject == subject]
        self.batches = [p for p in in_force if p.kind == "batch"]


def _memberships(
    acc: _Acc, subject: _Subject, ctx: Context, outcome: Outcome
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The batches and measures the built-in keys read for one household (None: unknown)."""
    if acc.typed.held is not None:
        items = evaluate(acc.typed.held, ctx)
        if not isinstance(items, tuple):
            return None
        field = acc.typed.held_measure or ""  # the items' field of role `support_measure`
        measures = {str(i[field]) for i in items if isinstance(i, Record) and i.get(field) is not None}
        batches = [p.id for p in subject.batches if measures & set(p.pack.measures)]
        return tuple(batches), tuple(sorted(measures))
    batches = []
    for pack in subject.batches:
        result = outcome.pack(pack.id)
        if result is not None and any(r.holds == "yes" for r in result.rules):
            batches.append(pack.id)
    return tuple(batches), tuple(sorted({m for m, _a, _w in outcome.support}))


def _add_household(acc: _Acc, subject: _Subject, base: Context, outcome: Outcome, quarter: Quarter) -> None:
    """Count one household (its record and outcome read through `base`) in `acc`'s cells."""
    household = outcome.record
    fixed = [key_text(evaluate(acc.pack.keys[k], base)) for k in acc.indicator.by if k in acc.pack.keys]
    if acc.typed.dated_by is not None and evaluate(acc.typed.dated_by, base) not in quarter:
        return  # no date (the event has not happened), or another quarter's
    built_in = [k for k in acc.indicator.by if k in KEY_NAMES]
    held = _memberships(acc, subject, base, outcome) if built_in else ((), ())
    if held is None:
        acc.undetermined.add(household)
        return
    choices = [held[0] if k == "batch" else held[1] for k in built_in]
    for combo in itertools.product(*choices):
        bound = dict(zip(built_in, combo, strict=True))
        ctx = attrs.evolve(base, parameters={KEY_NAMES[k]: v for k, v in bound.items()})
        if acc.typed.where is not None:
            where = evaluate(acc.typed.where, ctx)
            if where is False:
                continue
            if where is not True:
                acc.undetermined.add(household)
                continue
        value = evaluate(acc.typed.figure, ctx)
        fixed_iter = iter(fixed)
        group = tuple(bound[k] if k in bound else next(fixed_iter) for k in acc.indicator.by)
        if acc.indicator.figure == "count":
            if value is True:
                acc.add(group, household, 1)
            elif value is not False:
                acc.undetermined.add(household)
            continue
        number = _number(value)
        if number is None:
            acc.undetermined.add(household)
        else:
            acc.add(group, household, number)


def statistics_in_force(policy_set: PolicySet, quarter: Quarter) -> list[CheckedPack]:
    """The statistics packs in force on `quarter`'s last day, in order; a `PolicyError`
    (``stats/duplicate-indicator``) when two of their indicators share an id."""
    packs = _statistics(policy_set, quarter.last)
    seen: dict[str, str] = {}
    for pack in packs:
        for indicator in pack.pack.indicators:
            if indicator.id in seen:
                diagnostic = Diagnostic(
                    "stats/duplicate-indicator",
                    indicator.span,
                    {"id": indicator.id, "other": seen[indicator.id]},
                    context=(("pack", pack.key),),
                )
                raise PolicyError([diagnostic])
            seen[indicator.id] = pack.key
    return packs


def figures(
    policy_set: PolicySet,
    pairs: Iterable[tuple[Record, Outcome]],
    quarter: Quarter,
    *,
    only: Collection[str] | None = None,
) -> Figures:
    """The figures of every statistics pack in force on `quarter`'s last day, over `pairs`:
    each record with its outcome decided as of that day (`stats/outcome-date` otherwise).
    `only`: the keys (``id@version``) of the packs whose figures are wanted (default: all)."""
    as_of = quarter.last
    accs: list[_Acc] = []
    for pack in statistics_in_force(policy_set, quarter):
        if only is not None and pack.key not in only:
            continue
        for indicator in pack.pack.indicators:
            accs.append(_Acc(pack, indicator, pack.indicators[indicator.id]))
    subjects: dict[str, _Subject] = {}
    for record, outcome in pairs:
        if outcome.as_of != as_of:
            raise PolicyError(
                [
                    Diagnostic(
                        "stats/outcome-date",
                        None,
                        {"id": outcome.record, "as_of": outcome.as_of.isoformat(), "last": as_of.isoformat()},
                    )
                ]
            )
        mine = [a for a in accs if a.pack.subject == record.type_name]
        if not mine:
            continue
        subject = subjects.get(record.type_name)
        if subject is None:
            subject = subjects[record.type_name] = _Subject(policy_set, record.type_name, as_of, mine)
        base = Context(subject=record, as_of=as_of, outcome=view_of_outcome(subject.checks, outcome))
        for acc in mine:
            _add_household(acc, subject, base, outcome, quarter)
    return Figures(quarter, {acc.indicator.id: acc.table() for acc in accs})
