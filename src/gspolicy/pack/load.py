"""Finding, reading and checking the packs of a policy set, and choosing what is in force.

On disk (docs/reference/packs.md):

* a **policy root** (the bundled one is ``policies/``) holds the household schema under
  ``schema/`` and packs anywhere below it;
* a pack's **id** is its path below the root with ``/`` read as ``.``: the pack
  ``exit_criteria.household`` is the folder ``exit_criteria/household/`` holding one file per
  version (``2016.1.yaml``, ``2018.1.yaml``, …), or, for a pack with one version, the single file
  ``exit_criteria/household.yaml``; the ``pack:`` key must agree with the path;
* the loader tells files apart by their top-level key — ``schema:`` for a schema, ``pack:`` for a
  pack — and skips every file inside a ``tests/`` folder (those are the pack's test cases);
* versions of one pack coexist with validity periods that must not overlap; evaluating as of a
  date takes the version in force on that date, and within it each parameter value in force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

import gspolicy._cache as cache
from gspolicy._files import decode_source, read_bytes
from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy._memo import Memo
from gspolicy._resources import bundled_policies, bundled_schema_path
from gspolicy.errors import Diagnostic, PolicyError, suggest
from gspolicy.pack.across import invariant_names, overlaps, roles
from gspolicy.pack.hash import canonical
from gspolicy.pack.model import LOW_CONFIDENCE, DatedValue, Import, PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Schema

_log = logging.getLogger(__name__)

__all__ = [
    "PolicySet",
    "check_texts",
    "discover",
    "gaps",
    "load_policies",
    "load_policy_set",
    "reimported",
    "resolve_imports",
]


_PACK_RE = re.compile(r"^pack\s*:", re.MULTILINE)
_SCHEMA_RE = re.compile(r"^schema\s*:", re.MULTILINE)


def _in_tests(path: Path) -> bool:
    return "tests" in path.parts[:-1]


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Path], list[Diagnostic]]:
    """Sort the YAML files under `paths` into schema files, pack files and other files."""
    schemas, packs, others, problems, _contents = _discover(paths)
    return schemas, packs, others, problems


def _discover(
    paths: Iterable[Path],
) -> tuple[list[Path], list[Path], list[Path], list[Diagnostic], dict[Path, bytes]]:
    """`discover`, and the bytes of every pack and schema file (read once)."""
    contents: dict[Path, bytes] = {}
    schemas: list[Path] = []
    packs: list[Path] = []
    others: list[Path] = []
    problems: list[Diagnostic] = []
    for root in paths:
        if not root.exists():
            problems.append(Diagnostic("io/not-found", None, {"path": str(root)}))
            continue
        files = (
            [root]
            if not root.is_dir()
            else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and not p.is_dir())
        )
        for path in files:
            rel = path.relative_to(root) if root.is_dir() else Path(path.name)
            if _in_tests(rel) or any(part.startswith(".") for part in rel.parts):
                continue
            data, unreadable = read_bytes(path)
            if data is None:
                problems.extend(unreadable)  # a device, a pipe, a file too large: said, never read
                continue
            head = data.decode("utf-8-sig", errors="replace")
            if _PACK_RE.search(head):
                packs.append(path)
            elif _SCHEMA_RE.search(head):
                schemas.append(path)
            else:
                others.append(path)
                continue
            contents[path] = data
    return schemas, packs, others, problems, contents


def display_path(path: Path, roots: Sequence[Path]) -> str:
    """How a file is named in messages and decisions: relative to the working folder when it is
    below it, else relative to the folder holding its policy root (``policies/…``)."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        pass
    for root in roots:
        base = root.resolve() if root.is_dir() else root.resolve().parent
        try:
            return str(resolved.relative_to(base.parent))
        except ValueError:
            continue
    return str(path)


def _id_matches(pack: PackSource, path: Path) -> bool:
    parts = pack.id.split(".")
    stem = [*path.parent.parts, path.stem]
    return list(path.parent.parts[-len(parts) :]) == parts or stem[-len(parts) :] == parts


