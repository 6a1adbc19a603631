"""The Python API for applications: load a policy set, load households, decide.

    >>> import datetime as dt, gspolicy
    >>> policies = gspolicy.load_policies()                        # the bundled packs
    >>> households = gspolicy.load_households(["examples/households.jsonl"])
    >>> decision = policies.evaluate(households[0], as_of=dt.date(2018, 12, 31))
    >>> decision.verdict, decision.missing
    >>> print(decision.render("zh"))
    >>> outcome = policies.decide(households[0], as_of="2018-12-31")   # the same, without the words
    >>> villages = gspolicy.load_records(["examples/registry/villages.jsonl"], "village")
    >>> areas = policies.evaluate_areas(households, "2018-12-31", villages=villages)
    >>> print(areas.villages[0].render("en"))

A `Policies` object is immutable and safe to share between threads; evaluation keeps no state.
Bad input raises `PolicyError` (packs) or `HouseholdError` (records), each holding every problem
as a located diagnostic.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from gspolicy._location import DataPath, RecordLocation
from gspolicy._resources import bundled_schema_path
from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, HouseholdError, PolicyError, suggest
from gspolicy.explain.areas import AreaResult, decide_areas
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Decision
from gspolicy.pack.load import load_policies as _load
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import load_records_from
from gspolicy.schema.validate import validate_record

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    import polars

__all__ = ["Policies", "load_households", "load_policies", "load_records"]

_log = logging.getLogger(__name__)

_MAX_CHUNK = 10_000_000
"""The most households `decide_table` decides at a time."""


def _never(_level: str, _code: str) -> bool:
    return False


def _date(value: dt.date | str) -> dt.date:
    """An as-of date given as a date or as ISO text (raises `PolicyError` ``api/bad-date``)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) <= 40:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    shown = value[:40] if isinstance(value, str) else type(value).__name__
    raise PolicyError([Diagnostic("api/bad-date", None, {"value": shown})])


