"""The statistics packs' indicators lowered into columns: the figures of a block of households
computed from the runner's frames and outcome table, as `gspolicy.stats.figures` computes them
record by record (the reference; a differential test holds the two equal, cell for cell and id
for id).

Every expression of an indicator — its figure, `where`, `dated_by`, `held` — and every declared
group key is lowered by the columnar planner (`plan_expressions`) into the nodes the runner
computes, over the subject frame and the items of its lists.  What the outcome functions read
(``rule("id")``, ``criterion("id")``, ``granted("m")``, ``verdict()``, ``buffer()``) becomes a
column of the subject frame, worked out once per distinct outcome by the function invariants use
(`view_of_row`).  A household's batches and measures (the built-in keys) come from its outcome —
the batch packs a rule of which holds, the measures it gets now — or, with ``held``, from the
items held and the batch packs declaring their measures.  A figure or `where` that reads the
row's ``by_batch`` or ``by_measure`` runs over frames of one row per household and key value
(`_exploded`: the household's items repeated with each), the value a column.

No silent difference: a pack with something the planner does not lower is named (`Lowered.
fallback`) and its figures are computed record by record by the caller; a household the columns
cannot hold exactly (the runner's ``__fallback``) goes to the reference too (`BlockFigures.aside`).

A block gives, per indicator, its contributions (group keys, household number, value), which
`gspolicy.stats.tally` gathers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from gspolicy.columnar.frames import Columns, Frames, columns_of
from gspolicy.columnar.plan import Keys, ListValue, PackPlan
from gspolicy.columnar.plan_named import plan_expressions
from gspolicy.columnar.polars_backend import run_plans
from gspolicy.columnar.texts import GRANTED_SEP, LIST_JOIN
from gspolicy.engine.invariants import Checks, checks_reading, view_of_row
from gspolicy.lang.typed import TParam, TypedExpr, typed_children
from gspolicy.lang.values import Unknown
from gspolicy.pack.model import Indicator
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import KEY_NAMES, CheckedIndicator, CheckedPack
from gspolicy.stats.quarter import Quarter

__all__ = ["BlockFigures", "Lowered", "block_figures", "lower_statistics"]

_KEY_KINDS = ("text", "date", "bool")


class _Skip(Exception):
    """A pack that does not lower: the message says why."""


def _outcome_column(func: str, name: str) -> str:
    return f"__o|{func}|{name}"


def _params_read(node: TypedExpr) -> set[str]:
    found = {node.name} if isinstance(node, TParam) and node.name in KEY_NAMES.values() else set()
    for child in typed_children(node):
        found |= _params_read(child)
    return found


@attrs.frozen
class _Indicator:
    """One indicator lowered: the columns of its figure and `where` — in the households' run, or,
    when they read a built-in key's row value, in a run of its own over one row per household and
    key value (`plan`) — and of its date and held items in the households' run."""

    pack: CheckedPack
    indicator: Indicator
    typed: CheckedIndicator
    fixed: tuple[str, ...]  # the declared keys of `by`
    built_in: tuple[str, ...]  # ``batch`` / ``measure`` in `by`, in order
    figure: str
    where: str | None
    dated_by: str | None
    held: str | None  # the held list's column (value: known; ``|sel``: the items)
    plan: PackPlan | None = None  # the figure and `where` per household and key value
    reads: Columns | None = None  # the columns `plan` reads
    held_list: tuple[str, ...] = ()  # the list `held` reads, and the items' measure field
    held_measure: str = ""


@attrs.frozen
class Lowered:
    """The statistics packs in force on a quarter's last day, lowered for one subject type: the
    plans the runner computes, the columns they read, and the packs that did not lower (with
    why), whose figures are computed record by record."""

    subject: str
    quarter: Quarter
    packs: tuple[CheckedPack, ...]
    indicators: tuple[_Indicator, ...]
    plans: tuple[PackPlan, ...]
    keys: Keys
    columns: Columns
    checks: Checks
    key_columns: Mapping[str, Mapping[str, tuple[str, str]]]  # pack key → key → (column, kind)
    batches: tuple[str, ...]  # the batch packs in force, in order
    batch_measures: Mapping[str, frozenset[str]]
    fallback: tuple[tuple[str, str], ...]  # (pack key, why) computed record by record

    @property
    def lowered_packs(self) -> tuple[str, ...]:
        """The keys of the packs whose figures are computed by columns."""
        out = {p.key for p in self.packs} - {k for k, _why in self.fallback}
        return tuple(p.key for p in self.packs if p.key in out)


