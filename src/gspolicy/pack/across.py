"""What is checked of a set's packs together: versions of a pack whose validity overlaps, a
pack's kind kept across versions with one verdict pack per subject, and the names an invariant
pack reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from gspolicy._i18n import Text
from gspolicy.errors import Diagnostic, suggest
from gspolicy.lang.typed import TConst, outcome_calls
from gspolicy.pack.model import PackSource
from gspolicy.pack.typecheck import CheckedPack

__all__ = ["invariant_names", "overlaps", "roles"]


def overlaps(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """The versions of one pack are valid on days apart."""
    out: list[Diagnostic] = []
    by_id: dict[str, list[PackSource]] = {}
    for p in packs:
        by_id.setdefault(p.id, []).append(p.pack)
    for pack_id, versions in by_id.items():
        versions.sort(key=lambda v: v.valid_from)
        for earlier, later in itertools.pairwise(versions):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                out.append(
                    Diagnostic(
                        "pack/overlapping-versions",
                        later.id_span,
                        {
                            "id": pack_id,
                            "first": earlier.version,
                            "second": later.version,
                            "day": later.valid_from.isoformat(),
                        },
                    )
                )
    return out


def roles(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """A pack keeps its kind across versions, and each subject has one verdict pack."""
    out: list[Diagnostic] = []
    kinds: dict[str, CheckedPack] = {}
    exits: dict[str, str] = {}  # subject -> the id of its verdict pack
    for p in sorted(packs, key=lambda p: (p.id, p.pack.valid_from)):
        first = kinds.setdefault(p.id, p)
        if first.kind != p.kind:
            out.append(
                Diagnostic(
                    "pack/kind-changed",
                    p.pack.id_span,
                    {"id": p.id, "version": p.version, "kind": p.kind, "other": first.kind},
                )
            )
            continue
        if p.kind == "exit" and first is p:
            other = exits.setdefault(p.subject, p.id)
            if other != p.id:
                out.append(
                    Diagnostic(
                        "pack/second-exit-pack",
                        p.pack.id_span,
                        {"id": p.id, "subject": p.subject, "other": other},
                    )
                )
    return out


_WHAT = {
    "rule": Text(zh="规则", en="a rule"),
    "criterion": Text(zh="结论包指标", en="a verdict-pack criterion"),
    "granted": Text(zh="措施", en="a measure"),
    "verdict": Text(zh="政策包", en="a pack"),
}


def invariant_names(packs: Sequence[CheckedPack]) -> list[Diagnostic]:
    """Every name an invariant reads (``rule("id")`` …) is one the packs of its subject declare,
    in some version."""
    out: list[Diagnostic] = []
    deciding = [p for p in packs if p.kind not in ("invariants", "parameters", "statistics")]
    for inv_pack in (p for p in packs if p.kind in ("invariants", "statistics")):
        mine = [p for p in deciding if p.subject == inv_pack.subject]
        known = {
            "rule": {r.id for p in mine for r in p.pack.rules},
            "criterion": {c.id for p in mine if p.kind == "exit" for c in p.pack.criteria},
            "granted": {m for p in mine for m in p.pack.measures},
            "verdict": {p.id for p in mine},
        }
        reading = [(("invariant", i), typed) for i, typed in inv_pack.invariants.items()]
        reading += [
            (("indicator", i), typed)
            for i, ind in inv_pack.indicators.items()
            for typed in (ind.figure, ind.where, ind.dated_by)
            if typed is not None
        ]
        for (kind, inv_id), typed in reading:
            for node in outcome_calls(typed):
                if not node.args:
                    continue
                arg = node.args[0]
                name = str(arg.value) if isinstance(arg, TConst) else ""
                if name in known[node.func]:
                    continue
                out.append(
                    Diagnostic(
                        "pack/invariant-unknown-name",
                        arg.span,
                        {
                            "func": node.func,
                            "name": name,
                            "subject": inv_pack.subject,
                            "what": _WHAT[node.func],
                        },
                        context=((kind, inv_id), ("pack", inv_pack.key)),
                        suggestions=suggest(name, sorted(known[node.func])),
                    )
                )
    return out
