"""Where a monitoring event writes in a household's data: the fields by their roles, never by name.

The monitor (`gspolicy.engine.monitor`) applies each event to the household's plain data: an exit
sets the field with role `registration_status` and the one with role `exited_on`, an illness a
member's field with role `health`, and so on; a schema that gives no field a role an event needs
refuses the event (`MissingRole`, reported as ``schema/missing-role``)."""

from __future__ import annotations

from typing import Any

from gspolicy.schema import roles
from gspolicy.schema.model import Record, Schema

__all__ = ["EventFields", "MissingRole"]


class MissingRole(Exception):
    """An event needs a field the schema gives no field the role of."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class EventFields:
    """Where an event writes in a household's plain data: the fields by their roles in the
    schema (`gspolicy.schema.roles`), never by name."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def path(self, role: str) -> list[str]:
        found = self.schema.role(role)
        if found is None:
            raise MissingRole(role)
        return found.split(".")

    def member_field(self, role: str) -> str:
        """The name of a member's field of `role` (a field of the members list's items)."""
        return self.path(role)[-1]

    def member_key(self) -> str:
        members = self.schema.field_at(self.schema.root_record, self.path(roles.MEMBERS))
        item = self.schema.records.get(members.record or "") if members is not None else None
        if item is None or item.key is None:
            raise MissingRole(roles.MEMBERS)
        return item.key

    def holder(self, data: dict[str, Any], role: str) -> tuple[dict[str, Any] | None, str]:
        """The mapping that holds the field of `role` (made when absent; None when the data
        holds something else there, which validation reports) and the field's name."""
        *parents, last = self.path(role)
        found: object = data
        for part in parents:
            found = found.setdefault(part, {}) if isinstance(found, dict) else None
        return (found if isinstance(found, dict) else None), last

    def put(self, data: dict[str, Any], role: str, value: object, *, keep: bool = False) -> None:
        """Set the field of `role` (with `keep`, only when it is not given)."""
        holder, name = self.holder(data, role)
        if holder is not None and not (keep and name in holder):
            holder[name] = value

    def members(self, data: dict[str, Any]) -> list[Any]:
        holder, name = self.holder(data, roles.MEMBERS)
        found = None if holder is None else holder.get(name)
        return found if isinstance(found, list) else []

    def set_members(self, data: dict[str, Any], members: list[Any]) -> None:
        self.put(data, roles.MEMBERS, members)
        self.put(data, roles.HOUSEHOLD_SIZE, len(members))

    def find_member(self, data: dict[str, Any], member: str) -> dict[str, Any] | None:
        key = self.member_key()
        for item in self.members(data):
            if isinstance(item, dict) and item.get(key) == member:
                return item
        return None

    def read(self, record: Record, role: str) -> object:
        value: object = record
        for part in self.path(role):
            value = value.get(part) if isinstance(value, Record) else None
        return value
