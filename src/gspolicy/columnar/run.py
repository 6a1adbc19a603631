"""A columnar run of one record type on one date: the plans of the packs in force (planned once),
their compact result on a set of frames (checked row for row), and that result decoded back into
each pack's condition values and each record's `Outcome` — through the same `outcome_of` as the
per-record evaluator, so verdicts, what would settle, the support and the buffer follow one set
of rules whichever engine computed the values.  A pack whose plan did not lower, and a record the
columns cannot hold exactly (``__fallback``), are decided by the per-record evaluator; the
`RunReport` says which packs and how many records, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from gspolicy._memo import Memo
from gspolicy.columnar.frames import Columns, Frames, build_frames, columns_of
from gspolicy.columnar.plan import WORD_BITS, Keys, NotLowered, PackPlan, Planner, plan_pack
from gspolicy.columnar.polars_backend import Result, run_plans
from gspolicy.engine.compiled import lower
from gspolicy.engine.measures import measure_declared
from gspolicy.engine.outcome import Outcome, decide_outcome, outcome_of, problems_of
from gspolicy.engine.run import BufferValues, PackValues, parameter_values
from gspolicy.errors import Diagnostic
from gspolicy.lang.values import Unknown, Value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record, Schema

__all__ = [
    "ColumnarError",
    "Decoder",
    "Lapses",
    "Run",
    "RunReport",
    "decide_columnar",
    "lapses_by_columns",
    "one_type",
    "outcome_of_row",
    "plan_lapses",
    "plan_packs",
    "plan_run",
    "values_by_columns",
]


class ColumnarError(RuntimeError):
    """The columnar run broke its own invariant (a row lost or repeated): a defect, never data's fault."""


@attrs.frozen
class RunReport:
    """What a columnar run decided record by record instead, and why."""

    records: int
    fallback_packs: tuple[tuple[str, str], ...]  # (pack key, reason)
    fallback_records: int  # records the columns could not hold exactly


@attrs.frozen
class Run:
    """The plans of the packs in force for one record type on one date (built once, reused)."""

    schema: Schema
    record_type: str
    as_of: dt.date
    packs: tuple[CheckedPack, ...]
    plans: tuple[PackPlan, ...]
    keys: Keys = attrs.field(eq=False)
    parameters: Mapping[str, Mapping[str, Value]] = attrs.field(eq=False)
    lapses: Lapses | None = attrs.field(default=None, eq=False)  # `plan_lapses`, when planned
    # what the runner decoded once, kept for the next block of the same run: a pack's part by
    # the signature of its values, a row's support by its grants (`gspolicy.columnar.runner`)
    decoded: Memo[tuple[Any, ...], Any] = attrs.field(factory=lambda: Memo(_DECODED), eq=False, repr=False)

    @property
    def fallback_packs(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.pack.key, p.fallback) for p in self.plans if p.fallback is not None)

    @property
    def columns(self) -> Columns:
        """Every column the plans read, and the measure, amount and end of the items a buffer
        may retain (the support column of a row whose buffer retains them is computed from
        those, as `buffer_result_of` reads them: the fields of their roles), and the columns the
        measures' `lapses_when` read (`plan_lapses`)."""
        found = columns_of(self.plans)
        lists = {k: set(v) for k, v in found.lists.items()}
        subject = set(found.subject)
        if self.lapses is not None:
            lapsing = columns_of(self.lapses.run.plans)
            subject |= lapsing.subject
            for path, items in lapsing.lists.items():
                lists.setdefault(path, set()).update(items)
        fields = self.schema.support_fields
        retained = {(name,) for name in (fields.measure, fields.amount, fields.end) if name}
        for plan in self.plans:
            if plan.fallback is None and plan.buffer is not None:
                lists.setdefault(plan.buffer[0].source.path, set()).update(retained)
        return Columns(frozenset(subject), {k: frozenset(v) for k, v in lists.items()})

    def frames(self, records: Sequence[Record]) -> Frames:
        return build_frames(self.schema, self.record_type, records, self.columns)

    def table(self, frames: Frames) -> Result:
        """The compact result of every lowered plan on `frames` (see `run_plans`): one row per
        record, in order (checked, so no join can drop or repeat a record unnoticed)."""
        result = run_plans(self.plans, self.keys, frames)
        rows = result.table["__row"]
        n = frames.height
        if rows.len() != n or (n and (rows.first() != 0 or rows.last() != n - 1 or rows.n_unique() != n)):
            raise ColumnarError(f"the columnar run gave {rows.len()} rows for {frames.height} records")
        return result


