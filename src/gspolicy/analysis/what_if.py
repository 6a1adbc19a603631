"""What would change a decision (`gspolicy explain --household ID --what-if`): the smallest changes
to a household's own fields that turn its failing or undetermined exit verdict into a pass, and,
for an undetermined verdict, its fields ranked by how many of their values settle it.

The verdict is translated (`gspolicy.analysis.smt`) over the household's own fields, every field
pinned to its recorded value (a missing one to missing) unless the solver is allowed to change
it.  With at most one field changed, then two, the solver lists the changes that give a pass, a
field that the schema marks ``changeable: household`` or ``department`` before the others; every
change is applied to the record, validated against the schema and decided again by the engine —
only a change the engine confirms is listed.  Lists keep their items (a change never adds or
removes a member); a change is a field's value, or giving a field that was missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import z3  # type: ignore[import-untyped]  # the solver ships no type information

from gspolicy.analysis.prove_diff import verdict_states
from gspolicy.analysis.smt import Translator, Unsupported, Var
from gspolicy.engine.outcome import decide_outcome
from gspolicy.engine.run import parameter_values
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.validate import validate_record

__all__ = ["Change", "Settler", "WhatIf", "what_if"]


@attrs.frozen
class Change:
    """Fields changed together (data path → (old, new); None: missing) and the verdict after."""

    fields: tuple[tuple[str, object, object], ...]
    verdict: str
    changeable: tuple[str, ...]  # each field's `changeable:` (``?`` when the schema does not say)


@attrs.frozen
class Settler:
    """A field an undetermined verdict waits on, and how many of its values settle the verdict:
    `settling` of `tried` values tried (every code of an enum, true and false; for a number or a
    date, the values the solver found at the verdict's edges)."""

    path: str
    settling: int
    tried: int
    example: object = None


@attrs.frozen
class WhatIf:
    verdict: str
    changes: tuple[Change, ...]
    settlers: tuple[Settler, ...]
    not_translated: str = ""


def _path(tr: Translator, var: Var) -> str:
    parts: list[str] = []
    items = list(var.scope)
    while items:
        list_path, index = items[0], items[1]
        items = items[2:]
        assert isinstance(list_path, tuple)
        parts.append(f"{'.'.join(list_path)}[{index}]")
    parts.append(".".join(var.path))
    return ".".join(parts)


def _set(data: dict[str, Any], var: Var, value: object) -> None:
    current: Any = data
    items = list(var.scope)
    while items:
        list_path, index = items[0], items[1]
        items = items[2:]
        assert isinstance(list_path, tuple)
        assert isinstance(index, int)
        for part in list_path:
            current = current[part]
        current = current[index]
    for part in var.path[:-1]:
        current = current.setdefault(part, {})
    if value is None:
        current.pop(var.path[-1], None)
    else:
        current[var.path[-1]] = value


def _get(data: Mapping[str, Any], var: Var) -> object:
    current: Any = data
    items = list(var.scope)
    while items:
        list_path, index = items[0], items[1]
        items = items[2:]
        assert isinstance(list_path, tuple)
        assert isinstance(index, int)
        for part in list_path:
            current = current.get(part, {}) if isinstance(current, dict) else {}
        current = current[index] if isinstance(current, list) and index < len(current) else {}
    for part in var.path:
        current = current.get(part) if isinstance(current, dict) else None
    return current


def what_if(
    policy_set: PolicySet,
    record: Record,
    as_of: dt.date,
    *,
    exit_pack: str | None = None,
    limit: int = 5,
    timeout: float = 5.0,
) -> WhatIf:
    """The smallest confirmed changes that make `record`'s exit verdict a pass (one field, then
    pairs; at most `limit` of each), and for an undetermined verdict the fields it waits on,
    ranked by how many of their values settle it."""
    pack_id = exit_pack or policy_set.exit_pack(record.type_name) or ""
    pack = policy_set.in_force(pack_id, as_of)
    now = decide_outcome(policy_set, record, as_of, exit_pack=pack_id).verdict or "undetermined"
    if pack is None or now == "pass":
        return WhatIf(now, (), ())
    lengths = [len(v) for v in record.values() if isinstance(v, tuple)]
    tr = Translator(
        pack.schema,
        facts=pack.facts,
        parameters=parameter_values(pack, as_of),
        as_of=as_of,
        bound=max([1, *lengths]),
    )
    try:
        passes, _fails, _na, _undetermined = verdict_states(tr, pack)
    except Unsupported as e:
        return WhatIf(now, (), (), e.reason)
    tr.constrain()
    pins = tr.pins(record)
    keys = [k for k, v in tr.vars.items() if v.spec.kind != "list" and k in pins]
    flags = {k: z3.Bool(f"changed:{i}") for i, k in enumerate(keys)}
    solver = z3.Solver()
    solver.set(timeout=max(1, int(timeout * 1000)))
    solver.add(*tr.constraints)
    for k, constraints in pins.items():
        if k in flags:
            solver.add(z3.Implies(z3.Not(flags[k]), z3.And(*constraints)))
        else:
            solver.add(*constraints)  # lists keep their length
    solver.add(passes)
    data = record.to_data()

    def changeable(k: tuple[tuple[object, ...], tuple[str, ...]]) -> str:
        return tr.vars[k].spec.changeable or "?"

    mutable = [k for k in keys if changeable(k) in ("household", "department")]
    found: list[Change] = []
    singles: list[Any] = []
    for size in (1, 2):
        count = 0
        for pool in (mutable, keys):  # what the household or a department can change, first
            solver.push()
            solver.add(*[z3.Not(flags[k]) for k in keys if k not in pool])
            solver.add(z3.AtMost(*[flags[k] for k in keys], size) if keys else z3.BoolVal(True))
            solver.add(*[z3.Not(f) for f in singles])  # a pair holds no change that passes alone
            while count < limit and solver.check() == z3.sat:
                model = solver.model()
                group = [k for k in keys if z3.is_true(model.eval(flags[k], model_completion=True))]
                if not group:
                    break
                solver.add(z3.Not(z3.And(*[flags[k] for k in group])))
                change = _confirm(tr, model, group, data, policy_set, as_of, pack_id)
                if change is not None and all(c.fields != change.fields for c in found):
                    found.append(change)
                    count += 1
                    if size == 1:
                        singles.append(flags[group[0]])
            solver.pop()
    settlers = _settlers(tr, record, data, policy_set, as_of, pack_id) if now == "undetermined" else ()
    return WhatIf(now, tuple(found), settlers)


def _confirm(
    tr: Translator,
    model: z3.ModelRef,
    group: Sequence[tuple[tuple[object, ...], tuple[str, ...]]],
    data: Mapping[str, Any],
    policy_set: PolicySet,
    as_of: dt.date,
    pack_id: str,
) -> Change | None:
    changed = _copy(data)
    fields = []
    for key in group:
        var = tr.vars[key]
        present = z3.is_true(model.eval(var.present, model_completion=True))
        new = tr.value_of(model, var) if present else None
        old = _get(data, var)
        _set(changed, var, new)
        fields.append((_path(tr, var), old, new))
    record, _ = validate_record(changed, tr.schema, record=tr.subject)
    if record is None:
        return None
    verdict = decide_outcome(policy_set, record, as_of, exit_pack=pack_id).verdict
    if verdict != "pass":
        return None
    return Change(tuple(fields), verdict, tuple(tr.vars[k].spec.changeable or "?" for k in group))


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _settlers(
    tr: Translator,
    record: Record,
    data: Mapping[str, Any],
    policy_set: PolicySet,
    as_of: dt.date,
    pack_id: str,
) -> tuple[Settler, ...]:
    """The missing fields the verdict reads, each with how many of its values settle the verdict."""
    out: list[Settler] = []
    for var in tr.vars.values():
        if var.spec.kind == "list" or _get(data, var) is not None:
            continue
        spec = var.spec
        if spec.kind == "enum":
            values: list[object] = list(tr.schema.enums[spec.enum or ""].codes)
        elif spec.kind == "bool":
            values = [True, False]
        else:
            continue  # numbers, dates, texts: settled by the changes above when a value passes
        settling = 0
        example = None
        for value in values:
            changed = _copy(data)
            try:
                _set(changed, var, value)
            except (KeyError, IndexError, TypeError):
                break
            candidate, _ = validate_record(changed, tr.schema, record=tr.subject)
            if candidate is None:
                continue
            verdict = decide_outcome(policy_set, candidate, as_of, exit_pack=pack_id).verdict
            if verdict in ("pass", "fail", "not_applicable"):
                settling += 1
                example = example if example is not None else value
        out.append(Settler(_path(tr, var), settling, len(values), example))
    out.sort(key=lambda s: (-s.settling / max(1, s.tried), s.path))
    return tuple(s for s in out if s.settling)