def _key_text(column: str, kind: str) -> pl.Expr:
    """A declared key's value as the figures' cells name it (`figures.key_text`)."""
    col = pl.col(column)
    if kind == "date":
        return col.dt.to_string("%Y-%m-%d").fill_null("")
    if kind == "bool":
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")).otherwise(pl.lit(""))
    return col.cast(pl.String).fill_null("")


def _bound_column(key: str) -> str:
    return f"__k|{key}"


def lower_statistics(
    policy_set: PolicySet, subject: str, quarter: Quarter, packs: Sequence[CheckedPack]
) -> Lowered:
    """The statistics `packs` (in force on `quarter`'s last day, on `subject`) lowered."""
    as_of = quarter.last
    keys = Keys()
    in_force = [p for p in policy_set.all_in_force(as_of) if p.subject == subject]
    batch_packs = [p for p in in_force if p.kind == "batch"]
    exprs: list[TypedExpr] = []
    for pack in packs:
        for typed in pack.indicators.values():
            exprs += [e for e in (typed.figure, typed.where, typed.dated_by, typed.held) if e is not None]
    checks = checks_reading(policy_set, subject, as_of, exprs)
    plans: list[PackPlan] = []
    own: list[PackPlan] = []
    indicators: list[_Indicator] = []
    fallback: list[tuple[str, str]] = []
    key_columns: dict[str, dict[str, tuple[str, str]]] = {}
    extra: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for pack in packs:
        at = len(plans)
        found: list[_Indicator] = []
        mine: list[PackPlan] = []
        try:
            base: dict[str, TypedExpr] = {f"k|{k}": t for k, t in pack.keys.items()}
            for indicator in pack.pack.indicators:
                typed = pack.indicators[indicator.id]
                tag = indicator.id
                read = _params_read(typed.figure) | (_params_read(typed.where) if typed.where else set())
                if not read:
                    base[f"f|{tag}"] = typed.figure
                    if typed.where is not None:
                        base[f"w|{tag}"] = typed.where
                if typed.dated_by is not None:
                    base[f"d|{tag}"] = typed.dated_by
                if typed.held is not None:
                    base[f"h|{tag}"] = typed.held
            plan = plan_expressions(pack, as_of, keys, base, outcome=_outcome_column)
            if plan.fallback is not None:
                raise _Skip(plan.fallback)
            kinds = {k: str(getattr(plan.rules[f"k|{k}"], "kind", "")) for k in pack.keys}
            if any(kind not in _KEY_KINDS for kind in kinds.values()):
                raise _Skip("a group key that is not a text, a date or a truth value")
            for indicator in pack.pack.indicators:
                typed = pack.indicators[indicator.id]
                tag = indicator.id
                built_in = tuple(k for k in indicator.by if k in KEY_NAMES)
                separate: PackPlan | None = None
                if f"f|{tag}" not in plan.rules:  # reads `by_batch` or `by_measure`
                    named: dict[str, TypedExpr] = {"f": typed.figure}
                    if typed.where is not None:
                        named["w"] = typed.where
                    bound = {KEY_NAMES[k]: _bound_column(k) for k in built_in}
                    separate = plan_expressions(
                        pack, as_of, keys, named, bound=bound, outcome=_outcome_column
                    )
                    if separate.fallback is not None:
                        raise _Skip(separate.fallback)
                    mine.append(separate)
                    figure, where = "0|r|f", "0|r|w" if typed.where is not None else None
                else:
                    figure = f"{at}|r|f|{tag}"
                    where = f"{at}|r|w|{tag}" if typed.where is not None else None
                held = f"{at}|r|h|{tag}" if typed.held is not None else None
                held_list: tuple[str, ...] = ()
                if held is not None:
                    node = plan.rules[f"h|{tag}"]
                    if not isinstance(node, ListValue) or not typed.held_measure:
                        raise _Skip("`held` that is not a list of the subject held on a day")
                    held_list = node.source.path
                    extra.setdefault(held_list, set()).add((typed.held_measure,))
                found.append(
                    _Indicator(
                        pack,
                        indicator,
                        typed,
                        tuple(k for k in indicator.by if k not in KEY_NAMES),
                        built_in,
                        figure,
                        where,
                        f"{at}|r|d|{tag}" if typed.dated_by is not None else None,
                        held,
                        separate,
                        columns_of([separate]) if separate is not None else None,
                        held_list,
                        typed.held_measure or "",
                    )
                )
        except _Skip as why:
            fallback.append((pack.key, str(why)))
            continue
        plans.append(plan)
        own.extend(mine)
        indicators.extend(found)
        key_columns[pack.key] = {k: (f"{at}|r|k|{k}", kinds[k]) for k in pack.keys}
    reads = columns_of([*plans, *own])
    lists = {k: set(v) for k, v in reads.lists.items()}
    for path, items in extra.items():
        lists.setdefault(path, set()).update(items)
    columns = Columns(
        frozenset(p for p in reads.subject if not p[0].startswith(("__o|", "__k|"))),
        {k: frozenset(v) for k, v in lists.items()},
    )
    return Lowered(
        subject,
        quarter,
        tuple(packs),
        tuple(indicators),
        tuple(plans),
        keys,
        columns,
        checks,
        key_columns,
        tuple(p.id for p in batch_packs),
        {p.id: frozenset(p.pack.measures) for p in batch_packs},
        tuple(fallback),
    )