def load_policies(
    paths: Sequence[Path] | None = None, *, schema: Schema | None = None
) -> tuple[PolicySet | None, list[Diagnostic]]:
    """Load and check every pack under `paths` (default: the bundled policies).

    The household schema is the one found among `paths`, else `schema`, else the bundled one.
    Returns the policy set (None when anything is wrong) and every diagnostic.
    """
    started = time.perf_counter()
    roots = list(paths) if paths else [bundled_policies()]
    schema_files, pack_files, others, diagnostics, contents = _discover(roots)
    origins: Counter[str] = Counter()
    names = {path: display_path(path, roots) for path in pack_files}
    for path in others:
        diagnostics.append(Diagnostic("pack/not-a-pack", None, {"path": str(path)}))
    if len(schema_files) > 1:
        diagnostics.append(
            Diagnostic(
                "pack/several-schemas", None, {"first": str(schema_files[0]), "second": str(schema_files[1])}
            )
        )
    if schema is None:
        schema_path = schema_files[0] if schema_files else bundled_schema_path()
        schema, problems = read_schema(schema_path)
        diagnostics.extend(problems)
    if schema is None:
        return None, diagnostics
    checked: list[CheckedPack] = []
    seen: dict[tuple[str, str], str] = {}
    deferred: list[tuple[str, bytes, PackSource]] = []  # packs importing parameters
    for path in pack_files:
        compiled = _compile_file(path, names[path], schema, contents.get(path), origins)
        diagnostics.extend(compiled.problems)
        pack = compiled.pack
        if pack is None:
            continue
        if not _id_matches(pack, path):
            folder = pack.id.replace(".", "/")
            diagnostics.append(
                Diagnostic(
                    "pack/id-mismatch", pack.id_span, {"id": pack.id, "path": str(path), "folder": folder}
                )
            )
        other = seen.get((pack.id, pack.version))
        if other is not None:
            diagnostics.append(
                Diagnostic(
                    "pack/duplicate-version",
                    pack.id_span,
                    {"id": pack.id, "version": pack.version, "other": other},
                )
            )
            continue
        seen[(pack.id, pack.version)] = str(path)
        if compiled.deferred:
            if not any(d.is_error for d in compiled.problems):
                deferred.append((names[path], contents[path], pack))
            continue
        diagnostics.extend(compiled.check_problems)
        if compiled.checked is not None:
            checked.append(compiled.checked)
    providers = [p.pack for p in checked if p.kind == "parameters"]
    for name, data, pack in deferred:
        found, problems = _check_importing(name, data, pack, providers, schema)
        diagnostics.extend(problems)
        if found is not None:
            checked.append(found)
    diagnostics.extend(overlaps(checked))
    diagnostics.extend(roles(checked))
    if not any(d.is_error for d in diagnostics):  # an invariant's names, once the packs are sound
        diagnostics.extend(invariant_names(checked))
    if any(d.is_error for d in diagnostics):
        if _log.isEnabledFor(logging.INFO):
            _log.info(
                "policy set not loaded from %s: %d errors (%.3f s)",
                ", ".join(str(r) for r in roots),
                sum(1 for d in diagnostics if d.is_error),
                time.perf_counter() - started,
            )
        return None, diagnostics
    policy_set = PolicySet(schema, tuple(checked))
    if _log.isEnabledFor(logging.INFO):  # the set's hash is computed only to be logged
        _log.info(
            "policy set loaded from %s: %s, %d packs (%d versions); pack files: %d read and checked, "
            "%d from the cache, %d already read in this process, %d importing parameters; %.3f s",
            ", ".join(str(r) for r in roots),
            policy_set.content_hash,
            len(policy_set.ids),
            len(policy_set.packs),
            origins["checked"],
            origins["cache"],
            origins["process"],
            len(deferred),
            time.perf_counter() - started,
        )
    return policy_set, diagnostics


# Each pack file is read and checked once per process (see `gspolicy._memo`): its result depends
# only on its bytes, the name it is shown under and the schema it is checked against.


