"""One side of a comparison read: a policy root, a pack folder or a pack version file, and the whole
policy set it decides with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from gspolicy._files import read_source
from gspolicy._i18n import Text
from gspolicy._resources import bundled_schema_path
from gspolicy.errors import Diagnostic
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.load import discover, load_policies, reimported, resolve_imports
from gspolicy.pack.model import PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.pack.workspace import choose, root_of
from gspolicy.schema.load import read_schema

__all__ = ["in_context", "load_side", "undecidable"]


def _schema_near(path: Path) -> Path:
    """The household schema of the policy root above `path`, else the bundled one."""
    for folder in [path if path.is_dir() else path.parent, *path.resolve().parents]:
        candidates = sorted((folder / "schema").glob("*.y*ml")) if (folder / "schema").is_dir() else []
        if candidates:
            return candidates[0]
    return bundled_schema_path()


def load_side(path: Path) -> tuple[PolicySet | None, list[Diagnostic]]:
    """Load one side of a comparison: a policy root, a pack folder or a pack version file.

    A root (a folder holding the household schema) is loaded as the loader loads it.  Pack files
    and folders are read and checked against the schema of the root above them (else the bundled
    one) without requiring the file to sit at its pack's path.
    """
    schemas, pack_files, _, problems = discover([path])
    if problems:
        return None, problems
    if schemas:
        return load_policies([path])
    if not pack_files:
        return None, [Diagnostic("diff/no-packs", None, {"path": str(path)})]
    schema, diagnostics = read_schema(_schema_near(path))
    if schema is None:
        return None, diagnostics
    checked: list[CheckedPack] = []
    importing: list[PackSource] = []
    for file in pack_files:
        source, found = read_source(file, name=str(file))
        diagnostics.extend(found)
        if source is None:
            continue
        pack, found = read_pack(source)
        diagnostics.extend(found)
        if pack is None:
            continue
        if pack.imports:
            importing.append(pack)
            continue
        result, found = check_pack(pack, schema)
        diagnostics.extend(found)
        if result is not None:
            checked.append(result)
    if importing:
        # what they import: from the side itself, else from the set it would be completed from
        providers = [p.pack for p in checked if p.kind == "parameters"]
        context, _roots = _context(path)
        if context is not None:
            held = {p.id for p in providers}
            providers += [p.pack for p in context.packs if p.kind == "parameters" and p.id not in held]
        for pack in importing:
            resolved, found = resolve_imports(pack, providers)
            diagnostics.extend(found)
            if resolved is None:
                continue
            result, found = check_pack(resolved, schema)
            diagnostics.extend(found)
            if result is not None:
                checked.append(result)
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    return PolicySet(schema, tuple(checked)), diagnostics


def _context(path: Path) -> tuple[PolicySet | None, list[Path]]:
    """The set a pack file or folder lies in: its policy root's, else the one the command line
    would run (a local ``policies/``, else the bundled one)."""
    root = root_of(path)
    roots = [root] if root is not None else list(choose(None).roots)
    context, _ = load_policies(roots)
    return context, roots


def in_context(side: PolicySet, path: Path) -> tuple[PolicySet, str | None, tuple[str, ...]]:
    """The full policy set a side decides with: a policy root is one already; a pack file or a
    pack folder replaces its packs in the set of the root it lies in (else the set the command line
    would run: a local ``policies/``, else the bundled one), so that villages, counties and the
    batch packs beside it are decided too.  Packs of the set that import parameters import them
    from the side's parameters packs when it holds some.  Returns the set, the root it was
    completed from, and the ids of the set's packs whose imports the side no longer gives (left
    out: the caller must say so)."""
    if (path / "schema").is_dir() or root_of(path) == path:
        return side, None, ()
    context, roots = _context(path)
    if context is None:
        return side, None, ()
    replaced = {p.id for p in side.packs}
    kept = [p for p in context.packs if p.id not in replaced]
    lost: list[str] = []
    if any(p.kind == "parameters" for p in side.packs):
        providers = [p.pack for p in (*side.packs, *kept) if p.kind == "parameters"]
        again = []
        for p in kept:
            found = reimported(p, providers, side.schema)
            if found is None:
                lost.append(p.id)
            else:
                again.append(found)
        kept = again
    return (
        PolicySet(side.schema, (*kept, *side.packs)),
        ", ".join(str(r) for r in roots),
        tuple(sorted(set(lost))),
    )


def undecidable(policy_set: PolicySet, kinds: Sequence[str], as_of: dt.date, side: Text) -> list[Diagnostic]:
    """A note for each level (village, county) the side has no pack in force for on `as_of`."""
    return [
        Diagnostic("diff/level-not-decided", None, {"side": side, "level": kind, "as_of": as_of.isoformat()})
        for kind in kinds
        if policy_set.in_force(exit_pack_of(policy_set, kind), as_of) is None
    ]
