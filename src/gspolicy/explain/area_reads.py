"""What the areas' packs read of each gathered household, so a streamed run keeps only those fields.

`area_reads` gives the fields (and the derived fields of the households' items), or None when a
pack reads more than plain fields of a household."""

from __future__ import annotations

import datetime as dt

import attrs

from gspolicy.lang.typed import TAge, TAggregate, TField, TPresent, TypedExpr, typed_children
from gspolicy.pack.policy_set import PolicySet

__all__ = ["AreaReads", "area_reads"]


@attrs.frozen
class AreaReads:
    """What the areas' packs need of each gathered household (the root records): the fields
    they read (`paths`, with the key, the name and the fields the households are gathered by)
    and the derived fields of the households' items, ``(pack, form)``."""

    paths: tuple[tuple[str, ...], ...]
    derive: tuple[tuple[str, str], ...]


_SLIM_KINDS = frozenset({"bool", "int", "date", "string", "enum"})


def area_reads(policy_set: PolicySet, as_of: dt.date) -> AreaReads | None:
    """What the packs in force on `as_of` read of the root records the areas gather, when that
    is only fields a record held by those fields alone shows exactly as the whole record would
    (plain values at named paths); None otherwise — a pack reads a household's list or nested
    record whole, an age, a number with decimals, or a gathered list through another item.
    A caller may then gather records that hold these fields only (and `item_fields`)."""
    schema = policy_set.schema
    root = schema.root
    root_spec = schema.records[root]
    holders: dict[str, dict[str, tuple[str, ...]]] = {}  # type -> gathered field -> record fields
    gathered_any: set[tuple[str, str]] = set()  # (type, field) of every gathered list
    by_fields: set[str] = set()
    derive: list[tuple[str, str]] = []
    for type_name, spec in schema.records.items():
        for name, f in spec.fields.items():
            if f.gather is None or f.record is None:
                continue
            gathered_any.add((type_name, name))
            if f.gather.records != root:
                continue
            by_fields.add(f.gather.by)
            item = schema.records[f.record]
            holders.setdefault(type_name, {})[name] = tuple(
                n for n, g in item.fields.items() if g.derive is not None and g.derive.form == "record"
            )
            for g in item.fields.values():
                d = g.derive
                if d is not None and d.pack is not None and (d.pack, d.form) not in derive:
                    derive.append((d.pack, d.form))
    paths: set[tuple[str, ...]] = set()

    def gathered_through(type_name: str | None, path: tuple[str, ...]) -> bool:
        """Whether `path` from a record of `type_name` passes through a gathered list."""
        spec = schema.records.get(type_name or "")
        for part in path:
            if spec is None:
                return False
            if (spec.name, part) in gathered_any:
                return True
            field = spec.fields.get(part)
            spec = schema.records.get(field.record or "") if field is not None else None
        return False

    def walk(node: TypedExpr, scopes: dict[int, tuple[str, str | None]]) -> bool:
        """Collect what `node` reads of households; False when a read cannot be served.
        `scopes`: scope -> ("household", record field of the item) or ("other", record type)."""
        if isinstance(node, TPresent):
            return walk(node.field, scopes)
        if isinstance(node, TAge):
            return scopes.get(node.scope, ("other", None))[0] != "household"
        if isinstance(node, TField):
            kind, what = scopes.get(node.scope, ("other", None))
            if kind == "household":
                if node.path[0] != what:
                    return True  # a derived field of the item
                if len(node.path) < 2:
                    return False  # the household read whole
                paths.add(node.path[1:])
                return True
            return not gathered_through(what, node.path) or node.scope == 0
        if isinstance(node, TAggregate):
            source = node.source
            inner: tuple[str, str | None] = ("other", None)
            if isinstance(source, TField):
                kind, what = scopes.get(source.scope, ("other", None))
                if kind == "household":
                    return False  # a list of the household
                owner = schema.records.get(what or "")
                field = (
                    owner.fields.get(source.path[0]) if owner is not None and len(source.path) == 1 else None
                )
                if field is not None and field.gather is not None and field.gather.records == root:
                    fields = holders.get(owner.name if owner else "", {}).get(source.path[0], ())
                    if len(fields) != 1:
                        return False
                    inner = ("household", fields[0])
                elif field is not None and field.record is not None:
                    inner = ("other", field.record)
                elif owner is not None and gathered_through(owner.name, source.path):
                    return False
            elif not walk(source, scopes):
                return False
            if node.body is None:
                return True
            return walk(node.body, {**scopes, node.scope: inner})
        return all(walk(child, scopes) for child in typed_children(node))

    for checked in policy_set.all_in_force(as_of):
        if checked.subject not in holders and checked.subject != root:
            continue
        if checked.subject == root:
            continue
        if checked.buffer is not None:
            return None
        roots = [
            *checked.facts.values(),
            *checked.criteria.values(),
            *checked.givens.values(),
            *checked.rules.values(),
            *checked.weighs.values(),
            *([checked.applies] if checked.applies is not None else []),
        ]
        if not all(walk(expr, {0: ("other", checked.subject)}) for expr in roots):
            return None
    key = root_spec.key
    paths.update((f,) for f in by_fields)
    if key is not None:
        paths.add((key,))
    if "name" in root_spec.fields:
        paths.add(("name",))
    for path in paths:
        found = schema.field_at(root_spec, path)
        if found is None or found.kind not in _SLIM_KINDS:
            return None
    return AreaReads(tuple(sorted(paths)), tuple(derive))
