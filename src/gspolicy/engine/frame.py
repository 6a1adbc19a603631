"""What one record's evaluation of a lowered pack keeps while it runs (`Frame`: its scopes, facts and
held items), the data paths written from it, and `any`/`all` over a list's items in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from gspolicy.lang.values import Value, unknown_of
from gspolicy.schema.model import Record

__all__ = ["Fn", "Frame", "Scope", "Values", "joined_path", "quantify", "scope_path"]

Values = Mapping[str, object]
Scope = tuple[Values, str, int]


class Frame:
    """What one record's evaluation of one pack keeps: the scopes (the subject, then the item of
    each enclosing aggregate), the facts evaluated so far, and the data path of each record a
    `held_on` filter let through.

    A scope is ``(values, base, index)``: the record's field values, the data path of its list
    (or of the record itself, with index -1) as text, and its index in the list.  A path is
    written out only when a missing value needs it, as `DataPath` writes it (``members[2].age``).
    Records are read through their own value mapping (`Record._values`): this evaluator is the
    one hot loop of the library, and a method call per field read is most of its time.
    """

    __slots__ = ("active", "as_of", "item_paths", "memo", "params", "scopes")

    def __init__(
        self, subject: Record, as_of: dt.date | None = None, params: Mapping[str, Value] | None = None
    ) -> None:
        self.scopes: list[Scope] = [(subject._values, "", -1)]
        self.memo: dict[str, Value] = {}
        self.active: set[str] = set()
        self.item_paths: dict[int, str] = {}
        self.as_of = as_of  # read by terms lowered for any date (`lower_terms`)
        self.params = params


def scope_path(scope: Scope) -> str:
    """The data path of a scope's record, as text (``members[2]``)."""
    _, base, index = scope
    return base if index < 0 else f"{base}[{index}]"


def joined_path(base: str, path: tuple[str, ...]) -> str:
    """``str(DataPath((*base, *path)))`` for a base path written as text."""
    if not path:
        return base or "(record)"
    tail = ".".join(path)
    return f"{base}.{tail}" if base else tail


Fn = Callable[[Frame], Value]


def quantify(f: Frame, records: tuple[Record, ...], path: str, body: Fn, decisive: bool) -> Value:
    """``any`` (`decisive` true) or ``all`` (false): decided at the first item whose value is
    `decisive`; else unknown, naming every unknown item, when some are; else not `decisive`."""
    unknowns: list[Value] = []
    scopes, paths = f.scopes, f.item_paths
    for index, record in enumerate(records):
        held = paths.get(id(record))
        scopes.append((record._values, held, -1) if held else (record._values, path, index))
        try:
            value = body(f)
        finally:
            scopes.pop()
        if value is decisive:
            return decisive
        if value is not (not decisive):
            unknowns.append(value)
    return unknown_of(*unknowns) if unknowns else not decisive