_DECODED = 200_000  # signatures kept per run; a block's distinct ones are far fewer


_RUNS: Memo[tuple[int, str, dt.date], tuple[PolicySet, Run]] = Memo(32)


def plan_packs(packs: Sequence[CheckedPack], record_type: str, as_of: dt.date) -> Run:
    """The run of `packs` (checked against one schema) on records of `record_type` as of `as_of`."""
    keys = Keys()
    plans = tuple(plan_pack(p, as_of, keys) for p in packs)
    schema = packs[0].schema if packs else None
    assert schema is not None, "a run needs a pack"
    parameters = {p.key: parameter_values(p, as_of) for p in packs}
    return Run(schema, record_type, as_of, tuple(packs), plans, keys, parameters)


def plan_run(policy_set: PolicySet, record_type: str, as_of: dt.date) -> Run:
    """The run for `record_type` on `as_of` (planned once per policy set, type and date)."""
    key = (id(policy_set), record_type, as_of)
    found = _RUNS.get(key)
    if found is not None and found[0] is policy_set:
        return found[1]
    packs = tuple(p for p in policy_set.all_in_force(as_of) if p.subject == record_type)
    run = attrs.evolve(
        plan_packs(packs, record_type, as_of), lapses=plan_lapses(policy_set, record_type, as_of)
    )
    return _RUNS.put(key, (policy_set, run))[1]


@attrs.frozen
class Lapses:
    """The measures' `lapses_when` lowered for one record type and date: a plan per measure (of
    the pack that declares it, `measure_declared`) whose one criterion, named by the measure, is
    its `lapses_when`; a measure whose condition does not lower is not here (it is read on the
    record)."""

    run: Run
    index: Mapping[str, int]  # measure → its plan in `run`


def plan_lapses(policy_set: PolicySet, record_type: str, as_of: dt.date) -> Lapses | None:
    """The `lapses_when` of every measure declared for `as_of` that has one, lowered for
    records of `record_type` (None when none lowers)."""
    measures = sorted({m for p in policy_set.packs for m in p.pack.measures})
    keys = Keys()
    plans: list[PackPlan] = []
    index: dict[str, int] = {}
    for measure in measures:
        found = measure_declared(policy_set, measure, as_of)
        if found is None or measure not in found[0].lapses or found[0].subject != record_type:
            continue
        pack = found[0]
        builder = Planner(pack, as_of, keys)
        try:
            node = builder.lower(pack.lapses[measure])
        except NotLowered:
            continue
        index[measure] = len(plans)
        plans.append(PackPlan(pack, as_of, None, builder.facts, criteria={measure: node}))
    if not plans:
        return None
    packs = tuple(p.pack for p in plans)
    parameters = {p.key: parameter_values(p, as_of) for p in packs}
    return Lapses(Run(policy_set.schema, record_type, as_of, packs, tuple(plans), keys, parameters), index)


