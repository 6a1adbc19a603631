"""The lints across versions and packs: gaps between a pack's versions, one parameter's histories
that differ between packs, approval dates, schema fields no pack reads — and `lint_packs`, every
lint of a set of checked versions."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence

from gspolicy.analysis._where import key_span
from gspolicy.analysis.lint_version import condition_roots, lint_version, pack_context
from gspolicy.errors import Diagnostic
from gspolicy.lang.typed import TAge, TAggregate, TField, TypedExpr, typed_children
from gspolicy.lang.types import ListT, RecordT
from gspolicy.pack.model import DatedValue, PackSource
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Schema

__all__ = ["lint_packs", "unread_fields"]


def _version_gaps(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_id: dict[str, list[PackSource]] = {}
    for p in packs:
        by_id.setdefault(p.id, []).append(p.pack)
    for pack_id, versions in sorted(by_id.items()):
        versions.sort(key=lambda v: v.valid_from)
        for earlier, later in itertools.pairwise(versions):
            if earlier.valid_to is None or earlier.valid_to + dt.timedelta(days=1) >= later.valid_from:
                continue  # contiguous, or overlapping (the loader's `pack/overlapping-versions`)
            start = earlier.valid_to + dt.timedelta(days=1)
            end = later.valid_from - dt.timedelta(days=1)
            out.append(
                Diagnostic(
                    "lint/version-gap",
                    key_span(later.source, "valid_from") or later.id_span,
                    {
                        "id": pack_id,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "first": earlier.version,
                        "first_end": earlier.valid_to.isoformat(),
                        "second": later.version,
                        "second_start": later.valid_from.isoformat(),
                    },
                    context=pack_context(later),
                )
            )
    return out


def _fields_read(texpr: TypedExpr, subject: str, schema: Schema) -> Iterator[tuple[str, str]]:
    """(record type, field name) of every field a checked tree reads."""
    scopes: dict[int, str] = {0: subject}

    def walk(node: TypedExpr) -> Iterator[tuple[str, str]]:
        if isinstance(node, TField):
            record = scopes.get(node.scope)
            for step in node.path:
                if record is None or record not in schema.records:
                    break
                yield record, step
                spec = schema.records[record].fields.get(step)
                record = spec.record if spec is not None else None
        elif isinstance(node, TAge):
            record = scopes.get(node.scope)
            if record is not None:
                fields = (node.birth, node.recorded, node.recorded_on)  # the age roles' fields
                yield from ((record, f) for f in fields if f is not None)
        if isinstance(node, TAggregate):
            yield from walk(node.source)
            item = node.source.type
            if node.body is not None:
                if isinstance(item, ListT | RecordT):
                    scopes[node.scope] = item.name
                yield from walk(node.body)
            return
        for child in typed_children(node):
            yield from walk(child)

    yield from walk(texpr)


def unread_fields(packs: Iterable[CheckedPack], schema: Schema) -> list[Diagnostic]:
    """Schema fields read by none of `packs` (notes: the schema serves packs not checked here)."""
    read: set[tuple[str, str]] = set()
    for checked in packs:
        trees = [*checked.facts.values(), *(t for _, _, t in condition_roots(checked))]
        for texpr in trees:
            read.update(_fields_read(texpr, checked.subject, schema))
    out: list[Diagnostic] = []

    def visit(record: str, prefix: str, seen: frozenset[str]) -> None:
        for name, spec in schema.records[record].fields.items():
            path = prefix + name
            if (record, name) not in read:
                out.append(Diagnostic("lint/unread-field", spec.span, {"path": path}))
                continue
            if spec.record is not None and spec.record not in seen:
                visit(spec.record, path + ("[]." if spec.kind == "list" else "."), seen | {spec.record})

    visit(schema.root, "", frozenset({schema.root}))
    return out


def _shown(value: DatedValue | None) -> tuple[object, ...]:
    """What a parameter's value in force says, without where it comes from."""
    if value is None:
        return ("none",)
    low = value.low.value if value.low is not None else None
    high = value.high.value if value.high is not None else None
    return (value.kind, value.value, low, high)


def _shown_text(value: DatedValue | None) -> str:
    if value is None:
        return "no value"
    if value.kind == "not_established":
        return "not established"
    if value.kind == "range":
        low = value.low.value if value.low is not None else "…"
        high = value.high.value if value.high is not None else "…"
        return f"[{low}, {high}]"
    shown = value.value
    return ", ".join(str(v) for v in shown) if isinstance(shown, tuple) else str(shown)


def _histories(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """A parameter declared (not imported) in two packs whose values differ on a day both are
    in force: two histories of one name, one of which a change will miss."""
    out: list[Diagnostic] = []
    declared: dict[str, list[PackSource]] = {}
    for checked in sorted(packs, key=lambda p: (p.id, p.pack.valid_from)):
        for name, param in checked.pack.parameters.items():
            if param.imported_from is None:
                declared.setdefault(name, []).append(checked.pack)
    for name, holders in sorted(declared.items()):
        for a, b in itertools.combinations(holders, 2):
            if a.id == b.id:
                continue  # versions of one pack
            start = max(a.valid_from, b.valid_from)
            ends = [d for d in (a.valid_to, b.valid_to) if d is not None]
            end = min(ends) if ends else None
            if end is not None and end < start:
                continue
            pa, pb = a.parameters[name], b.parameters[name]
            days = sorted(
                {
                    start,
                    *(
                        v.effective
                        for v in (*pa.values, *pb.values)
                        if start < v.effective and (end is None or v.effective <= end)
                    ),
                }
            )
            for day in days:
                va, vb = pa.at(day), pb.at(day)
                if _shown(va) != _shown(vb):
                    out.append(
                        Diagnostic(
                            "lint/parameter-histories-differ",
                            pb.span,
                            {
                                "name": name,
                                "other": a.key,
                                "date": day.isoformat(),
                                "this": _shown_text(vb),
                                "that": _shown_text(va),
                            },
                            context=pack_context(b),
                        )
                    )
                    break
    return out


def lint_packs(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """Every lint finding in `packs` (checked versions, of one or several packs)."""
    out: list[Diagnostic] = []
    for checked in packs:
        out.extend(lint_version(checked))
    out.extend(_version_gaps(packs))
    out.extend(_histories(packs))
    for checked in packs:
        approval = checked.pack.approval
        if approval is not None and approval.in_force != checked.pack.valid_from:
            out.append(
                Diagnostic(
                    "lint/approval-date",
                    approval.span,
                    {
                        "in_force": approval.in_force.isoformat(),
                        "valid_from": checked.pack.valid_from.isoformat(),
                    },
                    context=pack_context(checked.pack),
                )
            )
    return out
