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
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import polars as pl

from gspolicy._memo import Memo
from gspolicy.columnar.frames import Columns, Frames, build_frames, columns_of
from gspolicy.columnar.plan import WORD_BITS, Keys, PackPlan, plan_pack
from gspolicy.columnar.polars_backend import Result, run_plans
from gspolicy.engine.compiled import lower
from gspolicy.engine.invariants import Checks, checks_for, findings_of, view_of_row
from gspolicy.engine.outcome import (
    Outcome,
    buffer_missing,
    buffer_result_of,
    decide_outcome,
    derived_lacks,
    derived_value,
    lapse_of,
    measure_declared,
    outcome_of,
    pack_result_of,
    problems_of,
    retained_amount,
    row_part,
    settle_of,
    support_from,
    support_granted,
    support_kept,
    support_texts,
)
from gspolicy.engine.run import BufferValues, PackValues, parameter_values
from gspolicy.errors import Diagnostic
from gspolicy.lang.values import Unknown, Value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record, Schema

__all__ = [
    "ColumnarError",
    "Run",
    "RunReport",
    "counts_text",
    "decide_columnar",
    "decide_frames",
    "plan_run",
    "verdict_counts",
]

_log = logging.getLogger(__name__)

RETAINED_FIELDS = (("measure",), ("amount",))
"""The fields of a history item a buffer's retained support shows (as `buffer_result_of` reads them)."""


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

    @property
    def fallback_packs(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.pack.key, p.fallback) for p in self.plans if p.fallback is not None)

    @property
    def columns(self) -> Columns:
        """Every column the plans read, and the measure and amount of the items a buffer may
        retain (the support column of a row whose buffer retains them is computed from those)."""
        found = columns_of(self.plans)
        lists = {k: set(v) for k, v in found.lists.items()}
        for plan in self.plans:
            if plan.fallback is None and plan.buffer is not None:
                lists.setdefault(plan.buffer[0].source.path, set()).update(RETAINED_FIELDS)
        return Columns(found.subject, {k: frozenset(v) for k, v in lists.items()})

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
    return _RUNS.put(key, (policy_set, plan_packs(packs, record_type, as_of)))[1]


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