@attrs.frozen
class Policies:
    """A loaded, checked policy set: every version of every pack, and the household schema."""

    policy_set: PolicySet

    @property
    def schema(self) -> Schema:
        return self.policy_set.schema

    @property
    def pack_ids(self) -> tuple[str, ...]:
        return self.policy_set.ids

    def household(self, data: Mapping[str, object]) -> Record:
        """Validate one household given as plain data (raises `HouseholdError`)."""
        record, problems = validate_record(data, self.schema)
        if record is None:
            raise HouseholdError(problems)
        return record

    def evaluate(
        self,
        household: Record | Mapping[str, object],
        as_of: dt.date | str,
        *,
        exit_pack: str | None = None,
    ) -> Decision:
        """Decide on one household as of a date, with the pack versions in force on that date.

        `exit_pack` names the pack whose verdict is the decision's (default: the household exit
        pack, when the set has it); a pack named that the set does not have raises `PolicyError`."""
        day = _date(as_of)
        if exit_pack is not None:
            self._known(exit_pack)
        record = household if isinstance(household, Record) else self.household(household)
        return decide(self.policy_set, record, day, exit_pack=exit_pack or exit_pack_of(self.policy_set))

    def _known(self, *pack_ids: str) -> None:
        """Every pack named exists in this set (raises `PolicyError` ``api/unknown-pack``)."""
        for pack_id in pack_ids:
            if pack_id not in self.policy_set.ids:
                problem = Diagnostic(
                    "api/unknown-pack", None, {"name": pack_id}, suggestions=suggest(pack_id, self.pack_ids)
                )
                raise PolicyError([problem])

    def decide(
        self,
        household: Record | Mapping[str, object],
        as_of: dt.date | str,
        *,
        exit_pack: str | None = None,
    ) -> Outcome:
        """Decide on one household without explaining: its `Outcome` (every pack's verdict, each
        criterion and rule, the support, the buffer, what would settle the undetermined), equal
        to ``evaluate(household, as_of).outcome()`` and many times faster."""
        day = _date(as_of)
        if exit_pack is not None:
            self._known(exit_pack)
        record = household if isinstance(household, Record) else self.household(household)
        return decide_outcome(
            self.policy_set, record, day, exit_pack=exit_pack or exit_pack_of(self.policy_set)
        )

    def decide_table(
        self,
        households: Iterable[Record | Mapping[str, object]],
        as_of: dt.date | str,
        *,
        exit_pack: str | None = None,
        chunk_size: int = 100_000,
    ) -> Iterator[polars.DataFrame]:
        """Decide on many households by columns: one Polars frame per `chunk_size` households,
        a row each, in order, with the columns of `Outcome.to_row()` (``id``, ``as_of``,
        ``verdict``, ``failing``, ``undetermined``, ``missing``, ``rules``,
        ``rules_undetermined``, ``support``, ``findings``, ``buffer``, ``buffer_until`` and ``packs``, a struct
        of each pack's verdict), typed: dates as dates, lists of codes as lists.

        Equal to ``decide`` on each household, row for row.  The packs are run as columns by
        the Polars runner; a pack it cannot lower, and a household whose numbers the columns
        cannot hold exactly, are decided household by household (`columnar_report` says which).
        A household given as plain data is validated first (raises `HouseholdError`)."""
        from gspolicy.columnar.runner import (  # noqa: PLC0415  # Polars only when used
            counts_text,
            decide_frame,
            verdict_counts,
        )

        day = _date(as_of)
        if exit_pack is not None:
            self._known(exit_pack)
        if (
            isinstance(chunk_size, bool)
            or not isinstance(chunk_size, int)
            or not 1 <= chunk_size <= _MAX_CHUNK
        ):
            shown = str(chunk_size)[:40]
            raise PolicyError([Diagnostic("api/bad-chunk-size", None, {"value": shown, "limit": _MAX_CHUNK})])
        logged = _log.isEnabledFor(logging.INFO)
        started = time.perf_counter()
        verdicts: Counter[str] = Counter()
        chunks = 0

        def decided(chunk: list[Record]) -> polars.DataFrame:
            nonlocal chunks
            frame = decide_frame(
                self.policy_set, chunk, day, exit_pack=exit_pack or exit_pack_of(self.policy_set)
            )[0]
            if logged:
                chunks += 1
                verdicts.update(verdict_counts(frame))
            return frame

        chunk: list[Record] = []
        for household in households:
            chunk.append(household if isinstance(household, Record) else self.household(household))
            if len(chunk) == chunk_size:
                yield decided(chunk)
                chunk = []
        if chunk:
            yield decided(chunk)
        if logged:
            _log.info(
                "decided %d households by columns as of %s in %d chunks: %s; %.3f s",
                sum(verdicts.values()),
                day,
                chunks,
                counts_text(dict(sorted(verdicts.items()))),
                time.perf_counter() - started,
            )

    def columnar_report(self, as_of: dt.date | str, kind: str = "household") -> tuple[tuple[str, str], ...]:
        """The packs in force for `kind` on `as_of` that the columnar runner cannot lower, each
        with the reason (they are decided record by record in `decide_table`)."""
        from gspolicy.columnar.run import plan_run  # noqa: PLC0415  # Polars only when used

        return plan_run(self.policy_set, kind, _date(as_of)).fallback_packs

    def evaluate_many(
        self,
        households: Iterable[Record | Mapping[str, object]],
        as_of: dt.date | str,
        *,
        exit_pack: str | None = None,
    ) -> list[Decision]:
        """Decide on many households; equal to evaluating each one."""
        day = _date(as_of)
        if exit_pack is not None:
            self._known(exit_pack)
        started = time.perf_counter()
        decisions = [self.evaluate(h, day, exit_pack=exit_pack) for h in households]
        if _log.isEnabledFor(logging.INFO):
            verdicts = Counter(d.verdict or "none" for d in decisions)
            _log.info(
                "evaluated %d households one by one as of %s: %s; %.3f s",
                len(decisions),
                day,
                ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())) or "no verdicts",
                time.perf_counter() - started,
            )
        return decisions

    def evaluate_areas(
        self,
        households: Iterable[Record | Mapping[str, object]],
        as_of: dt.date | str,
        *,
        villages: Iterable[Record | Mapping[str, object]] = (),
        counties: Iterable[Record | Mapping[str, object]] = (),
        packs: Mapping[str, str] | None = None,
        explain: bool | Collection[str] = True,
    ) -> AreaResult:
        """Decide village and county exit from the households' decisions and the areas' own
        figures.  Each village gathers the households whose ``village_code`` is its code, each
        county the households and villages whose ``county_code`` is its code; `packs` may name
        another pack for a level (``{"village": "exit_criteria.village_national"}``).

        Every area gets its outcome (`AreaResult.outcomes`, by the per-record evaluator);
        `explain` says which also get their explained decision (`AreaResult.villages`,
        `.counties`): every one (True), none (False), or the areas with these codes."""
        day = _date(as_of)
        self._known(*(packs or {}).values())
        records: dict[str, tuple[Record, ...]] = {
            "household": tuple(self._record(h, "household") for h in households),
            "village": tuple(self._record(v, "village") for v in villages),
            "county": tuple(self._record(c, "county") for c in counties),
        }
        self._once_each(records)
        chosen: Callable[[str, str], bool] | None = None
        if explain is False:
            chosen = _never
        elif explain is not True:
            codes = {str(c) for c in ([explain] if isinstance(explain, str) else explain)}

            def chosen(_level: str, code: str) -> bool:
                return code in codes

        started = time.perf_counter()
        result = decide_areas(self.policy_set, records, day, packs=packs, explain=chosen)
        if _log.isEnabledFor(logging.INFO):
            _log.info(
                "decided %d villages and %d counties from %d households as of %s; %.3f s",
                len(records["village"]),
                len(records["county"]),
                len(records["household"]),
                day,
                time.perf_counter() - started,
            )
        return result

    def _once_each(self, records: Mapping[str, Sequence[Record]]) -> None:
        """A record given twice would be counted twice: raise `HouseholdError` naming it."""
        problems: list[Diagnostic] = []
        for kind, items in records.items():
            spec = self.schema.records[kind]
            if spec.key is None:
                continue
            first: dict[object, int] = {}
            for index, record in enumerate(items):
                ident = record.get(spec.key)
                if ident is None:
                    continue
                if ident in first:
                    where = RecordLocation(f"<{kind}s>", None, DataPath([index, spec.key]))
                    args = {"what": spec.title, "id": ident, "first": f"<{kind}s>[{first[ident]}]"}
                    problems.append(Diagnostic("record/duplicate-id", where, args))
                first.setdefault(ident, index)
        if problems:
            raise HouseholdError(problems)

    def _record(self, data: Record | Mapping[str, object], kind: str) -> Record:
        if isinstance(data, Record):
            if data.type_name != kind:
                raise TypeError(f"expected a {kind} record, found a {data.type_name} record")
            return data
        record, problems = validate_record(data, self.schema, record=kind)
        if record is None:
            raise HouseholdError(problems)
        return record