# -- a block ---------------------------------------------------------------------------------------


def _outcome_values(lowered: Lowered, outcome: pl.DataFrame, exit_pack: str) -> list[pl.Series]:
    """A column per outcome function the indicators read (`_outcome_column`), worked out once
    per distinct outcome as far as they read it (`view_of_row`); null where it is unknown."""
    reads = sorted(lowered.checks.reads)
    if not reads or not outcome.height:
        return [pl.Series(_outcome_column(f, n), [None] * outcome.height) for f, n in reads]
    read = {func: sorted({n for f, n in reads if f == func}) for func in ("rule", "criterion", "granted")}
    verdicts = {n for f, n in reads if f == "verdict" and n}

    def kept(column: str, names: Sequence[str], pattern: str | None) -> pl.Expr:
        if not names:
            return pl.lit([], dtype=pl.List(pl.String())).alias(column)
        element = pl.element() if pattern is None else pl.element().str.replace(pattern, "")
        return pl.col(column).list.eval(pl.element().filter(element.is_in(names))).alias(column)

    struct = outcome.schema.get("packs")
    fields = [f.name for f in struct.fields] if isinstance(struct, pl.Struct) else []
    chosen = [k for k in fields if k.rpartition("@")[0] in verdicts]
    reduced = outcome.select(
        pl.col("verdict"),
        pl.col("buffer"),
        kept("failing", read["criterion"], None),
        kept("undetermined", read["criterion"], None),
        kept("rules", read["rule"], r"^[^:]*:"),
        kept("rules_undetermined", read["rule"], r"^[^:]*:"),
        kept("support", read["granted"], r"=.*$"),
        (pl.struct([pl.col("packs").struct.field(k) for k in chosen]) if chosen else pl.lit(None)).alias(
            "packs"
        ),
    )
    lists = ("failing", "undetermined", "rules", "rules_undetermined", "support")
    key = pl.concat_str(
        [
            pl.col("verdict").fill_null("\x00"),
            pl.col("buffer").fill_null("\x00"),
            *(pl.col(c).list.join(LIST_JOIN).fill_null("\x00") for c in lists),
            pl.col("packs").struct.json_encode().fill_null("\x00") if chosen else pl.lit(""),
        ],
        separator=GRANTED_SEP,
    ).alias("__key")
    keyed = reduced.with_columns(key)
    distinct = keyed.unique(subset="__key", maintain_order=True)
    found: dict[tuple[str, str], list[Any]] = {r: [] for r in reads}
    for row in distinct.drop("__key").iter_rows(named=True):
        view = view_of_row(lowered.checks, row, exit_pack)
        for r in reads:
            value = view.get(r)
            found[r].append(None if value is None or isinstance(value, Unknown) else value)
    table = pl.DataFrame(
        [
            distinct["__key"],
            *(
                pl.Series(
                    _outcome_column(*r),
                    found[r],
                    dtype=pl.String() if r[0] in ("verdict", "buffer") else pl.Boolean(),
                )
                for r in reads
            ),
        ]
    )
    joined = keyed.select("__key").join(table, on="__key", how="left", maintain_order="left")
    return [joined[_outcome_column(*r)] for r in reads]


@attrs.define
class BlockFigures:
    """One part of a block computed by columns: per lowered indicator, its contributions (the
    group keys, the household's number ``__g`` and its value ``__v``) and the households
    undetermined; `aside`: the places of the households left to the reference; `keys`: the
    declared keys' values met (pack key → key → values)."""

    contributions: list[pl.DataFrame]
    undetermined: list[pl.Series]
    aside: list[int]
    keys: dict[str, set[str]]


