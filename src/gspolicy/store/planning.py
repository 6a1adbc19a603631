"""Planning a household from its outcome row: `plan_items`, the items of its plan.

Each item (measure, department, batch, content, amount, deadline) comes from the rule that grants
the measure or the buffer basis that retains it.  See `gspolicy.store.ledger` for the rules of a
plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from gspolicy._i18n import Text
from gspolicy.engine.support import support_parts
from gspolicy.pack.model import Basis, Rule
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.store.ledger_rows import PlannedItem, ledger_error

__all__ = ["plan_items"]


def _day(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _packs_of(row: Mapping[str, Any], policy_set: PolicySet, as_of: dt.date) -> tuple[CheckedPack, ...]:
    """The packs that decided the row: its ``packs`` (``id@version``) when the set holds them all,
    else the set's packs in force on its date."""
    keys = row.get("packs")
    if isinstance(keys, Mapping) and keys:
        by_key = {p.key: p for p in policy_set.packs}
        found = [by_key.get(str(k)) for k in keys]
        if all(p is not None for p in found):
            return tuple(p for p in found if p is not None)
    return policy_set.all_in_force(as_of)


def _granting_rule(
    packs: Sequence[CheckedPack], rules: Sequence[str], measure: str, why: str
) -> tuple[CheckedPack, Rule] | None:
    """The rule `why` that grants `measure`: first in the packs whose rule of that id holds for the
    row (``pack:rule`` in its `rules`), then in any of `packs`."""
    by_id = {p.id: p for p in packs}
    holding = [by_id[p] for p, _, rule in (r.partition(":") for r in rules) if rule == why and p in by_id]
    for pack in (*holding, *packs):
        for rule in pack.pack.rules:
            if rule.id == why and measure in rule.grant:
                return pack, rule
    return None


def _retaining_basis(packs: Sequence[CheckedPack], why: str) -> tuple[CheckedPack, Basis] | None:
    for pack in packs:
        buffer = pack.pack.buffer
        if buffer is not None:
            for basis in buffer.bases:
                if basis.id == why:
                    return pack, basis
    return None


def _measure_department(
    policy_set: PolicySet, measure: str, as_of: dt.date
) -> tuple[str | None, Text | None, Text | None, str | None]:
    """The department, its title, the measure's title and unit in the packs in force on `as_of`
    (else any version, the latest first)."""
    in_force = policy_set.all_in_force(as_of)
    for pack in (*in_force, *reversed(policy_set.packs)):
        found = pack.pack.measures.get(measure)
        if found is not None:
            dept = found.department
            return dept, pack.pack.departments.get(dept), found.title, found.amount.unit
    return None, None, None, None


def plan_items(
    row: Mapping[str, Any],
    policy_set: PolicySet,
    *,
    packs: Sequence[CheckedPack] | None = None,
    deadlines: Mapping[str, dt.date] | None = None,
    period_days: int | None = None,
    where: str = "-",
) -> tuple[PlannedItem, ...]:
    """The items of a household's plan from its outcome row (the columns of `Outcome.to_row()`:
    ``as_of``, ``support``, ``rules``, ``buffer``, ``buffer_until``, ``packs``), by measure; see
    the module docstring.  `packs` are the pack versions that decided the row (default: its
    ``packs``, else those in force on its date); `deadlines` and `period_days` give deadlines;
    `where` names the row's source in messages (a log entry, a file).

    Raises `PolicyError` (``ledger/unknown-grant``) for a support text whose `why` is neither a
    rule of those packs granting the measure nor a basis of their buffer while it is active, and
    (``ledger/bad-support``) for a text that is not ``measure=amount (why)``."""
    as_of = _day(row.get("as_of"))
    if as_of is None:
        raise ledger_error("ledger/bad-row", where=where, household=row.get("id"), column="as_of")
    chosen = tuple(packs) if packs is not None else _packs_of(row, policy_set, as_of)
    rules = [str(r) for r in row.get("rules") or ()]
    until = _day(row.get("buffer_until"))
    kept_until = until.isoformat() if until is not None else "?"
    period = dt.timedelta(days=period_days) if period_days is not None else None
    out: dict[str, PlannedItem] = {}
    for text in row.get("support") or ():
        try:
            measure, amount, why = support_parts(str(text))
        except ValueError:
            raise ledger_error(
                "ledger/bad-support", where=where, household=row.get("id"), text=text
            ) from None
        if measure in out:
            continue  # a basis retains the measure twice (two history items): one item, the first
        deadline = (deadlines or {}).get(measure) or (as_of + period if period is not None else None)
        granted = _granting_rule(chosen, rules, measure, why)
        if granted is not None:
            pack, rule = granted
            declared = pack.pack.measures[measure]
            dept = declared.department
            out[measure] = PlannedItem(
                measure,
                declared.title,
                dept,
                pack.pack.departments.get(dept) or Text(dept, dept),
                why,
                rule.title,
                amount,
                declared.amount.unit,
                deadline,
            )
            continue
        kept = _retaining_basis(chosen, why) if row.get("buffer") == "active" else None
        if kept is None:
            raise ledger_error(
                "ledger/unknown-grant", where=where, household=row.get("id"), measure=measure, why=why
            )
        buffer_pack, basis = kept
        found_dept, dept_title, title, unit = _measure_department(policy_set, measure, as_of)
        dept = found_dept or buffer_pack.pack.department
        if found_dept is None:
            dept_title = buffer_pack.pack.departments.get(dept)
        out[measure] = PlannedItem(
            measure,
            title or Text(measure, measure),
            dept,
            dept_title or Text(dept, dept),
            why,
            Text(
                zh=f"{basis.title.zh}，保留至 {kept_until}", en=f"{basis.title.en}, kept until {kept_until}"
            ),
            amount,
            unit,
            deadline,
        )
    return tuple(out[m] for m in sorted(out))
