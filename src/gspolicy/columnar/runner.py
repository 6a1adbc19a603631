"""Deciding many records at once: the columnar plans run on Polars, decoded into `Outcome`s.

`decide_columnar` lowers every pack in force for the records' type (`plan_pack`), builds the
frames (`build_frames`), runs them (`run_plans`) and turns each row back into the `Outcome` the
per-record evaluator gives — through the same `outcome_of`, so verdicts, what would settle, the
support and the buffer follow one set of rules whichever engine computed the values.

No silent difference: a pack whose plan did not lower, and a record the columns cannot hold
exactly (``__fallback``), are decided by the per-record evaluator; the `RunReport` says which
packs and how many records, and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from gspolicy._memo import Memo
from gspolicy.columnar.frames import Frames, build_frames, columns_of
from gspolicy.columnar.plan import Keys, PackPlan, plan_pack
from gspolicy.columnar.polars_backend import Result, run_plans
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import Outcome, decide_outcome, outcome_of
from gspolicy.engine.run import BufferValues, PackValues, parameter_values
from gspolicy.errors import Diagnostic
from gspolicy.lang.values import Unknown, Value
from gspolicy.pack.check import CheckedPack
from gspolicy.pack.load import PolicySet
from gspolicy.schema.model import Record

__all__ = ["Run", "RunReport", "decide_columnar", "plan_run"]


@attrs.frozen
class RunReport:
    """What a columnar run decided record by record instead, and why."""

    records: int
    fallback_packs: tuple[tuple[str, str], ...]  # (pack key, reason)
    fallback_records: int  # records the columns could not hold exactly


@attrs.frozen
class Run:
    """The plans of the packs in force for one record type on one date (built once, reused)."""

    policy_set: PolicySet
    record_type: str
    as_of: dt.date
    packs: tuple[CheckedPack, ...]
    plans: tuple[PackPlan, ...]
    keys: Keys = attrs.field(eq=False)
    parameters: Mapping[str, Mapping[str, Value]] = attrs.field(eq=False)

    @property
    def fallback_packs(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.pack.key, p.fallback) for p in self.plans if p.fallback is not None)

    def frames(self, records: Sequence[Record]) -> Frames:
        return build_frames(self.policy_set.schema, self.record_type, records, columns_of(self.plans))

    def table(self, frames: Frames) -> Result:
        """The compact result of every lowered plan on `frames` (see `run_plans`)."""
        return run_plans(self.plans, self.keys, frames)


_RUNS: Memo[tuple[int, str, dt.date], Run] = Memo(64)


def plan_run(policy_set: PolicySet, record_type: str, as_of: dt.date) -> Run:
    """The run for `record_type` on `as_of` (planned once per policy set, type and date)."""
    key = (id(policy_set), record_type, as_of)
    found = _RUNS.get(key)
    if found is not None and found.policy_set is policy_set:
        return found
    packs = tuple(p for p in policy_set.all_in_force(as_of) if p.subject == record_type)
    keys = Keys()
    plans = tuple(plan_pack(p, as_of, keys) for p in packs)
    run = Run(policy_set, record_type, as_of, packs, plans, keys, {p.key: parameter_values(p, as_of) for p in packs})
    return _RUNS.put(key, run)


class _Decoder:
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
        per = 64 // self.width
        for comp, values in comps:
            word = values[row] or 0
            index = int(comp[1:])
            bit = 0
            while word:
                if word & 1:
                    if comp[0] == "s":
                        name = self.keys.subject[index * 64 + bit]
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
        return self.unknown(base, row) if found is None else found  # type: ignore[no-any-return]

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
            pack, record, self.run.as_of, self.run.parameters[pack.key], applies, givens, criteria, rules, buffer
        )


def _read_list(record: Record, path: Sequence[str]) -> tuple[Record, ...]:
    current: object = record
    for part in path:
        if not isinstance(current, Record):
            return ()
        current = current.get(part)
    return current if isinstance(current, tuple) else ()


def _problems(values: Mapping[str, PackValues]) -> tuple[str, ...]:
    codes: set[str] = set()
    for v in values.values():
        for value in (v.applies, *v.givens.values(), *v.criteria.values(), *v.rules.values()):
            if isinstance(value, Unknown):
                codes.update(d.code for d in value.problems)
    return tuple(sorted(codes))


def decide_columnar(
    policy_set: PolicySet, records: Sequence[Record], as_of: dt.date, *, exit_pack: str
) -> tuple[list[Outcome], RunReport]:
    """The outcome of every record (all of one type), as `decide_outcome` gives it, computed by
    columns; and what was decided record by record instead."""
    if not records:
        return [], RunReport(0, (), 0)
    record_type = records[0].type_name
    if any(r.type_name != record_type for r in records):
        raise ValueError("records of one type at a time")
    run = plan_run(policy_set, record_type, as_of)
    table = run.table(run.frames(records))
    decoder = _Decoder(run, table)
    fallback = decoder.columns["__fallback"]
    outcomes: list[Outcome] = []
    for row, record in enumerate(records):
        if fallback[row]:
            outcomes.append(decide_outcome(policy_set, record, as_of, exit_pack=exit_pack))
            continue
        values: dict[str, PackValues] = {}
        for index, plan in enumerate(run.plans):
            if plan.fallback is not None:
                values[plan.pack.id] = lower(plan.pack, as_of).run(record)
            else:
                values[plan.pack.id] = decoder.pack_values(index, plan, record, row)
        outcomes.append(
            outcome_of(policy_set, record, as_of, values, exit_pack=exit_pack, problems=_problems(values))
        )
    report = RunReport(len(records), run.fallback_packs, sum(1 for f in fallback if f))
    return outcomes, report


def chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