def _memberships_of_outcome(lowered: Lowered, table: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(row, batch) for the batch packs of which a rule holds (``pack:rule`` in ``rules``);
    (row, measure) for the measures a household gets now (``measure=amount (why)`` in
    ``support``).  A row's rules are distinct, and so are its measures but for a measure
    granted twice."""
    batches = (
        table.select("__row", pl.col("__rules").alias("batch"))
        .explode("batch")
        .with_columns(pl.col("batch").str.split_exact(":", 1).struct.field("field_0").alias("batch"))
        .filter(pl.col("batch").is_in(list(lowered.batches)))
        .unique()
    )
    measures = (
        table.select("__row", pl.col("__support").alias("measure"))
        .explode("measure")
        .with_columns(pl.col("measure").str.split_exact("=", 1).struct.field("field_0").alias("measure"))
        .filter(pl.col("measure").is_not_null())
        .unique()
    )
    return batches, measures


def _memberships_held(
    lowered: Lowered, ind: _Indicator, table: pl.DataFrame, frames: Frames
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(row, batch) and (row, measure) read from the items `held` gives: their measures, and the
    batch packs in force declaring one of them."""
    assert ind.held is not None
    items = frames.items[ind.held_list]
    measure = ".".join((ind.held_measure,))
    sel = table.select("__row", pl.col(f"{ind.held}|sel").alias("__sel"))
    measures = (
        items.select("__row", "__bit", pl.col(measure).cast(pl.String).alias("measure"))
        .join(sel, on="__row", how="inner")
        .filter(((pl.col("__sel") & pl.col("__bit")) != 0) & pl.col("measure").is_not_null())
        .select("__row", "measure")
        .unique(maintain_order=True)
    )
    mapping = pl.DataFrame(
        [(m, b) for b in lowered.batches for m in sorted(lowered.batch_measures[b])],
        schema={"measure": pl.String(), "batch": pl.String()},
        orient="row",
    )
    batches = (
        measures.join(mapping, on="measure", how="inner").select("__row", "batch").unique(maintain_order=True)
    )
    return batches, measures


def _exploded(frames: Frames, member: pl.DataFrame, keys: Sequence[str], reads: Columns) -> Frames:
    """`frames` with one subject row per row of `member` (a household's row and the values of
    the built-in `keys`, as columns `_bound_column`), its items repeated with it; only the
    columns `reads` names (and what every frame has)."""
    subject = [".".join(path) for path in sorted(reads.subject) if not path[0].startswith("__k|")]
    hh = member["__row"]
    subjects = frames.subjects.select("__unfit", *subject)[hh].with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"),
        *(member[k].alias(_bound_column(k)) for k in keys),
    )
    mapping = pl.DataFrame({"__hh": hh, "__new": pl.int_range(hh.len(), eager=True, dtype=pl.UInt32)})
    items = {}
    for path, fields in reads.lists.items():
        frame = frames.items[path]
        wanted = ["__idx", "__bit", *(".".join(f) for f in sorted(fields) if ".".join(f) in frame.columns)]
        items[path] = mapping.join(
            frame.select("__row", *wanted), left_on="__hh", right_on="__row", how="inner"
        ).select(pl.col("__new").alias("__row"), *wanted)
    return Frames(subjects, items)


def _in_quarter(day: pl.Expr, quarter: Quarter) -> pl.Expr:
    """Whether a flow's date falls within the quarter (null when there is none: no event)."""
    return (day >= quarter.first) & (day <= quarter.last)