def load_policies(paths: str | Path | Sequence[str | Path] | None = None) -> Policies:
    """Load and check a policy set (default: the bundled policies); raises `PolicyError`."""
    if paths is None:
        roots = None
    elif isinstance(paths, str | Path):
        roots = [Path(paths)]
    else:
        roots = [Path(p) for p in paths]
    policy_set, diagnostics = _load(roots)
    if policy_set is None:
        raise PolicyError(d for d in diagnostics if d.is_error)
    return Policies(policy_set)


def load_households(
    paths: str | Path | Sequence[str | Path], *, policies: Policies | None = None, encoding: str = "utf-8"
) -> tuple[Record, ...]:
    """Load household record files (JSON, JSONL, YAML, or registry tables: CSV, Parquet, Excel);
    raises `HouseholdError` with every problem.  `encoding` is that of CSV files."""
    return load_records(paths, "household", policies=policies, encoding=encoding)


def load_records(
    paths: str | Path | Sequence[str | Path],
    kind: str = "household",
    *,
    policies: Policies | None = None,
    encoding: str = "utf-8",
) -> tuple[Record, ...]:
    """Load record files of a kind the schema declares (``household``, ``village``, ``county``);
    raises `HouseholdError` with every problem."""
    items = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if policies is not None:
        schema = policies.schema
    else:
        found, problems = read_schema(bundled_schema_path())
        if found is None:
            raise PolicyError(problems)
        schema = found
    if kind not in schema.records:
        raise ValueError(f"the schema declares no record type {kind!r} (it has: {', '.join(schema.records)})")
    records, diagnostics = load_records_from(items, schema, record=kind, encoding=encoding)
    if any(d.is_error for d in diagnostics):
        raise HouseholdError(diagnostics)
    return records