@attrs.frozen
class _Compiled:
    pack: PackSource | None
    problems: tuple[Diagnostic, ...]
    checked: CheckedPack | None
    check_problems: tuple[Diagnostic, ...]
    deferred: bool = False  # it imports parameters: checked once the packs it imports from are read


_compiled: Memo[tuple[str, str, int], tuple[Schema, _Compiled]] = Memo(256)


def _compile_file(
    path: Path, name: str, schema: Schema, data: bytes | None = None, origins: Counter[str] | None = None
) -> _Compiled:
    """Read and check one pack file (unless its bytes are given), or reuse the result for the same
    bytes, name and schema: from this process, else from the cache of checked packs
    (`gspolicy.pack.cache`).  `origins` counts where the result came from (``process``,
    ``cache``, ``checked``), for the log."""
    tally: Counter[str] = Counter() if origins is None else origins
    if data is None:
        data, problems = read_bytes(path, name=name)
        if data is None:
            return _Compiled(None, tuple(problems), None, ())
    key = (name, hashlib.sha256(data).hexdigest(), id(schema))
    found = _compiled.get(key)
    # the schema is kept beside the entry, so its id cannot be taken by another schema meanwhile
    if found is not None and found[0] is schema:
        tally["process"] += 1
        return found[1]
    folder = cache.cache_folder() if schema.digest else None
    stored_key = ""
    if folder is not None:
        stored_key = cache.entry_key([("schema", schema.digest.encode("ascii")), (f"pack {name}", data)])
        stored = cache.fetch(folder, stored_key, externals=(schema,))
        if isinstance(stored, _Compiled):
            tally["cache"] += 1
            return _compiled.put(key, (schema, stored))[1]
    tally["checked"] += 1
    source, problems = decode_source(data, name)
    compiled = _Compiled(None, tuple(problems), None, ()) if source is None else _compile(source, schema)
    if folder is not None:
        cache.store(folder, stored_key, compiled, externals=(schema,))
    return _compiled.put(key, (schema, compiled))[1]


def _compile(source: Source, schema: Schema) -> _Compiled:
    pack, read_problems = read_pack(source)
    compiled = _Compiled(pack, tuple(read_problems), None, ())
    if pack is not None and pack.imports:
        return attrs.evolve(compiled, deferred=True)
    if pack is not None:
        result, check_problems = check_pack(pack, schema)
        read_ok = not any(d.is_error for d in read_problems)
        compiled = _Compiled(pack, compiled.problems, result if read_ok else None, tuple(check_problems))
    return compiled