def block_figures(
    lowered: Lowered,
    outcome: pl.DataFrame,
    frames: Frames,
    rows: pl.Series,
    exit_pack: str,
) -> BlockFigures:
    """The contributions of the households of `frames` (their outcome rows `outcome`, in order;
    their numbers `rows` in the whole run) to every lowered indicator."""
    quarter = lowered.quarter
    subjects = frames.subjects.with_columns(_outcome_values(lowered, outcome, exit_pack))
    frames = Frames(subjects, frames.items)
    result = run_plans(lowered.plans, lowered.keys, frames)
    table = result.table.with_columns(
        rows.alias("__g"),
        outcome["rules"].alias("__rules"),
        outcome["support"].alias("__support"),
    )
    outcome_batches, outcome_measures = _memberships_of_outcome(lowered, table)
    held: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    for ind in lowered.indicators:
        if ind.held is not None and ind.held not in held:
            held[ind.held] = _memberships_held(lowered, ind, table, frames)
    members: list[pl.DataFrame | None] = []
    own: list[pl.DataFrame | None] = []
    aside = table.filter(pl.col("__fallback"))["__row"]
    for ind in lowered.indicators:
        member: pl.DataFrame | None = None
        if ind.built_in:
            batches, measures = (
                held[ind.held] if ind.held is not None else (outcome_batches, outcome_measures)
            )
            for key in ind.built_in:
                one = batches if key == "batch" else measures
                member = one if member is None else member.join(one, on="__row", how="inner")
        members.append(member)
        if ind.plan is None or member is None:
            own.append(None)
            continue
        assert ind.reads is not None
        exploded = _exploded(frames, member, ind.built_in, ind.reads)
        found = run_plans([ind.plan], lowered.keys, exploded).table
        found = pl.concat([member, found.drop("__row")], how="horizontal")
        aside = pl.concat([aside, found.filter(pl.col("__fallback"))["__row"]])
        own.append(found.drop("__fallback"))
    set_aside = sorted(set(aside.to_list()))
    whole = table.lazy()
    if set_aside:
        whole = whole.filter(~pl.col("__row").is_in(set_aside))
    seen: dict[str, set[str]] = {}
    named = [
        (f"{pack_key}\x00{key}", whole.select(_key_text(column, kind).alias("t").unique()))
        for pack_key, key_cols in lowered.key_columns.items()
        for key, (column, kind) in key_cols.items()
    ]
    for (name, _query), texts in zip(
        named, pl.collect_all([q for _n, q in named], engine="in-memory"), strict=True
    ):
        seen.setdefault(name, set()).update(texts["t"].to_list())
    # each indicator's households as a lazy query over the block's table, all run together:
    # each reads only the few columns it needs of a wide table
    contributions_lazy: list[pl.LazyFrame] = []
    lost_lazy: list[list[pl.LazyFrame]] = []
    for ind, member, values in zip(lowered.indicators, members, own, strict=True):
        part = whole
        if ind.dated_by is not None:
            part = part.filter(_in_quarter(pl.col(ind.dated_by), quarter).fill_null(False))
        lost: list[pl.LazyFrame] = []
        if ind.built_in:
            assert member is not None
            if ind.held is not None:
                lost.append(part.filter(pl.col(ind.held).is_null()).select("__g"))
                part = part.filter(pl.col(ind.held).is_not_null())
            if values is not None:  # the figure per household and key value: its own run
                part = values.lazy().join(part.drop(ind.built_in, strict=False), on="__row", how="inner")
            else:
                part = member.lazy().join(part, on="__row", how="inner")
        suffix = "|lo" if ind.indicator.figure == "sum" else ""
        value = pl.col(ind.figure + suffix)
        if ind.where is not None:
            where = pl.col(ind.where)
            lost.append(part.filter(where.is_null()).select("__g"))
            part = part.filter(where.fill_null(False))
        if ind.indicator.figure == "count":
            lost.append(part.filter(value.is_null()).select("__g"))
            part = part.filter(value.fill_null(False)).with_columns(pl.lit(1, pl.Int64).alias("__v"))
        else:
            hi = pl.col(ind.figure + "|hi")
            exact = value.is_not_null() & hi.is_not_null() & (value == hi)
            lost.append(part.filter(~exact).select("__g"))
            part = part.filter(exact).with_columns(value.alias("__v"))
        columns = lowered.key_columns[ind.pack.key]
        fixed = {key: _key_text(*columns[key]) for key in ind.fixed}
        contributions_lazy.append(
            part.select(
                *(fixed[k].alias(k) if k in fixed else pl.col(k) for k in ind.indicator.by), "__g", "__v"
            )
        )
        lost_lazy.append(lost)
    done = pl.collect_all([*contributions_lazy, *(q for lost in lost_lazy for q in lost)], engine="in-memory")
    contributions = done[: len(contributions_lazy)]
    rest = iter(done[len(contributions_lazy) :])
    undetermined: list[pl.Series] = []
    for lost in lost_lazy:
        ids = [next(rest)["__g"] for _ in lost]
        undetermined.append(pl.concat(ids) if ids else pl.Series("__g", [], dtype=pl.Int64()))
    return BlockFigures(contributions, undetermined, set_aside, seen)
