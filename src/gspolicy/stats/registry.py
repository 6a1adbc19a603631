"""A registry's figures: its record files read a block at a time, each household decided as of the
quarter's last day by the per-record evaluator, and the statistics packs' figures computed over them.

Memory stays flat in the number of households read (a block at a time; `figures` keeps the groups
and the ids behind each cell).  Any problem in the files — a record the schema refuses, an id given
twice, a file that cannot be read — stops the run with every problem found (a `PolicyError`):
figures over part of a registry are never given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.records import stream_records
from gspolicy.stats.figures import Figures, figures
from gspolicy.stats.quarter import Quarter

__all__ = ["decided_pairs", "registry_figures"]


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


def registry_figures(
    policy_set: PolicySet, paths: Sequence[Path], quarter: Quarter, *, encoding: str = "utf-8"
) -> Figures:
    """The figures of the statistics packs in force on `quarter`'s last day over every household
    of the record files (JSON, JSON Lines, YAML, CSV, Parquet, Excel)."""
    return figures(policy_set, decided_pairs(policy_set, paths, quarter.last, encoding=encoding), quarter)