def _outcome(
    policy_set: PolicySet, run: Run, decoder: _Decoder, record: Record, row: int, *, exit_pack: str
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
    run = plan_run(policy_set, _one_type(records), as_of)
    decoder = _Decoder(run, run.table(run.frames(records)))
    fallback = decoder.columns["__fallback"]
    outcomes = [
        decide_outcome(policy_set, record, as_of, exit_pack=exit_pack)
        if fallback[row]
        else _outcome(policy_set, run, decoder, record, row, exit_pack=exit_pack)
        for row, record in enumerate(records)
    ]
    report = RunReport(len(records), run.fallback_packs, sum(1 for f in fallback if f))
    return outcomes, report


def _one_type(records: Sequence[Record]) -> str:
    record_type = records[0].type_name
    if any(r.type_name != record_type for r in records):
        raise ValueError("records of one type at a time")
    return record_type


_LISTS = ("failing", "undetermined", "missing", "rules", "rules_undetermined", "support", "findings")


def table_schema(pack_keys: Sequence[str]) -> dict[str, pl.DataType]:
    """The columns of a decided table: those of `Outcome.to_row()`, typed (dates as dates; the
    verdict of each pack in force as a field of the struct ``packs``)."""
    return {
        "id": pl.String(),
        "as_of": pl.Date(),
        "verdict": pl.String(),
        **{name: pl.List(pl.String()) for name in _LISTS},
        "buffer": pl.String(),
        "buffer_until": pl.Date(),
        "packs": pl.Struct({key: pl.String() for key in pack_keys}),
    }


def _typed_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["as_of"] = dt.date.fromisoformat(row["as_of"])
    until = row["buffer_until"]
    out["buffer_until"] = dt.date.fromisoformat(until) if until is not None else None
    return out


_SEP = "\x1f"  # between a granted measure's name, amount and rule in the `granted` column


def _granted_text(granted: Sequence[tuple[str, str | None, str]]) -> list[str]:
    return [f"{m}{_SEP}{'' if a is None else a}{_SEP}{r}" for m, a, r in granted]


def _parse_granted(text: str) -> tuple[str, str | None, str]:
    measure, amount, rule = text.split(_SEP)
    return measure, amount or None, rule


def _support_of(granted: Sequence[str]) -> list[str]:
    return support_texts(support_from([_parse_granted(g) for g in granted], (), None))


_PART = {
    "verdict": pl.String(),
    "failing": pl.List(pl.String()),
    "undetermined": pl.List(pl.String()),
    "missing": pl.List(pl.String()),
    "rules": pl.List(pl.String()),
    "rules_undetermined": pl.List(pl.String()),
    "granted": pl.List(pl.String()),
    "buffer": pl.String(),
    "basis": pl.String(),
}


def _pack_parts(
    policy_set: PolicySet, run: Run, result: Result, index: int, exit_pack: str, forms: Sequence[str] = ()
) -> pl.DataFrame:
    """What pack `index` adds to every row (`_PART`), decoded once per distinct set of its values:
    the rows a join then spreads it over differ only in what the parts do not read.  No record
    is read: what a buffer retains is not part of a part (see `_with_retained`).  `forms`: the
    derived fields of an area's item this pack gives (`derived_value`), each with what it lacks
    when missing, as columns ``derived|FORM`` and ``lacks|FORM``."""
    plan = run.plans[index]
    table = result.table
    prefix = f"{index}|"
    mine = [c for c in table.columns if c.startswith(prefix)]
    key = [c for c in mine if not c.startswith(f"{prefix}bu|") and not c.endswith("|sel")]
    grouped = (
        table.lazy()
        .group_by(key, maintain_order=True)
        .agg(pl.col("__row"))
        .with_row_index("__group")
        .collect(engine="in-memory")
    )
    first = grouped["__row"].list.first().to_list()
    decoder = _Decoder(run, Result(table.select(["__row", "__fallback", *mine])[first], result.width))
    nothing = Record(run.record_type, {})  # the status and basis of a buffer read no item
    parts: dict[str, list[Any]] = {name: [] for name in _PART}
    derived: dict[str, list[bool | None]] = {form: [] for form in forms}
    lacks: dict[str, list[tuple[str, ...]]] = {form: [] for form in forms}
    for group in range(len(first)):
        values = decoder.pack_values(index, plan, nothing, group)
        for form in forms:
            derived[form].append(derived_value(values, form))
            lacks[form].append(derived_lacks(values, plan.pack.id) if derived[form][-1] is None else ())
        pack = pack_result_of(values)
        part = row_part(pack, exit_pack=plan.pack.id == exit_pack)
        buffer = buffer_result_of(values, policy_set)
        parts["verdict"].append(pack.verdict)
        parts["failing"].append(list(part.failing))
        parts["undetermined"].append(list(part.undetermined))
        parts["missing"].append(sorted(part.missing | set(buffer_missing(buffer) if buffer else ())))
        parts["rules"].append(list(part.rules))
        parts["rules_undetermined"].append(list(part.rules_undetermined))
        parts["granted"].append(_granted_text(part.granted))
        parts["buffer"].append(buffer.status if buffer is not None else None)
        parts["basis"].append(buffer.basis if buffer is not None else None)
    by_group = _frame_of_parts(parts).with_columns(
        *(pl.Series(f"derived|{form}", derived[form], dtype=pl.Boolean()) for form in forms),
        *(_joined_texts(f"lacks|{form}", lacks[form]) for form in forms),
    )
    group_of = (
        grouped.lazy().select("__group", "__row").explode("__row").sort("__row").collect(engine="in-memory")
    )
    return by_group[group_of["__group"]]


_JOIN = "\x1e"  # between the texts of a list while a part's lists are built as one text each


def _text_lists(name: str, values: Sequence[Sequence[str]]) -> pl.Series:
    """A column of lists of texts, each list passed as one text and split by Polars (a list of
    lists is slow to build element by element)."""
    if not values or any(_JOIN in text for texts in values for text in texts):
        return pl.Series(name, [list(v) for v in values], dtype=pl.List(pl.String()))
    joined = pl.Series(name, [_JOIN.join(v) if v else None for v in values], dtype=pl.String())
    return joined.str.split(_JOIN).fill_null(pl.lit([], dtype=pl.List(pl.String())))


def _frame_of_parts(parts: Mapping[str, list[Any]]) -> pl.DataFrame:
    """The parts as a frame of `_PART` columns, each list as one text (`_joined_texts`)."""
    return pl.DataFrame(
        [
            _joined_texts(name, parts[name])
            if isinstance(dtype, pl.List)
            else pl.Series(name, parts[name], dtype=dtype)
            for name, dtype in _PART.items()
        ]
    )


def _joined_texts(name: str, values: Sequence[Sequence[str]]) -> pl.Series:
    """A column of lists of texts held as one text each, joined by `_JOIN` (None for an empty
    list): the parts of a row are joined pack by pack with `concat_str`, many times quicker than
    joining lists (`_split`).  The texts are names and amounts of the packs, which never hold the
    joining character (a name is letters, digits and underscores)."""
    if any(_JOIN in text for texts in values for text in texts):
        raise ColumnarError("a pack's name or amount holds a control character the runner joins lists with")
    return pl.Series(name, [_JOIN.join(v) if v else None for v in values], dtype=pl.String())


def _split(joined: pl.Expr) -> pl.Expr:
    """The lists of texts `joined` (as `concat_str` of `_joined_texts` columns gives them, an
    empty text when every part was empty)."""
    return (
        pl.when(joined != "").then(joined.str.split(_JOIN)).otherwise(pl.lit([], dtype=pl.List(pl.String())))
    )


def _concat(columns: Sequence[str]) -> pl.Expr:
    """The `_joined_texts` columns of one row joined into one."""
    return pl.concat_str([pl.col(c) for c in columns], separator=_JOIN, ignore_nulls=True)


_SHORT_AMOUNT = Decimal(10) ** 8
"""Below this, a money amount held with two places shows as the amount as written (`show_value`
shortens only numbers of more than ten digits)."""


def _may_lapse(policy_set: PolicySet, measure: str, as_of: dt.date) -> bool:
    declared = measure_declared(policy_set, measure, as_of)
    return declared is not None and measure in declared[0].lapses


def _with_retained(
    policy_set: PolicySet,
    run: Run,
    result: Result,
    frames: Frames,
    index: int,
    frame: pl.DataFrame,
    granted: pl.Series,
    basis: pl.Series,
    record_of: Callable[[int], Record],
) -> pl.DataFrame:  # granted: each row's grants as one text (`_concat`)
    """`frame` with the support of each row whose buffer is active and retains history items:
    what the rules grant merged with what is retained (`support_from`), computed once per
    distinct grant and retained items from the item frame's measure and amount (the amount each
    item is kept at worked out once per distinct basis, measure and amount).  A row whose items
    the columns cannot show as a record would (a list inside a nested record, an amount of more
    than ten digits) is decoded from its record."""
    table = result.table
    plan = run.plans[index]
    assert plan.buffer is not None
    path = plan.buffer[0].source.path
    sel = table[f"{index}|br|sel"].fill_null(0)
    active = (sel != 0) & (frame["buffer"] == "active").fill_null(False)
    rows = active.arg_true()
    if rows.len() == 0:
        return frame
    items = frames.items.get(path)
    bases = {b.id: b for b in (plan.pack.pack.buffer.bases if plan.pack.pack.buffer else ())}
    combine = plan.pack.pack.buffer.combine.amount if plan.pack.pack.buffer else None
    owners = pl.DataFrame(
        {
            "__row": rows.cast(pl.UInt32),
            "__sel": sel.gather(rows),
            "__basis": basis.gather(rows),
            "__granted": granted.gather(rows),
        }
    ).with_columns(_split(pl.col("__granted")).alias("__grant"))
    lacking: dict[int, set[str]] = {}  # what would settle whether a kept item has lapsed, by row
    if len(path) != 1 or items is None:
        keyed = owners.select("__row", "__granted", pl.lit(None, pl.List(pl.String())).alias("__kept"))
        odd = set(rows.to_list())
    else:
        picked = (
            items.lazy()
            .select(
                "__row",
                "__idx",
                "__bit",
                (pl.col("measure") if "measure" in items.columns else pl.lit(None, pl.String()))
                .fill_null("?")
                .alias("__measure"),
                pl.col("amount")
                if "amount" in items.columns
                else pl.lit(None, pl.Decimal(38, 2)).alias("amount"),
                (pl.col("end") if "end" in items.columns else pl.lit(None, pl.Date())).alias("__end"),
            )
            .join(owners.lazy(), on="__row", how="inner")
            .filter((pl.col("__sel").cast(pl.UInt64) & pl.col("__bit")) != 0)
            # an item whose own period has ended before the day is not kept (as `buffer_result_of`)
            .filter(pl.col("__end").is_null() | (pl.col("__end") >= run.as_of))
            .drop("__end")
            .collect(engine="in-memory")
        )
        odd_items = (~pl.col("__basis").is_in(list(bases))).fill_null(True) | (
            pl.col("amount").abs() >= _SHORT_AMOUNT
        ).fill_null(False)
        odd = set(picked.filter(odd_items)["__row"].unique().to_list())
        picked = picked.filter(~pl.col("__row").is_in(list(odd)))
        # a measure that may lapse (`lapses_when`): its condition is read on the record, once per
        # record and measure; a lapsed item ends, an undetermined one stays and says what it lacks
        measures = picked["__measure"].unique().to_list()
        lapsing = [m for m in measures if _may_lapse(policy_set, m, run.as_of)]
        if lapsing:
            ended: list[tuple[int, str]] = []
            for row, measure in (
                picked.filter(pl.col("__measure").is_in(lapsing))
                .select("__row", "__measure")
                .unique(maintain_order=True)
                .iter_rows()
            ):
                value = lapse_of(policy_set, measure, record_of(row), run.as_of)
                if value is True:
                    ended.append((row, measure))
                elif value is not None and value is not False:
                    lacking.setdefault(row, set()).update(settle_of(value))
            if ended:
                gone = pl.DataFrame(
                    {"__row": [r for r, _ in ended], "__measure": [m for _, m in ended]},
                    schema={"__row": pl.UInt32, "__measure": pl.String()},
                )
                picked = picked.join(gone, on=["__row", "__measure"], how="anti")
        # the amount each item is kept at, once per distinct basis, measure and amount
        distinct = picked.select("__basis", "__measure", "amount").unique(maintain_order=True)
        shown = []
        for basis_id, measure, amount in distinct.iter_rows():
            item = Record("", {"measure": measure, **({"amount": amount} if amount is not None else {})})
            shown.append(retained_amount(item, bases[basis_id], run.as_of, policy_set) or "")
        amounts = distinct.with_columns(pl.Series("__amount", shown, dtype=pl.String()))
        picked = picked.join(amounts, on=["__basis", "__measure", "amount"], how="left", nulls_equal=True)
        # an item's path only orders two items of one measure and basis: left out of the key
        # when no two of a row share a measure and no rule shares the basis's name, so rows
        # share results
        rules = pl.col("__grant").list.eval(pl.element().str.split(_SEP).list.get(2))
        plain = (
            pl.col("__measure").n_unique().over("__row") == pl.len().over("__row")
        ) & ~rules.list.contains(pl.col("__basis"))
        where = pl.when(plain).then(pl.lit("")).otherwise(pl.format(f"{path[0]}[{{}}]", pl.col("__idx")))
        kept = (
            picked.sort("__row", "__idx")
            .with_columns(
                pl.concat_str(["__measure", "__amount", "__basis", where], separator=_SEP).alias("__text")
            )
            .group_by("__row", maintain_order=True)
            .agg(pl.col("__text").alias("__kept"))
        )
        keyed = owners.select("__row", "__granted").join(kept, on="__row", how="left", maintain_order="left")
    keyed = keyed.filter(~pl.col("__row").is_in(list(odd)))
    # rows seldom share their retained items, often their grants: each grant read once
    supports: list[list[str]] = []
    grants: dict[str, dict[str, tuple[str, str | None, str]]] = {}
    for grant, kept_texts in keyed.select("__granted", "__kept").iter_rows():
        base = grants.get(grant)
        if base is None:
            base = grants[grant] = support_granted(_parse_granted(g) for g in grant.split(_JOIN) if g)
        retained_items = []
        for text in kept_texts or ():
            measure, amount, basis_id, where_text = text.split(_SEP)
            retained_items.append((measure, amount or None, basis_id, where_text))
        supports.append(support_texts(support_kept(base, retained_items, combine)))
    updates = pl.DataFrame(
        [
            keyed["__row"].alias("__r"),
            _text_lists("__support", supports),
            _text_lists("__missing", [sorted(lacking.get(r, ())) for r in keyed["__row"].to_list()]),
        ]
    )
    if odd:
        odd_supports = []
        odd_missing = []  # what would settle whether a retained item has lapsed
        for row in sorted(odd):
            buffer = buffer_result_of(
                _Decoder(run, Result(table[[row]], result.width)).pack_values(index, plan, record_of(row), 0),
                policy_set,
            )
            retained = [(r.measure, r.amount, r.basis, r.path) for r in buffer.retained] if buffer else []
            grant = granted[row].split(_JOIN) if granted[row] else []
            combine_of = buffer.combine if buffer else None
            odd_supports.append(
                support_texts(support_from([_parse_granted(g) for g in grant], retained, combine_of))
            )
            odd_missing.append(list(buffer_missing(buffer)) if buffer else [])
        updates = pl.concat(
            [
                updates,
                pl.DataFrame(
                    [
                        pl.Series("__r", sorted(odd), dtype=pl.UInt32),
                        _text_lists("__support", odd_supports),
                        _text_lists("__missing", odd_missing),
                    ]
                ),
            ]
        )
    return (
        frame.with_row_index("__r")
        .join(updates, on="__r", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("__support", "support").alias("support"),
            pl.when(pl.col("__missing").list.len() > 0)
            .then(pl.concat_list("missing", "__missing").list.unique().list.sort())
            .otherwise(pl.col("missing"))
            .alias("missing"),
        )
        .drop("__r", "__support", "__missing")
    )


def _kept(column: str, names: Iterable[str], name_of: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`column` (a list of texts) holding only the items whose name is among `names`."""
    wanted = sorted(set(names))
    if not wanted:
        return pl.lit([], dtype=pl.List(pl.String())).alias(column)
    return pl.col(column).list.eval(pl.element().filter(name_of(pl.element()).is_in(wanted))).alias(column)


def _with_findings(checks: Checks | None, frame: pl.DataFrame, exit_pack: str) -> pl.DataFrame:
    """`frame` with its `findings` column: the invariants each row violates and the exclusive
    groups it breaks, worked out once per distinct outcome as far as the checks read it (the
    rules, criteria, measures and verdicts they name — rows share those heavily)."""
    if checks is None:
        return frame.with_columns(pl.lit([], dtype=pl.List(pl.String())).alias("findings"))
    read = {
        func: {n for f, n in checks.reads if f == func}
        for func in ("rule", "criterion", "granted", "verdict")
    }
    rules = read["rule"] | {r for _pack, group in checks.exclusive for r in group}

    def rule_of(text: pl.Expr) -> pl.Expr:
        return text.str.replace(r"^[^:]*:", "")

    def measure_of(text: pl.Expr) -> pl.Expr:  # `measure=amount (why)`: the measure
        return text.str.replace(r"=.*$", "")

    struct = frame.schema.get("packs")
    keys = [f.name for f in struct.fields] if isinstance(struct, pl.Struct) else []
    verdicts = [k for k in keys if k.rpartition("@")[0] in read["verdict"]]
    reduced = frame.select(
        pl.col("verdict"),
        _kept("failing", read["criterion"], lambda e: e),
        _kept("undetermined", read["criterion"], lambda e: e),
        _kept("rules", rules, rule_of),
        _kept("rules_undetermined", rules, rule_of),
        _kept("support", read["granted"], measure_of),
        (pl.struct([pl.col("packs").struct.field(k) for k in verdicts]) if verdicts else pl.lit(None)).alias(
            "packs"
        ),
    )
    columns = ("failing", "undetermined", "rules", "rules_undetermined", "support")
    key = pl.concat_str(
        [
            pl.col("verdict").fill_null("\x00"),
            *(pl.col(c).list.join(_JOIN).fill_null("\x00") for c in columns),
            pl.col("packs").struct.json_encode().fill_null("\x00") if verdicts else pl.lit(""),
        ],
        separator=_SEP,
    ).alias("__key")
    keyed = reduced.with_columns(key)
    distinct = keyed.unique(subset="__key", maintain_order=True)
    found = [
        list(findings_of(checks, view_of_row(checks, row, exit_pack), row["rules"] or ()))
        for row in distinct.drop("__key").iter_rows(named=True)
    ]
    table = pl.DataFrame([distinct["__key"], _text_lists("findings", found)])
    joined = keyed.select("__key").join(table, on="__key", how="left", maintain_order="left")
    return frame.with_columns(joined["findings"])


def decide_frame(
    policy_set: PolicySet,
    records: Sequence[Record],
    as_of: dt.date,
    *,
    exit_pack: str,
    derive: Sequence[tuple[str, str]] = (),
) -> tuple[pl.DataFrame, RunReport]:
    """One row per record with the columns of `Outcome.to_row()` (typed: `table_schema`), in the
    records' order; and what was decided record by record instead (see `decide_frames`)."""
    record_type = _one_type(records) if records else "household"
    run = plan_run(policy_set, record_type, as_of)
    if not records:
        schema = {**table_schema([p.key for p in run.packs]), **derived_schema(derive)}
        return pl.DataFrame(schema=schema), RunReport(0, run.fallback_packs, 0)
    spec = policy_set.schema.records.get(record_type)
    id_key = spec.key if spec is not None and spec.key is not None else "id"
    ids = pl.Series("id", [str(r.get(id_key, "?")) for r in records], dtype=pl.String())
    return decide_frames(
        policy_set, run, run.frames(records), ids, records.__getitem__, exit_pack=exit_pack, derive=derive
    )


def decide_frames(
    policy_set: PolicySet,
    run: Run,
    frames: Frames,
    ids: pl.Series,
    record_of: Callable[[int], Record],
    *,
    exit_pack: str,
    derive: Sequence[tuple[str, str]] = (),
) -> tuple[pl.DataFrame, RunReport]:
    """One row per row of `frames` (their records' `ids`), as `decide_frame` gives it; and for
    each ``(pack, form)`` of `derive` the derived field of an area's item it gives
    (`derived_value`, column `derived_column`) and what that lacks when missing (`lacks_column`).

    Each pack's part of a row (`row_part`) is decoded once per distinct set of that pack's
    values and spread over the rows that have it; the parts are joined by columns as
    `Outcome.to_row` joins them.  A record is read (`record_of` its row) only where a row is
    decided whole, record by record — when the record did not fit the columns, and every row
    when a pack did not lower — and for the rare retained items the columns cannot show."""
    as_of = run.as_of
    schema = {**table_schema([p.key for p in run.packs]), **derived_schema(derive)}
    n = frames.height
    if not n:
        return pl.DataFrame(schema=schema), RunReport(0, run.fallback_packs, 0)
    started = time.perf_counter()
    result = run.table(frames)
    table = result.table
    buffer_index = next(
        (i for i, p in sorted(enumerate(run.plans), key=lambda x: x[1].pack.id) if p.buffer is not None), None
    )
    per_record = bool(run.fallback_packs) or not run.plans
    own = pl.lit(True) if per_record else pl.col("__fallback")
    whole = table.select(own.alias("own"))["own"].to_list()
    parts = {
        i: _pack_parts(
            policy_set, run, result, i, exit_pack, [form for pack, form in derive if pack == plan.pack.id]
        )
        for i, plan in enumerate(run.plans)
        if not per_record
    }
    if parts:
        exit_index = next((i for i, p in enumerate(run.plans) if p.pack.id == exit_pack), None)
        columns: dict[str, pl.Series] = {
            "id": ids,
            "as_of": pl.Series("as_of", [as_of] * n, dtype=pl.Date()),
        }
        frame = pl.DataFrame(columns)
        part_cols = {f"{name}{i}": part[name] for i, part in parts.items() for name in part.columns}
        frame = frame.with_columns(**part_cols)
        basis_column = frame[f"basis{buffer_index}"] if buffer_index is not None else None
        ordered = sorted(parts)
        empty = pl.lit([], dtype=pl.List(pl.String()))
        until: pl.Expr = pl.lit(None, dtype=pl.Date())
        buffer: pl.Expr = pl.lit(None, dtype=pl.String())
        if buffer_index is not None:
            buffer = pl.col(f"buffer{buffer_index}")
            plan = run.plans[buffer_index]
            assert plan.buffer is not None
            for basis in plan.buffer[2]:
                day = table[f"{buffer_index}|bu|{basis}"]
                chosen = (buffer == "active") & (pl.col(f"basis{buffer_index}") == basis)
                until = pl.when(chosen).then(pl.lit(day)).otherwise(until)

        def joined(name: str) -> pl.Expr:
            return _split(_concat([f"{name}{i}" for i in ordered]))

        def of_exit(name: str) -> pl.Expr:
            return _split(pl.col(f"{name}{exit_index}").fill_null("")) if exit_index is not None else empty

        frame = frame.select(
            "id",
            "as_of",
            (pl.col(f"verdict{exit_index}") if exit_index is not None else pl.lit(None, pl.String())).alias(
                "verdict"
            ),
            of_exit("failing").alias("failing"),
            of_exit("undetermined").alias("undetermined"),
            joined("missing").list.unique().list.sort().alias("missing"),
            joined("rules").alias("rules"),
            joined("rules_undetermined").alias("rules_undetermined"),
            _concat([f"granted{i}" for i in ordered]).alias("support"),
            buffer.alias("buffer"),
            until.cast(pl.Date()).alias("buffer_until"),
            pl.struct([pl.col(f"verdict{i}").alias(run.plans[i].pack.key) for i in ordered]).alias("packs"),
            *_derived_columns(run, derive),
        )
        granted = frame["support"]
        distinct = frame.select(pl.col("support").unique(maintain_order=True))["support"]
        support = pl.DataFrame(
            [
                distinct,
                _text_lists(
                    "__support", [_support_of(g.split(_JOIN) if g else []) for g in distinct.to_list()]
                ),
            ]
        )
        frame = (
            frame.join(support, on="support", how="left", maintain_order="left", nulls_equal=True)
            .with_columns(pl.col("__support").alias("support"))
            .drop("__support")
        )
        if buffer_index is not None:
            assert basis_column is not None
            frame = _with_retained(
                policy_set, run, result, frames, buffer_index, frame, granted, basis_column, record_of
            )
        frame = _with_findings(checks_for(policy_set, run.record_type, as_of), frame, exit_pack)
    else:
        frame = pl.DataFrame(schema=schema)
    replaced: list[int] = [row for row, w in enumerate(whole) if w]
    if replaced:
        rows = table[replaced]
        decoder = _Decoder(run, Result(rows, result.width))
        fallback = decoder.columns["__fallback"]
        outcomes = [
            decide_outcome(policy_set, record_of(row), as_of, exit_pack=exit_pack)
            if fallback[i]
            else _outcome(policy_set, run, decoder, record_of(row), i, exit_pack=exit_pack)
            for i, row in enumerate(replaced)
        ]
        rows_out = [_typed_row(o.to_row()) for o in outcomes]
        if derive:
            for i, row in enumerate(replaced):
                rows_out[i].update(_derived_of_record(run, record_of(row), derive))
        decided = pl.DataFrame(rows_out, schema=schema)
        if frame.height:
            keep = pl.Series([not w for w in whole], dtype=pl.Boolean())
            frame = (
                pl.concat(
                    [
                        frame.with_row_index("__row").filter(keep).select(["__row", *schema]),
                        decided.with_columns(pl.Series("__row", replaced, dtype=pl.UInt32)).select(
                            ["__row", *schema]
                        ),
                    ]
                )
                .sort("__row")
                .drop("__row")
            )
        else:
            frame = decided
    report = RunReport(n, run.fallback_packs, sum(1 for f in table["__fallback"].to_list() if f))
    frame = frame.select(list(schema))
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "decided %d %s records by columns as of %s: %s; %d of %d packs lowered, %d records "
            "decided one by one; %.3f s",
            n,
            run.record_type,
            as_of,
            counts_text(verdict_counts(frame)),
            len(run.plans) - len(run.fallback_packs),
            len(run.plans),
            len(replaced),
            time.perf_counter() - started,
        )
    return frame, report


def verdict_counts(frame: pl.DataFrame) -> dict[str, int]:
    """How many rows of an outcome table have each verdict (``none``: no exit pack decided),
    in verdict order."""
    if "verdict" not in frame.columns or not frame.height:
        return {}
    counts = frame.select(pl.col("verdict").fill_null("none").value_counts(sort=False)).unnest("verdict")
    return dict(sorted(zip(counts["verdict"].to_list(), counts["count"].to_list(), strict=True)))


def counts_text(counts: Mapping[str, int]) -> str:
    """Counts for a log line: ``pass 3, fail 1``."""
    return ", ".join(f"{verdict} {count}" for verdict, count in counts.items()) or "no verdicts"


def derived_column(pack: str, form: str) -> str:
    """The column of `decide_frames` holding the derived field ``{form: pack}`` of each row."""
    return f"derived|{pack}|{form}"


def lacks_column(pack: str, form: str) -> str:
    """The column of `decide_frames` holding what `derived_column` lacks when it is missing."""
    return f"lacks|{pack}|{form}"


def derived_schema(derive: Sequence[tuple[str, str]]) -> dict[str, pl.DataType]:
    """The columns `derive` adds to a decided table, typed."""
    out: dict[str, pl.DataType] = {}
    for pack, form in derive:
        out[derived_column(pack, form)] = pl.Boolean()
        out[lacks_column(pack, form)] = pl.List(pl.String())
    return out


def _derived_columns(run: Run, derive: Sequence[tuple[str, str]]) -> list[pl.Expr]:
    """The derived fields from the packs' parts (a pack that is not in the run: missing, lacking
    the pack, as `derived_lacks` says)."""
    exprs: list[pl.Expr] = []
    for pack, form in derive:
        index = next((i for i, p in enumerate(run.plans) if p.pack.id == pack), None)
        if index is None:
            exprs.append(pl.lit(None, pl.Boolean()).alias(derived_column(pack, form)))
            exprs.append(pl.lit([f"pack:{pack}"], pl.List(pl.String())).alias(lacks_column(pack, form)))
            continue
        exprs.append(pl.col(f"derived|{form}{index}").alias(derived_column(pack, form)))
        exprs.append(_split(pl.col(f"lacks|{form}{index}").fill_null("")).alias(lacks_column(pack, form)))
    return exprs


def _derived_of_record(run: Run, record: Record, derive: Sequence[tuple[str, str]]) -> dict[str, object]:
    """The derived fields of one record decided whole, by the per-record evaluator."""
    out: dict[str, object] = {}
    by_id = {p.id: p for p in run.packs}
    for pack, form in derive:
        checked = by_id.get(pack)
        values = lower(checked, run.as_of).run(record) if checked is not None else None
        value = derived_value(values, form)
        out[derived_column(pack, form)] = value
        out[lacks_column(pack, form)] = list(derived_lacks(values, pack)) if value is None else []
    return out


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
    decoder = _Decoder(run, run.table(run.frames(records)))
    fallback = decoder.columns["__fallback"]
    out = [
        lower(pack, as_of).run(record) if fallback[row] else decoder.pack_values(0, plan, record, row)
        for row, record in enumerate(records)
    ]
    return out, None, sum(1 for f in fallback if f)


def chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
