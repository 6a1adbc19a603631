"""The per-record evaluator: a checked pack lowered once per as-of date into closures.

`lower(pack, as_of)` turns every condition of a pack version (applicability, data preconditions,
criteria, rules, buffer) into Python closures over the checked tree: the parameters in force on
the date become constants (a range an `Interval`, a value not established an `Unknown` naming it),
every node a closure that calls its children directly (`gspolicy.engine.lowering`, over the
`Frame` of `gspolicy.engine.frame`).  `Lowered.run(record)` gives the pack's `PackValues` for one
record; facts are evaluated once per record and pack.  The watched lowering coverage measures
with is `gspolicy.engine.watched` (`lower_watched`, re-exported here).

The semantics are the reference interpreter's (`gspolicy.lang.interpret`), statement for
statement, minus the trace: the same values, the same `Unknown` naming the same data paths and
parameters, the same problems.  A differential property test holds the two equal on generated
packs and records, and on the bundled packs.

Lowerings are kept per pack version and date (bounded, `gspolicy._memo`), so a run over many
records lowers each pack once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs

from gspolicy._memo import Memo
from gspolicy.engine.frame import Fn, Frame
from gspolicy.engine.lowering import Builder
from gspolicy.engine.run import BufferValues, PackValues
from gspolicy.engine.watched import NOT_EVALUATED, Evaluation, lower_watched
from gspolicy.lang.typed import TypedExpr
from gspolicy.lang.values import Value
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = ["NOT_EVALUATED", "Evaluation", "Lowered", "lower", "lower_terms", "lower_watched"]


@attrs.frozen
class Lowered:
    """A pack version lowered for one as-of date: a closure per condition."""

    pack: CheckedPack
    as_of: dt.date
    parameters: Mapping[str, Value]
    applies: Fn | None
    givens: Mapping[str, Fn]
    criteria: Mapping[str, Fn]
    rules: Mapping[str, Fn]
    buffer: tuple[Fn, Mapping[str, Fn], Mapping[str, Fn]] | None
    lapses: Mapping[str, Fn] = attrs.field(factory=dict)  # measure id → its `lapses_when`

    def lapse(self, measure: str, record: Record) -> Value:
        """Whether a retained item of `measure` has lapsed for `record` (`lapses_when`)."""
        return self.lapses[measure](Frame(record))

    def run(self, record: Record) -> PackValues:
        """Every condition of the pack on `record` (the values the interpreter would give)."""
        frame = Frame(record)
        buffer = None
        if self.buffer is not None:
            retained, active, until = self.buffer
            buffer = BufferValues(
                retained(frame),
                {k: f(frame) for k, f in active.items()},
                {k: f(frame) for k, f in until.items()},
            )
        return PackValues(
            self.pack,
            record,
            self.as_of,
            self.parameters,
            self.applies(frame) if self.applies is not None else None,
            {k: f(frame) for k, f in self.givens.items()},
            {k: f(frame) for k, f in self.criteria.items()},
            {k: f(frame) for k, f in self.rules.items()},
            buffer,
        )


_LOWERED: Memo[tuple[int, dt.date], Lowered] = Memo(2048)


def lower(pack: CheckedPack, as_of: dt.date) -> Lowered:
    """The pack lowered for `as_of` (built once per pack version and date, then reused)."""
    key = (id(pack), as_of)
    found = _LOWERED.get(key)
    if found is not None and found.pack is pack:
        return found
    builder = Builder(pack, as_of)
    buffer = None
    if pack.buffer is not None:
        buffer = (
            builder.lower(pack.buffer.retained),
            {k: builder.lower(t) for k, t in pack.buffer.active.items()},
            {k: builder.lower(t) for k, t in pack.buffer.until.items()},
        )
    lowered = Lowered(
        pack,
        as_of,
        builder.params,
        builder.lower(pack.applies) if pack.applies is not None else None,
        {k: builder.lower(t) for k, t in pack.givens.items()},
        {k: builder.lower(t) for k, t in pack.criteria.items()},
        {k: builder.lower(t) for k, t in pack.rules.items()},
        buffer,
        {k: builder.lower(t) for k, t in pack.lapses.items()},
    )
    return _LOWERED.put(key, lowered)


def lower_terms(
    pack: CheckedPack, exprs: Sequence[TypedExpr]
) -> Callable[[Record, dt.date, Mapping[str, Value]], list[Value]]:
    """Expressions of a pack lowered for any date and any parameter values: the returned
    function gives their values on a record as of a date with the parameters given (as the
    interpreter would with a `Context` holding them)."""
    builder = Builder(pack, None)
    lowered = [builder.lower(e) for e in exprs]

    def run(record: Record, as_of: dt.date, parameters: Mapping[str, Value]) -> list[Value]:
        frame = Frame(record, as_of, parameters)
        return [fn(frame) for fn in lowered]

    return run