def lapses_by_columns(
    lapses: Lapses, frames: Frames, reads: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], Value]:
    """Whether a retained item of each ``(row, measure)`` of `reads` has lapsed, as `lapse_of`
    tells it on the row's record, computed by columns over those rows of `frames`.  A pair is
    left out — to be read on the record — when its measure did not lower, `frames` lack a
    column its condition reads, or the row's values do not fit the columns (``__fallback``)."""
    wanted = sorted({m for _row, m in reads if m in lapses.index})
    plans = [lapses.run.plans[lapses.index[m]] for m in wanted]
    needed = columns_of(plans)
    subjects = frames.subjects
    held = all(".".join(p) in subjects.columns for p in needed.subject) and all(
        path in frames.items and all(".".join(f) in frames.items[path].columns for f in fields)
        for path, fields in needed.lists.items()
    )
    if not plans or not held:
        return {}
    rows = sorted({row for row, m in reads if m in lapses.index})
    chosen = pl.Series(rows, dtype=pl.UInt32())
    part = Frames(
        subjects.filter(pl.col("__row").is_in(chosen)),
        {path: frames.items[path].filter(pl.col("__row").is_in(chosen)) for path in needed.lists},
    )
    result = run_plans(plans, lapses.run.keys, part)
    if result.table["__row"].to_list() != rows:
        raise ColumnarError(f"the lapse conditions gave {result.table.height} rows for {len(rows)} records")
    decoder = Decoder(lapses.run, result)
    fallback = decoder.columns["__fallback"]
    at = {row: i for i, row in enumerate(rows)}
    column = {m: f"{i}|c|{m}" for i, m in enumerate(wanted)}
    out: dict[tuple[int, str], Value] = {}
    for row, measure in reads:
        i = at.get(row)
        if i is None or measure not in column or fallback[i]:
            continue
        out[(row, measure)] = decoder.value(column[measure], i)
    return out


class Decoder:
    """Turns a row of the compact result back into the values of each pack's conditions."""

    def __init__(self, run: Run, result: Result) -> None:
        table = result.table
        self.run = run
        self.keys = run.keys
        self.width = result.width
        self.columns: dict[str, list[Any]] = {name: table[name].to_list() for name in table.columns}
        self.unknowns: dict[tuple[object, ...], Unknown] = {}
        self.parts: dict[str, list[tuple[str, list[Any]]]] = {}
        by_base: dict[str, list[tuple[str, list[Any]]]] = {}
        for name, values in self.columns.items():
            head, sep, tail = name.rpartition("|")
            if sep and (tail.startswith("s") or tail.startswith("i")) and tail[1:].isdigit():
                by_base.setdefault(head, []).append((tail, values))
        self.parts = by_base

    def unknown(self, base: str, row: int) -> Unknown:
        comps = self.parts.get(base, [])
        signature = tuple(values[row] for _comp, values in comps)
        found = self.unknowns.get((base, *signature))
        if found is not None:
            return found
        missing: set[str] = set()
        problems: set[Diagnostic] = set()
        per = WORD_BITS // self.width
        for comp, values in comps:
            word = values[row] or 0
            index = int(comp[1:])
            bit = 0
            while word:
                if word & 1:
                    if comp[0] == "s":
                        name = self.keys.subject[index * WORD_BITS + bit]
                        if name.startswith("!"):
                            problems.add(Diagnostic(name[1:], None))
                        else:
                            missing.add(name)
                    else:
                        field = index * per + bit // self.width
                        missing.add(self.keys.item_name(field, bit % self.width))
                word >>= 1
                bit += 1
        found = Unknown(frozenset(missing), frozenset(problems))
        self.unknowns[(base, *signature)] = found
        return found

    def value(self, base: str, row: int) -> Value:
        found = self.columns[base][row]
        return self.unknown(base, row) if found is None else found

    def pack_values(self, index: int, plan: PackPlan, record: Record, row: int) -> PackValues:
        pack = plan.pack
        prefix = f"{index}|"
        applies = self.value(f"{prefix}a", row) if plan.applies is not None else None
        givens = {k: self.value(f"{prefix}g|{k}", row) for k in plan.givens}
        criteria = {k: self.value(f"{prefix}c|{k}", row) for k in plan.criteria}
        rules = {k: self.value(f"{prefix}r|{k}", row) for k in plan.rules}
        buffer = None
        if plan.buffer is not None:
            retained_node, active, until = plan.buffer
            known = self.columns[f"{prefix}br"][row]
            retained: Value
            if known is None:
                retained = self.unknown(f"{prefix}br", row)
            else:
                items = _read_list(record, retained_node.source.path)
                held = self.columns[f"{prefix}br|sel"][row] or 0
                retained = tuple(item for i, item in enumerate(items) if held & (1 << i))
            buffer = BufferValues(
                retained,
                {k: self.value(f"{prefix}ba|{k}", row) for k in active},
                {k: self.value(f"{prefix}bu|{k}", row) for k in until},
            )
        return PackValues(
            pack,
            record,
            self.run.as_of,
            self.run.parameters[pack.key],
            applies,
            givens,
            criteria,
            rules,
            buffer,
        )


