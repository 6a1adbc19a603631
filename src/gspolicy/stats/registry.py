"""A registry's figures: its record files read a block at a time, each household decided as of the
quarter's last day, and the statistics packs' figures computed over them — by columns
(`columnar_figures`: the columnar registry reader and runner, the indicators lowered by
`gspolicy.stats.lowered`), or record by record (`decided_pairs` and the reference `figures`;
`registry_figures(..., by_columns=False)`).

Memory stays flat in the number of households read (a block at a time; `figures` keeps the groups
and the ids behind each cell).  Any problem in the files — a record the schema refuses, an id given
twice, a file that cannot be read — stops the run with every problem found (a `PolicyError`):
figures over part of a registry are never given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from gspolicy.columnar.registry import registry_blocks
from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.lang import Context, evaluate
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.records import stream_records
from gspolicy.stats.figures import Figures, Table, figures, key_text, statistics_in_force
from gspolicy.stats.lowered import block_figures, lower_statistics
from gspolicy.stats.quarter import Quarter
from gspolicy.stats.tally import Tally, merged_figures

__all__ = ["Computed", "columnar_figures", "decided_pairs", "per_record_notes", "registry_figures"]


def decided_pairs(
    policy_set: PolicySet, paths: Sequence[Path], as_of: dt.date, *, encoding: str = "utf-8"
) -> Iterator[tuple[Record, Outcome]]:
    """Every household of the files with its outcome as of `as_of` (for figures, a quarter's last
    day), a block at a time; a `PolicyError` with every problem of the files once they are read,
    if there was any (the caller must not use what it was given before)."""
    exit_pack = exit_pack_of(policy_set)
    problems: list[Diagnostic] = []
    for records, _refused, found, _unreadable in stream_records(paths, policy_set.schema, encoding=encoding):
        problems.extend(d for d in found if d.is_error)
        if problems:
            continue  # read on, to report every problem; decide nothing more
        for record in records:
            yield record, decide_outcome(policy_set, record, as_of, exit_pack=exit_pack)
    if problems:
        raise PolicyError(problems)


@attrs.frozen
class Computed:
    """A registry's figures computed by columns, and what was computed record by record instead:
    the packs that did not lower (pack key, why) and the households the columns could not hold
    exactly.  `keys`: every value each declared group key has in the registry (what
    reconciliation knows of counties, villages…)."""

    figures: Figures
    per_record: tuple[tuple[str, str], ...]
    households_per_record: int
    keys: Mapping[str, frozenset[str]]


def _key_values(
    policy_set: PolicySet,
    pairs: Iterable[tuple[Record, Outcome]],
    quarter: Quarter,
    keys: dict[str, set[str]],
) -> Iterator[tuple[Record, Outcome]]:
    """`pairs` passed through, the declared keys' values of their records gathered into `keys`
    (as the figures' cells name them)."""
    packs = statistics_in_force(policy_set, quarter)
    for record, outcome in pairs:
        ctx = Context(subject=record, as_of=quarter.last)
        for pack in packs:
            if pack.subject == record.type_name:
                for key, field in pack.keys.items():
                    keys.setdefault(key, set()).add(key_text(evaluate(field, ctx)))
        yield record, outcome


def columnar_figures(
    policy_set: PolicySet, paths: Sequence[Path], quarter: Quarter, *, encoding: str = "utf-8"
) -> Computed:
    """The figures of the statistics packs in force on `quarter`'s last day over every household
    of the record files, by columns: equal, cell for cell and id for id, to `registry_figures`
    by the reference.  A pack whose indicators do not lower is computed record by record in a
    second reading of the files, and a household the columns cannot hold exactly by the
    reference too; `Computed` says which."""
    as_of = quarter.last
    packs = statistics_in_force(policy_set, quarter)
    root = policy_set.schema.root
    lowered = lower_statistics(policy_set, root, quarter, [p for p in packs if p.subject == root])
    exit_pack = exit_pack_of(policy_set)
    tally = Tally(lowered)
    problems: list[Diagnostic] = []
    aside: list[tuple[Record, Outcome]] = []
    blocks = registry_blocks(
        paths, policy_set, as_of, exit_pack=exit_pack, encoding=encoding, read=lowered.columns
    )
    for block in blocks:
        problems.extend(d for d in block.problems if d.is_error)
        if problems or not block.valid:
            continue  # read on, to report every problem; compute nothing more
        outcome = block.decide()
        numbers = tally.number(outcome["id"])
        for places, frames in block.frames():
            found = block_figures(lowered, outcome[places], frames, numbers.gather(places), exit_pack)
            tally.add(found)
            for local in found.aside:
                record = block.record(places[local])
                aside.append((record, decide_outcome(policy_set, record, as_of, exit_pack=exit_pack)))
    if problems:
        raise PolicyError(problems)
    keys: dict[str, set[str]] = {}
    for name, values in tally.seen.items():
        keys.setdefault(name.partition("\x00")[2], set()).update(values)
    done = set(lowered.lowered_packs)
    parts: list[Mapping[str, Table]] = [tally.tables()]
    if aside:
        pairs = _key_values(policy_set, aside, quarter, keys)
        parts.append(figures(policy_set, pairs, quarter, only=done).tables)
    others = {p.key for p in packs} - done
    if others:
        unlowered = {key for key, _why in lowered.fallback}
        pairs = decided_pairs(policy_set, paths, as_of, encoding=encoding) if unlowered else iter(())
        if unlowered:
            pairs = _key_values(policy_set, pairs, quarter, keys)
        parts.append(figures(policy_set, pairs, quarter, only=others).tables)
    order = [i.id for p in packs for i in p.pack.indicators]
    return Computed(
        merged_figures(quarter, order, parts),
        lowered.fallback,
        len(aside),
        {k: frozenset(v) for k, v in keys.items()},
    )


def per_record_notes(computed: Computed) -> list[Diagnostic]:
    """A note for each pack whose figures were computed record by record, saying why."""
    return [
        Diagnostic("stats/per-record", None, {"pack": pack, "why": why}) for pack, why in computed.per_record
    ]


def registry_figures(
    policy_set: PolicySet,
    paths: Sequence[Path],
    quarter: Quarter,
    *,
    encoding: str = "utf-8",
    by_columns: bool = False,
) -> Figures:
    """The figures of the statistics packs in force on `quarter`'s last day over every household
    of the record files (JSON, JSON Lines, YAML, CSV, Parquet, Excel): by the reference, record by
    record, or — `by_columns` — by `columnar_figures` (the same figures)."""
    if by_columns:
        return columnar_figures(policy_set, paths, quarter, encoding=encoding).figures
    return figures(policy_set, decided_pairs(policy_set, paths, quarter.last, encoding=encoding), quarter)
