"""A record's value at a path of field names (``income.per_capita``): read it, or set it.

Each property library and strategy that plants a value in a household reads and writes nested
records through these two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gspolicy.schema.model import Record, RecordSpec, Schema

__all__ = ["value_at", "with_value"]


def value_at(record: Record, parts: Sequence[str]) -> object:
    """The value at the field path `parts`, None when it or a record on the way is missing."""
    current: object = record
    for part in parts:
        if not isinstance(current, Record):
            return None
        current = current.get(part)
    return current


def with_value(
    schema: Schema,
    record: Record,
    parts: Sequence[str],
    value: object,
    *,
    repair: Callable[[RecordSpec, Record, str], Record] | None = None,
) -> Record:
    """`record` with the value at `parts` set (None removes it), creating the records on the way.
    `repair(spec, inner, name)`, when given, mends each inner record after its field `name`
    changed (a strategy keeps a record's related fields consistent with it)."""
    name = parts[0]
    if len(parts) == 1:
        return record.replace(**{name: value})
    inner_spec = schema.records[schema.records[record.type_name].fields[name].record or ""]
    inner = record.get(name)
    inner = inner if isinstance(inner, Record) else Record(inner_spec.name, {})
    changed = with_value(schema, inner, parts[1:], value, repair=repair)
    if repair is not None:
        changed = repair(inner_spec, changed, parts[1])
    return record.replace(**{name: changed})