def _read_list(record: Record, path: Sequence[str]) -> tuple[Record, ...]:
    current: object = record
    for part in path:
        if not isinstance(current, Record):
            return ()
        current = current.get(part)
    return current if isinstance(current, tuple) else ()


def outcome_of_row(
    policy_set: PolicySet, run: Run, decoder: Decoder, record: Record, row: int, *, exit_pack: str
) -> Outcome:
    """The outcome of the record decoded from `row` (packs that did not lower run per record)."""
    values: dict[str, PackValues] = {}
    for index, plan in enumerate(run.plans):
        if plan.fallback is not None:
            values[plan.pack.id] = lower(plan.pack, run.as_of).run(record)
        else:
            values[plan.pack.id] = decoder.pack_values(index, plan, record, row)
    return outcome_of(
        policy_set, record, run.as_of, values, exit_pack=exit_pack, problems=problems_of(values)
    )


def decide_columnar(
    policy_set: PolicySet, records: Sequence[Record], as_of: dt.date, *, exit_pack: str
) -> tuple[list[Outcome], RunReport]:
    """The outcome of every record (all of one type), as `decide_outcome` gives it, computed by
    columns; and what was decided record by record instead."""
    if not records:
        return [], RunReport(0, (), 0)
    run = plan_run(policy_set, one_type(records), as_of)
    decoder = Decoder(run, run.table(run.frames(records)))
    fallback = decoder.columns["__fallback"]
    outcomes = [
        decide_outcome(policy_set, record, as_of, exit_pack=exit_pack)
        if fallback[row]
        else outcome_of_row(policy_set, run, decoder, record, row, exit_pack=exit_pack)
        for row, record in enumerate(records)
    ]
    report = RunReport(len(records), run.fallback_packs, sum(1 for f in fallback if f))
    return outcomes, report


def one_type(records: Sequence[Record]) -> str:
    record_type = records[0].type_name
    if any(r.type_name != record_type for r in records):
        raise ValueError("records of one type at a time")
    return record_type


def values_by_columns(
    pack: CheckedPack, records: Sequence[Record], as_of: dt.date
) -> tuple[list[PackValues], str | None, int]:
    """The values of one pack's conditions on each record, by columns; records the columns cannot
    hold, and every record when the pack does not lower, by the per-record evaluator.  Also the
    reason the pack did not lower (None when it did) and how many records fell back."""
    if not records:
        return [], None, 0
    run = plan_packs([pack], records[0].type_name, as_of)
    plan = run.plans[0]
    if plan.fallback is not None:
        return [lower(pack, as_of).run(r) for r in records], plan.fallback, len(records)
    decoder = Decoder(run, run.table(run.frames(records)))
    fallback = decoder.columns["__fallback"]
    out = [
        lower(pack, as_of).run(record) if fallback[row] else decoder.pack_values(0, plan, record, row)
        for row, record in enumerate(records)
    ]
    return out, None, sum(1 for f in fallback if f)
