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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from gspolicy._location import DataPath, RecordLocation
from gspolicy._resources import bundled_schema_path
from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, HouseholdError, PolicyError, suggest
from gspolicy.explain.areas import AreaResult, decide_areas
from gspolicy.explain.build import EXIT_PACK, decide
from gspolicy.explain.decision import Decision
from gspolicy.pack.load import PolicySet
from gspolicy.pack.load import load_policies as _load
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import load_records_from, validate_record

__all__ = ["Policies", "load_households", "load_policies", "load_records"]


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
        return decide(self.policy_set, record, day, exit_pack=exit_pack or EXIT_PACK)

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
        return decide_outcome(self.policy_set, record, day, exit_pack=exit_pack or EXIT_PACK)

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
        return [self.evaluate(h, day, exit_pack=exit_pack) for h in households]

    def evaluate_areas(
        self,
        households: Iterable[Record | Mapping[str, object]],
        as_of: dt.date | str,
        *,
        villages: Iterable[Record | Mapping[str, object]] = (),
        counties: Iterable[Record | Mapping[str, object]] = (),
        packs: Mapping[str, str] | None = None,
    ) -> AreaResult:
        """Decide village and county exit from the households' decisions and the areas' own
        figures.  Each village gathers the households whose ``village_code`` is its code, each
        county the households and villages whose ``county_code`` is its code; `packs` may name
        another pack for a level (``{"village": "exit_criteria.village_national"}``)."""
        day = _date(as_of)
        self._known(*(packs or {}).values())
        records: dict[str, tuple[Record, ...]] = {
            "household": tuple(self._record(h, "household") for h in households),
            "village": tuple(self._record(v, "village") for v in villages),
            "county": tuple(self._record(c, "county") for c in counties),
        }
        self._once_each(records)
        return decide_areas(self.policy_set, records, day, packs=packs)

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
    paths: str | Path | Sequence[str | Path], *, policies: Policies | None = None
) -> tuple[Record, ...]:
    """Load household record files (JSON, JSONL, YAML); raises `HouseholdError` with every problem."""
    return load_records(paths, "household", policies=policies)


def load_records(
    paths: str | Path | Sequence[str | Path], kind: str = "household", *, policies: Policies | None = None
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
    records, diagnostics = load_records_from(items, schema, record=kind)
    if any(d.is_error for d in diagnostics):
        raise HouseholdError(diagnostics)
    return records
