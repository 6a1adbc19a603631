"""Check a schema's ``role:`` and ``changeable:`` declarations against the roles the library knows.

Each role known, given to one field, of a kind and in a place that can play it, with the roles it
needs (`gspolicy.schema.roles`); ``changeable`` one of its three values."""

from __future__ import annotations

from collections.abc import Mapping

from gspolicy._i18n import Text
from gspolicy._reader import Reader
from gspolicy._yaml import YNode, YScalar, describe
from gspolicy.errors import suggest
from gspolicy.schema.model import FieldSpec, RecordSpec
from gspolicy.schema.roles import CHANGEABLE, MEMBERS, ROLES, SUPPORT, Changeable

__all__ = ["check_roles", "read_changeable", "read_role"]

_ITEM_LIST = {"member": MEMBERS, "support": SUPPORT}
_PLACES = {
    "root": Text(zh="应为根记录的字段", en="it must be a field of the root record"),
    "record": Text(
        zh="应为从根记录经记录字段可达的字段（不在列表中）",
        en="it must be a field reached from the root record through record fields (not in a list)",
    ),
    "member": Text(
        zh=f"应为 `{MEMBERS}` 角色列表的列表项字段",
        en=f"it must be a field of the items of the list with role `{MEMBERS}`",
    ),
    "support": Text(
        zh=f"应为 `{SUPPORT}` 角色列表的列表项字段",
        en=f"it must be a field of the items of the list with role `{SUPPORT}`",
    ),
}


def read_role(r: Reader, node: YNode | None) -> str | None:
    """A field's ``role:`` (None when absent or unknown; an unknown role is reported)."""
    role = r.string(node, "role", name=True)
    if role is None or role in ROLES:
        return role
    shown = ", ".join(f"`{name}`" for name in ROLES)
    r.report("schema/unknown-role", node, {"role": role, "roles": shown}, suggest(role, ROLES))
    return None


def read_changeable(r: Reader, node: YNode | None) -> Changeable | None:
    """A field's ``changeable:`` (``no`` may be written bare, though YAML reads it as false)."""
    if node is None:
        return None
    text = node.text if isinstance(node, YScalar) and node.style is None else None
    for value in CHANGEABLE:
        if text == value:
            return value
    shown = node.text if isinstance(node, YScalar) else describe(node).en
    r.report("schema/bad-changeable", node, {"value": shown}, suggest(shown, CHANGEABLE))
    return None


_BROKEN = ""  # the list's item type is itself wrong (reported already): its items' roles are not checked


def _item_record(records: Mapping[str, RecordSpec], root: str, role: str) -> str | None:
    for field in records[root].fields.values():
        if field.role == role and field.kind == "list":
            return field.record if field.record in records else _BROKEN
    return None


def _record_place(records: Mapping[str, RecordSpec], root: str) -> set[str]:
    """The record types reached from the root through record fields (the root included)."""
    seen = {root}
    todo = [root]
    while todo:
        for field in records[todo.pop()].fields.values():
            ref = field.record
            if field.kind == "record" and ref is not None and ref in records and ref not in seen:
                seen.add(ref)
                todo.append(ref)
    return seen


def check_roles(reader: Reader, records: Mapping[str, RecordSpec], root: str) -> None:
    """Report every role given twice, to a field of the wrong kind or place, or without a role
    it needs."""
    given: dict[str, tuple[str, FieldSpec]] = {}
    items = {place: _item_record(records, root, role) for place, role in _ITEM_LIST.items()}
    reached = _record_place(records, root)
    for record in records.values():
        for field in record.fields.values():
            role = field.role
            if role is None:
                continue
            r = reader.within("record", record.name).within("field", field.name)
            where = YNode(field.span) if field.span is not None else None
            shown = f"{record.name}.{field.name}"
            first = given.get(role)
            if first is not None:
                at = first[1].span.header() if first[1].span is not None else "?"
                args: dict[str, object] = {"role": role, "first": first[0], "at": at, "second": shown}
                r.report("schema/duplicate-role", where, args)
                continue
            given[role] = (shown, field)
            spec = ROLES[role]
            problem: Text | None = None
            if field.kind not in spec.kinds:
                kinds = ", ".join(f"`{k}`" for k in sorted(spec.kinds))
                problem = Text(
                    zh=f"它是 `{field.kind}` 字段，该角色需要 {kinds}",
                    en=f"it is a `{field.kind}` field; the role needs {kinds}",
                )
            elif not _in_place(spec.place, record, root, reached, items):
                problem = _PLACES[spec.place]
            if problem is not None:
                r.report("schema/bad-role", where, {"field": shown, "role": role, "problem": problem})
    for role, (shown, field) in given.items():
        spec = ROLES[role]
        needs = (*spec.needs, *((_ITEM_LIST[spec.place],) if spec.place in _ITEM_LIST else ()))
        for needed in dict.fromkeys(needs):
            if needed in given:
                continue
            by = Text(zh=f"字段 `{shown}` 的角色 `{role}`", en=f"role `{role}` of field `{shown}`")
            needs_args: dict[str, object] = {"role": needed, "title": ROLES[needed].title, "needed_by": by}
            where = YNode(field.span) if field.span is not None else None
            reader.report("schema/missing-role", where, needs_args)


def _in_place(
    place: str, record: RecordSpec, root: str, reached: set[str], items: Mapping[str, str | None]
) -> bool:
    if place == "root":
        return record.name == root
    if place == "record":
        return record.name in reached
    item = items.get(place)
    return item in (_BROKEN, record.name)