def _check_importing(
    name: str, data: bytes, pack: PackSource, providers: Sequence[PackSource], schema: Schema
) -> tuple[CheckedPack | None, list[Diagnostic]]:
    """Check a pack that imports parameters: its imports resolved against the packs of `kind:
    parameters` (`resolve_imports`), then checked as if it declared them (once per process for
    the same bytes, schema and imported parameters; not kept across processes: reading a checked
    tree from the cache costs more than checking these few packs again)."""
    resolved, problems = resolve_imports(pack, providers)
    if resolved is None:
        return None, problems
    digest = hashlib.sha256(
        json.dumps(
            canonical((resolved.imports, resolved.parameters, resolved.sources)),
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")
    ).hexdigest()
    key = (name, f"imports:{hashlib.sha256(data).hexdigest()}:{digest}", id(schema))
    found = _compiled.get(key)
    if found is None or found[0] is not schema:
        result, check_problems = check_pack(resolved, schema)
        found = _compiled.put(key, (schema, _Compiled(resolved, (), result, tuple(check_problems))))
    return found[1].checked, [*problems, *found[1].check_problems]


def resolve_imports(
    pack: PackSource, providers: Sequence[PackSource]
) -> tuple[PackSource | None, list[Diagnostic]]:
    """`pack` with the parameters it imports (``import:``) declared in it, each marked with the
    ``id@version`` it came from, and the sources they cite added: from the version of each
    imported pack (``kind: parameters``) whose validity covers the importer's.  None, with the
    problems, when an import cannot be resolved."""
    problems: list[Diagnostic] = []
    ctx = (("pack", pack.key),)
    by_id: dict[str, list[PackSource]] = {}
    for p in providers:
        by_id.setdefault(p.id, []).append(p)
    parameters = dict(pack.parameters)
    sources = dict(pack.sources)
    resolved: list[Import] = []
    for imp in pack.imports:
        versions = by_id.get(imp.pack)
        if not versions:
            problems.append(
                Diagnostic(
                    "pack/import-unknown",
                    imp.span,
                    {"id": imp.pack},
                    context=ctx,
                    suggestions=tuple(suggest(imp.pack, list(by_id))),
                )
            )
            continue
        covering = [
            v
            for v in versions
            if v.valid_from <= pack.valid_from
            and (v.valid_to is None or (pack.valid_to is not None and pack.valid_to <= v.valid_to))
        ]
        if len(covering) != 1:
            until = pack.valid_to.isoformat() if pack.valid_to else "…"
            problems.append(
                Diagnostic(
                    "pack/import-not-covered",
                    imp.span,
                    {"id": imp.pack, "from": pack.valid_from.isoformat(), "until": until},
                    context=ctx,
                )
            )
            continue
        provider = covering[0]
        for name in imp.names:
            param = provider.parameters.get(name)
            if param is None:
                problems.append(
                    Diagnostic(
                        "pack/import-unknown-parameter",
                        imp.span,
                        {"id": imp.pack, "name": name},
                        context=ctx,
                        suggestions=tuple(suggest(name, list(provider.parameters))),
                    )
                )
                continue
            if name in parameters:
                problems.append(
                    Diagnostic("pack/import-shadowed", imp.span, {"id": imp.pack, "name": name}, context=ctx)
                )
                continue
            parameters[name] = attrs.evolve(param, imported_from=provider.key)
            for source_id in dict.fromkeys(s for value in param.values for s in value.cited):
                doc = provider.sources.get(source_id)
                if doc is None:
                    continue
                held = sources.setdefault(source_id, doc)
                if held != doc:
                    problems.append(
                        Diagnostic(
                            "pack/import-source-conflict",
                            imp.span,
                            {"id": imp.pack, "name": name, "source": source_id},
                            context=ctx,
                        )
                    )
        resolved.append(attrs.evolve(imp, version=provider.version))
    if any(d.is_error for d in problems):
        return None, problems
    return attrs.evolve(pack, parameters=parameters, sources=sources, imports=tuple(resolved)), problems


def reimported(checked: CheckedPack, providers: Sequence[PackSource], schema: Schema) -> CheckedPack | None:
    """`checked` (a pack that imports parameters) with its imports resolved again against
    `providers` — when a parameters pack it imports from is replaced, as a draft replaces a pack
    in a set — and checked again; the pack itself when it imports nothing.  None when the imports
    no longer resolve or the pack no longer checks."""
    pack = checked.pack
    if not pack.imports:
        return checked
    imported = {n for i in pack.imports for n in i.names}
    bare = attrs.evolve(
        pack,
        parameters={k: v for k, v in pack.parameters.items() if not (k in imported and v.imported_from)},
        imports=tuple(attrs.evolve(i, version=None) for i in pack.imports),
    )
    resolved, problems = resolve_imports(bare, providers)
    if resolved is None:
        return None
    if resolved == pack:
        return checked
    again, problems = check_pack(resolved, schema)
    return None if any(d.is_error for d in problems) else again


def check_texts(
    items: Sequence[tuple[str, str]], schema: Schema
) -> tuple[list[CheckedPack] | None, list[Diagnostic]]:
    """Read and check packs given as (name, text) — a policy set stored in a decision log — with
    the packs that import parameters resolved against the packs of `kind: parameters` among them
    (each reused for the same name, text and schema within the process, like a pack file).  None,
    with every problem, when any pack does not check."""
    problems: list[Diagnostic] = []
    checked: list[CheckedPack] = []
    deferred: list[tuple[str, str, PackSource]] = []
    for name, text in items:
        key = (name, "text:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), id(schema))
        found = _compiled.get(key)
        if found is None or found[0] is not schema:
            found = _compiled.put(key, (schema, _compile(Source(name, text), schema)))
        compiled = found[1]
        problems.extend([*compiled.problems, *compiled.check_problems])
        if compiled.deferred and compiled.pack is not None:
            deferred.append((name, text, compiled.pack))
        elif compiled.checked is not None:
            checked.append(compiled.checked)
    providers = [p.pack for p in checked if p.kind == "parameters"]
    for name, text, pack in deferred:
        result, more = _check_importing(name, text.encode("utf-8", "surrogatepass"), pack, providers, schema)
        problems.extend(more)
        if result is not None:
            checked.append(result)
    if any(d.is_error for d in problems) or len(checked) != len(items):
        return None, problems
    return checked, problems


def load_policy_set(paths: Sequence[Path] | None = None) -> PolicySet:
    """Load a policy set or raise `PolicyError` holding every problem (warnings do not raise)."""
    policy_set, diagnostics = load_policies(paths)
    if policy_set is None:
        raise PolicyError(d for d in diagnostics if d.is_error)
    return policy_set


def _range_text(value: DatedValue, unit: str | None) -> Text:
    low = value.low.value if value.low else None
    high = value.high.value if value.high else None
    u = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return Text(zh=f"[{low}, {high}]{u}", en=f"[{low}, {high}]{u}")
    if low is not None:
        return Text(zh=f"≥ {low}{u}", en=f"at least {low}{u}")
    return Text(zh=f"≤ {high}{u}", en=f"at most {high}{u}")


def gaps(policy_set: PolicySet, as_of: dt.date) -> list[Diagnostic]:
    """The acknowledged gaps in force on `as_of`: ranges, values and criteria not established,
    low-confidence values and measure amounts (informational diagnostics)."""
    out: list[Diagnostic] = []
    day = as_of.isoformat()
    for checked in policy_set.all_in_force(as_of):
        pack = checked.pack
        for param in pack.parameters.values():
            value = param.at(as_of)
            if value is None:
                continue
            # an imported parameter's gap belongs to the pack declaring it
            ctx = (("pack", param.imported_from or pack.key),)
            pctx = (("parameter", param.name), *ctx)
            conf = value.confidence or (pack.sources[value.source].confidence if value.source else None)
            if value.kind == "range":
                out.append(
                    Diagnostic(
                        "gap/range",
                        value.span,
                        {"name": param.name, "range": _range_text(value, param.unit), "as_of": day},
                        context=ctx,
                    )
                )
            elif value.kind == "not_established":
                what = Text(zh="参数", en="parameter")
                out.append(
                    Diagnostic(
                        "gap/not-established",
                        value.span,
                        {"what": what, "name": param.name, "as_of": day},
                        context=ctx,
                    )
                )
            elif conf in LOW_CONFIDENCE:
                out.append(
                    Diagnostic(
                        "gap/low-confidence",
                        value.span,
                        {"name": param.name, "confidence": conf, "as_of": day},
                        context=pctx[1:],
                    )
                )
        ctx = (("pack", pack.key),)
        for criterion in pack.criteria:
            if criterion.not_established:
                what = Text(zh="指标", en="criterion")
                out.append(
                    Diagnostic(
                        "gap/not-established",
                        criterion.span,
                        {"what": what, "name": criterion.id, "as_of": day},
                        context=ctx,
                    )
                )
        for measure in pack.measures.values():
            if measure.amount.kind == "not_established":
                what = Text(zh="措施金额", en="the amount of measure")
                out.append(
                    Diagnostic(
                        "gap/not-established",
                        measure.span,
                        {"what": what, "name": measure.id, "as_of": day},
                        context=ctx,
                    )
                )
    # an imported parameter's gap is said once, where its value is written (not once per importer)
    once: dict[tuple[str, str, object], Diagnostic] = {}
    for d in out:
        where = (d.location.file, str(d.location.start), d.args) if isinstance(d.location, Span) else None
        once.setdefault((d.code, str(where), d.args) if where else (d.code, str(id(d)), d.args), d)
    return list(once.values())
