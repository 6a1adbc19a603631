"""What a new version changes: the structural diff of two policy sets, and its effect on households.

`load_side` reads one side of a comparison: a policy root (checked by the loader, as
``gspolicy validate`` does), a pack folder, or a single pack version file — a copy with a changed
threshold need not sit at its pack's path.  `structural_diff` pairs the versions of each pack
(by id when each side has one version of it, else by version) and lists what was added, removed or
changed — versions, validity, criteria, rules, measures, facts, parameters and each dated value,
sources, departments, applicability and buffer bases — with file:line on both sides.  `impact`
decides every household with both sides as of a date and counts the changes of exit verdict (by
county and by the criterion whose verdict changed), of batch (rule membership) and of measures,
with a few example households for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import attrs

from gspolicy._files import read_source
from gspolicy._i18n import Text
from gspolicy._location import Span
from gspolicy._messages import entry, register
from gspolicy._resources import bundled_schema_path
from gspolicy.analysis._where import key_span
from gspolicy.errors import Diagnostic
from gspolicy.explain.areas import AreaDecision, decide_areas
from gspolicy.explain.build import decide, exit_pack_of, show_value
from gspolicy.explain.decision import Decision
from gspolicy.lang import Expr, print_expr
from gspolicy.pack.hash import canonical
from gspolicy.pack.load import discover, load_policies, reimported, resolve_imports
from gspolicy.pack.model import Condition, DatedValue, PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.pack.workspace import choose, root_of
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema

__all__ = [
    "Change",
    "HouseholdChange",
    "Impact",
    "impact",
    "load_side",
    "structural_diff",
]

register(
    {
        "diff/no-packs": entry(
            "error",
            "`{path}` holds no pack",
            "`{path}` 中没有政策包",
            "give a policy root, a pack folder or a pack version file",
            "请给出政策根目录、政策包文件夹或政策包版本文件",
        ),
        "diff/level-not-decided": entry(
            "warning",
            "the {side} side has no {level} pack in force on {as_of}: its {level}s are not compared",
            "{as_of} 时{side}一侧没有有效的{level}级政策包：不比较该级",
            "compare policy roots, or packs that lie in a policy root, or choose another `--as-of`",
            "请比较政策根目录，或位于政策根目录中的政策包，或另选 `--as-of`",
        ),
        "diff/completed": entry(
            "info",
            "the {side} side is completed with the other packs of `{root}` to decide households, villages and counties",
            "{side}一侧以 `{root}` 中的其他政策包补全，以判定农户、村和县",
        ),
        "diff/import-lost": entry(
            "error",
            "on the {side} side, pack `{id}` of `{root}` imports parameters the side's parameters pack no longer gives",
            "{side}一侧：`{root}` 中的政策包 `{id}` 导入的参数在该侧的参数包中已不存在",
            "keep the parameters other packs import, or compare whole policy roots",
            "请保留其他政策包导入的参数，或比较完整的政策根目录",
        ),
        "diff/not-in-force": entry(
            "warning",
            "no version of pack `{id}` is in force on {as_of} on the {side} side: its decisions cannot change",
            "{as_of} 时{side}一侧没有政策包 `{id}` 的有效版本：相关判定不会变化",
            "choose an `--as-of` date inside the validity of the versions compared",
            "请选择在所比较版本有效期内的 `--as-of` 日期",
        ),
        "diff/schema-changed": entry(
            "info",
            "the two sides use different household schemas (`{old}` and `{new}`); households are read with each",
            "两侧使用不同的农户数据结构（`{old}` 与 `{new}`）；农户记录分别按各自的数据结构读取",
        ),
    }
)

Kind = Literal["added", "removed", "changed"]


@attrs.frozen
class Change:
    """One structural difference: what (`part` `name` of pack `pack`), and where on each side."""

    kind: Kind
    part: str  # version, validity, title, department, source, criterion, rule, measure, fact, parameter, value, applies, basis, buffer
    name: str
    pack: str  # `id@old-version → id@new-version`, or one key
    old: Span | None = None
    new: Span | None = None
    before: str | None = None  # a short rendering of the old value, when it says something
    after: str | None = None
    aspects: tuple[str, ...] = ()  # for a changed part: which of its keys changed
    effective: dt.date | None = None  # for a dated value: its effective date


# --- loading one side -------------------------------------------------------------------------------


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


# --- the structural diff ----------------------------------------------------------------------------


def _pairs(old: PolicySet, new: PolicySet) -> Iterator[tuple[str, CheckedPack | None, CheckedPack | None]]:
    for pack_id in sorted({*old.ids, *new.ids}):
        olds, news = old.versions(pack_id), new.versions(pack_id)
        if len(olds) == 1 and len(news) == 1:
            yield pack_id, olds[0], news[0]
            continue
        by_version = {v.version: v for v in news}
        for o in olds:
            yield pack_id, o, by_version.pop(o.version, None)
        for n in by_version.values():
            yield pack_id, None, n


def _same(a: object, b: object) -> bool:
    return canonical(a) == canonical(b)


def _aspects(a: object, b: object, skip: Iterable[str] = ()) -> tuple[str, ...]:
    """The keys of two model values whose canonical forms differ."""
    ca, cb = canonical(a), canonical(b)
    if not isinstance(ca, dict) or not isinstance(cb, dict):
        return ()
    ignored = {"_", *skip}
    return tuple(sorted(k for k in {*ca, *cb} if k not in ignored and ca.get(k) != cb.get(k)))


def _expr(e: Expr | None) -> str | None:
    return print_expr(e) if e is not None else None


def _value_text(value: DatedValue | None) -> str | None:
    if value is None:
        return None
    if value.kind == "not_established":
        return "not established"
    if value.kind == "range":
        low = show_value(value.low.value) if value.low else "…"
        high = show_value(value.high.value) if value.high else "…"
        return f"[{low}, {high}]"
    if isinstance(value.value, tuple):
        return "[" + ", ".join(str(v) for v in value.value) + "]"
    return show_value(value.value)


def _key_span(pack: PackSource, key: str) -> Span | None:
    return key_span(pack.source, key)


def _department_span(pack: PackSource, name: str) -> Span | None:
    block = key_span(pack.source, "departments")
    return key_span(pack.source, name, block.end) if block is not None else None


def _diff_named(
    part: str,
    label: str,
    old: Mapping[str, object],
    new: Mapping[str, object],
    spans: tuple[Mapping[str, Span | None], Mapping[str, Span | None]],
    render: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
) -> Iterator[Change]:
    """Added, removed and changed parts keyed by name (`render` gives the attribute to show)."""
    shown = render or {}
    old_spans, new_spans = spans
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        if a is None:
            yield Change("added", part, name, label, None, new_spans.get(name), None, _show(b, shown))
        elif b is None:
            yield Change("removed", part, name, label, old_spans.get(name), None, _show(a, shown), None)
        elif not _same(a, b):
            aspects = _aspects(a, b, skip)
            if not aspects:
                continue
            yield Change(
                "changed",
                part,
                name,
                label,
                old_spans.get(name),
                new_spans.get(name),
                _show(a, shown, aspects),
                _show(b, shown, aspects),
                aspects,
            )


def _show(value: object, render: Mapping[str, str], aspects: tuple[str, ...] | None = None) -> str | None:
    """The condition (or other main attribute) of a part, when it is what changed (or for a
    part added or removed)."""
    key = render.get(type(value).__name__)
    if key is None or (aspects is not None and key not in aspects):
        return None
    found = getattr(value, key, None)
    if isinstance(found, Condition):
        found = found.expr
    if isinstance(found, Expr):
        return print_expr(found)
    return None if found is None else str(found)


def _diff_parameters(label: str, old: PackSource, new: PackSource) -> Iterator[Change]:
    for name in [*old.parameters, *(n for n in new.parameters if n not in old.parameters)]:
        a, b = old.parameters.get(name), new.parameters.get(name)
        if a is None or b is None:
            kind: Kind = "added" if a is None else "removed"
            yield Change(kind, "parameter", name, label, a.span if a else None, b.span if b else None)
            continue
        meta = _aspects(a, b, skip=("values",))
        if meta:
            yield Change("changed", "parameter", name, label, a.span, b.span, aspects=meta)
        olds = {v.effective: v for v in a.values}
        news = {v.effective: v for v in b.values}
        for day in sorted({*olds, *news}):
            va, vb = olds.get(day), news.get(day)
            if va is not None and vb is not None and _same(va, vb):
                continue
            kind = "added" if va is None else "removed" if vb is None else "changed"
            yield Change(
                kind,
                "value",
                name,
                label,
                va.span if va else None,
                vb.span if vb else None,
                _value_text(va),
                _value_text(vb),
                _aspects(va, vb) if va is not None and vb is not None else (),
                day,
            )


def _diff_applies(label: str, a: PackSource, b: PackSource) -> Iterator[Change]:
    old, new = a.applies, b.applies
    if old is None and new is None:
        return
    if old is not None and new is not None:
        if not _same(old, new):
            yield Change(
                "changed",
                "applies",
                "applies",
                label,
                old.span,
                new.span,
                _expr(old.when.expr) if not _same(old.when, new.when) else None,
                _expr(new.when.expr) if not _same(old.when, new.when) else None,
                _aspects(old, new),
            )
        return
    kind: Kind = "added" if old is None else "removed"
    yield Change(
        kind,
        "applies",
        "applies",
        label,
        old.span if old else None,
        new.span if new else None,
        _expr(old.when.expr) if old else None,
        _expr(new.when.expr) if new else None,
    )


def _diff_versions(old: CheckedPack, new: CheckedPack) -> Iterator[Change]:
    a, b = old.pack, new.pack
    label = a.key if a.key == b.key else f"{a.key} → {b.key}"
    if a.version != b.version:
        yield Change(
            "changed",
            "version",
            a.id,
            label,
            _key_span(a, "version"),
            _key_span(b, "version"),
            a.version,
            b.version,
        )
    for key in ("valid_from", "valid_to"):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            yield Change(
                "changed",
                "validity",
                key,
                label,
                _key_span(a, key) or a.id_span,
                _key_span(b, key) or b.id_span,
                va.isoformat() if va else "open",
                vb.isoformat() if vb else "open",
            )
    for key in ("title", "department", "subject", "note"):
        if not _same(getattr(a, key), getattr(b, key)):
            yield Change("changed", "pack", key, label, _key_span(a, key), _key_span(b, key))
    yield from _diff_named(
        "department",
        label,
        a.departments,
        b.departments,
        (
            {n: _department_span(a, n) for n in a.departments},
            {n: _department_span(b, n) for n in b.departments},
        ),
    )
    yield from _diff_named(
        "source",
        label,
        a.sources,
        b.sources,
        ({n: s.span for n, s in a.sources.items()}, {n: s.span for n, s in b.sources.items()}),
    )
    yield from _diff_parameters(label, a, b)
    yield from _diff_named(
        "fact",
        label,
        a.facts,
        b.facts,
        ({n: f.span for n, f in a.facts.items()}, {n: f.span for n, f in b.facts.items()}),
        {"Fact": "expr"},
    )
    yield from _diff_applies(label, a, b)
    yield from _diff_named(
        "criterion",
        label,
        {c.id: c for c in a.criteria},
        {c.id: c for c in b.criteria},
        ({c.id: c.span for c in a.criteria}, {c.id: c.span for c in b.criteria}),
        {"Criterion": "require"},
    )
    yield from _diff_named(
        "measure",
        label,
        a.measures,
        b.measures,
        ({n: m.span for n, m in a.measures.items()}, {n: m.span for n, m in b.measures.items()}),
    )
    yield from _diff_named(
        "rule",
        label,
        {r.id: r for r in a.rules},
        {r.id: r for r in b.rules},
        ({r.id: r.span for r in a.rules}, {r.id: r.span for r in b.rules}),
        {"Rule": "when"},
    )
    bases_a = {x.id: x for x in a.buffer.bases} if a.buffer else {}
    bases_b = {x.id: x for x in b.buffer.bases} if b.buffer else {}
    if a.buffer is not None and b.buffer is not None and not _same(a.buffer.retained, b.buffer.retained):
        yield Change(
            "changed",
            "buffer",
            "retained",
            label,
            a.buffer.span,
            b.buffer.span,
            _expr(a.buffer.retained.expr),
            _expr(b.buffer.retained.expr),
        )
    elif (a.buffer is None) != (b.buffer is None):
        added: Kind = "added" if a.buffer is None else "removed"
        yield Change(
            added,
            "buffer",
            "buffer",
            label,
            a.buffer.span if a.buffer else None,
            b.buffer.span if b.buffer else None,
        )
    yield from _diff_named(
        "basis",
        label,
        bases_a,
        bases_b,
        ({n: x.span for n, x in bases_a.items()}, {n: x.span for n, x in bases_b.items()}),
        {"Basis": "active"},
    )


def structural_diff(old: PolicySet, new: PolicySet) -> list[Change]:
    """Every structural difference between the two sets, pack by pack, in file order."""
    out: list[Change] = []
    for pack_id, a, b in _pairs(old, new):
        if a is None and b is not None:
            out.append(Change("added", "version", pack_id, b.key, None, b.pack.id_span, None, b.version))
        elif b is None and a is not None:
            out.append(Change("removed", "version", pack_id, a.key, a.pack.id_span, None, a.version, None))
        elif a is not None and b is not None and a.content_hash != b.content_hash:
            out.extend(_diff_versions(a, b))
    return out


# --- the impact on a population ----------------------------------------------------------------------


@attrs.frozen
class HouseholdChange:
    """How one household's decision differs between the two sides."""

    household: str
    county: str
    verdict: tuple[str, str] | None  # (old, new) when the exit verdict changed
    reasons: tuple[str, ...]  # e.g. `exit.income: pass → fail`, `applicability: assessed → not_applicable`
    batches: tuple[str, ...]  # e.g. `seven_batches.water/water.safe: no → yes`
    measures: tuple[str, ...]  # e.g. `dibao: granted → not granted`, `dibao: 1200 → 1500`


@attrs.frozen
class Impact:
    """The decisions of a population under both sides, as of one date."""

    as_of: dt.date
    households: int
    changes: tuple[HouseholdChange, ...]
    examples: int = 3

    def _group(
        self, keys: Iterable[tuple[HouseholdChange, Iterable[str]]]
    ) -> list[tuple[str, int, tuple[str, ...]]]:
        counts: dict[str, list[str]] = {}
        for change, found in keys:
            for key in found:
                counts.setdefault(key, []).append(change.household)
        rows = [(k, len(v), tuple(v[: self.examples])) for k, v in counts.items()]
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    @property
    def verdict_changes(self) -> int:
        return sum(c.verdict is not None for c in self.changes)

    def by_transition(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """Verdict changes by `old → new`, with example households."""
        return self._group((c, [f"{c.verdict[0]} → {c.verdict[1]}"]) for c in self.changes if c.verdict)

    def by_county(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """Verdict changes by county code."""
        rows = self._group((c, [c.county]) for c in self.changes if c.verdict)
        return sorted(rows, key=lambda r: r[0])

    def by_county_transition(self) -> dict[str, dict[str, int]]:
        """County → `old → new` → households."""
        out: dict[str, dict[str, int]] = {}
        for c in self.changes:
            if c.verdict:
                row = out.setdefault(c.county, {})
                key = f"{c.verdict[0]} → {c.verdict[1]}"
                row[key] = row.get(key, 0) + 1
        return dict(sorted(out.items()))

    def by_reason(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """Verdict changes by the criterion (or applicability) whose verdict changed."""
        return self._group((c, c.reasons) for c in self.changes if c.verdict)

    def by_batch(self) -> list[tuple[str, int, tuple[str, ...]]]:
        return self._group((c, c.batches) for c in self.changes)

    def by_measure(self) -> list[tuple[str, int, tuple[str, ...]]]:
        return self._group((c, c.measures) for c in self.changes)


def _verdict(decision: Decision) -> str:
    return decision.verdict or "none"


def _reasons(old: Decision, new: Decision) -> tuple[str, ...]:
    out: list[str] = []
    a_app, b_app = old.applicability, new.applicability
    if (a_app.status if a_app else None) != (b_app.status if b_app else None):
        out.append(
            f"applicability: {a_app.status if a_app else 'none'} → {b_app.status if b_app else 'none'}"
        )
    olds = {c.id: c.verdict for c in old.criteria}
    news = {c.id: c.verdict for c in new.criteria}
    for cid in [*olds, *(c for c in news if c not in olds)]:
        va, vb = olds.get(cid, "absent"), news.get(cid, "absent")
        if va != vb:
            out.append(f"{cid}: {va} → {vb}")
    return tuple(out) or ("(no single criterion)",)


def _batches(old: Decision, new: Decision) -> tuple[str, ...]:
    olds = {(m.pack.split("@")[0], m.rule): m.applies for m in old.memberships}
    news = {(m.pack.split("@")[0], m.rule): m.applies for m in new.memberships}
    out = []
    for key in sorted({*olds, *news}):
        va, vb = olds.get(key, "absent"), news.get(key, "absent")
        if va != vb:
            out.append(f"{key[0]}/{key[1]}: {va} → {vb}")
    return tuple(out)


def _measures(old: Decision, new: Decision) -> tuple[str, ...]:
    olds: dict[str, str | None] = {m: amount for m, amount, _ in old.support}
    news: dict[str, str | None] = {m: amount for m, amount, _ in new.support}
    out = []
    for measure in sorted({*olds, *news}):
        if measure not in news:
            out.append(f"{measure}: granted → not granted")
        elif measure not in olds:
            out.append(f"{measure}: not granted → granted")
        elif olds[measure] != news[measure]:
            out.append(f"{measure}: {olds[measure] or '?'} → {news[measure] or '?'}")
    return tuple(out)


def impact(
    old: PolicySet,
    new: PolicySet,
    records: Sequence[Record],
    as_of: dt.date,
    *,
    new_records: Sequence[Record] | None = None,
    examples: int = 3,
    exit_pack: str | None = None,
) -> Impact:
    """Decide every household with both sides as of `as_of` and keep those whose decision differs.

    `new_records` are the same households read with the new side's schema when it differs.
    Both sides decide the population by the columnar runner; only the households whose outcome
    rows differ are decided again, explained, to say how.
    """
    changes: list[HouseholdChange] = []
    again_records = new_records or records
    for index in _candidates(old, new, records, again_records, as_of, exit_pack):
        record, again = records[index], again_records[index]
        a = decide(old, record, as_of, exit_pack=exit_pack)
        b = decide(new, again, as_of, exit_pack=exit_pack)
        verdict = (_verdict(a), _verdict(b)) if a.verdict != b.verdict else None
        batches = _batches(a, b)
        measures = _measures(a, b)
        if verdict is None and not batches and not measures:
            continue
        changes.append(
            HouseholdChange(
                a.household,
                str(record.get("county_code", "?")),
                verdict,
                _reasons(a, b) if verdict else (),
                batches,
                measures,
            )
        )
    return Impact(as_of, len(records), tuple(changes), examples)


def _candidates(
    old: PolicySet,
    new: PolicySet,
    records: Sequence[Record],
    new_records: Sequence[Record],
    as_of: dt.date,
    exit_pack: str | None,
) -> list[int]:
    """The households whose outcome rows differ between the sides: exit verdict, the verdict of
    a pack (by id), the rules that hold or are undetermined, or the support.  A household whose
    explained decisions differ in verdict, batch or measure has a differing row, so the others
    need no explaining."""
    import polars as pl  # noqa: PLC0415  # Polars only when a population is decided

    from gspolicy.columnar.runner import decide_frame  # noqa: PLC0415

    if len(records) != len(new_records):
        raise ValueError("the two sides need the same households")
    if not records:
        return []
    subject = records[0].type_name

    def rules_of(policy_set: PolicySet) -> set[tuple[str, str]]:
        return {(p.id, r) for p in policy_set.all_in_force(as_of) if p.subject == subject for r in p.rules}

    if rules_of(old) != rules_of(new):
        return list(range(len(records)))  # a rule on one side only: every household's batches differ
    sides = []
    for policy_set, given in ((old, records), (new, new_records)):
        verdict_pack = exit_pack if exit_pack is not None else exit_pack_of(policy_set, subject)
        table, _report = decide_frame(policy_set, list(given), as_of, exit_pack=verdict_pack)
        keys = {p.key: p.id for p in policy_set.all_in_force(as_of) if p.subject == given[0].type_name}
        packs = (
            table.select(
                pl.concat_str(
                    [
                        pl.concat_str(
                            pl.lit(pack_id), pl.col("packs").struct.field(key).fill_null("-"), separator="="
                        )
                        for key, pack_id in sorted(keys.items(), key=lambda kv: kv[1])
                    ],
                    separator="\x1f",
                ).alias("packs")
            )["packs"]
            if keys
            else pl.Series("packs", [""] * table.height)
        )
        sides.append(
            table.select(
                pl.col("verdict").fill_null("-"),
                pl.col("rules").list.sort().list.join("\x1f"),
                pl.col("rules_undetermined").list.sort().list.join("\x1f"),
                pl.col("support").list.join("\x1f"),
            ).with_columns(packs)
        )
    differs = pl.any_horizontal([sides[0][c] != sides[1][c] for c in sides[0].columns])
    return pl.select(differs.arg_true()).to_series().to_list()


@attrs.frozen
class AreaChange:
    """How one village's or county's decision differs between the two sides."""

    level: str
    code: str
    name: str | None
    verdict: tuple[str, str] | None  # (old, new) when the verdict changed
    reasons: tuple[str, ...]  # criteria whose verdict changed
    figures: tuple[str, ...]  # e.g. `poverty_incidence: 0.031 → 0.029`


@attrs.frozen
class AreaImpact:
    """The village and county decisions under both sides, as of one date."""

    as_of: dt.date
    areas: Mapping[str, int]  # level -> how many were decided
    changes: tuple[AreaChange, ...]


def _area_changes(old: Sequence[AreaDecision], new: Sequence[AreaDecision]) -> list[AreaChange]:
    out: list[AreaChange] = []
    after = {(a.level, a.code): a for a in new}
    for a in old:
        b = after.get((a.level, a.code))
        if b is None:
            continue
        verdict = (_verdict(a.decision), _verdict(b.decision)) if a.verdict != b.verdict else None
        figures_a = {f.name: f.value for f in a.figures}
        figures_b = {f.name: f.value for f in b.figures}
        figures = tuple(
            f"{name}: {figures_a.get(name) or '?'} → {figures_b.get(name) or '?'}"
            for name in sorted({*figures_a, *figures_b})
            if figures_a.get(name) != figures_b.get(name)
        )
        reasons = _reasons(a.decision, b.decision) if verdict else ()
        if verdict or figures:
            out.append(AreaChange(a.level, a.code, a.name, verdict, reasons, figures))
    return out


def area_impact(
    old: PolicySet, new: PolicySet, records: Mapping[str, Sequence[Record]], as_of: dt.date
) -> AreaImpact:
    """Decide every village and county in `records` with both sides as of `as_of` (households
    gathered as usual) and keep those whose verdict or figures differ."""
    a = decide_areas(old, records, as_of)
    b = decide_areas(new, records, as_of)
    changes = _area_changes(a.villages, b.villages) + _area_changes(a.counties, b.counties)
    return AreaImpact(as_of, {"village": len(a.villages), "county": len(a.counties)}, tuple(changes))


def not_in_force(
    old: PolicySet, new: PolicySet, changes: Sequence[Change], as_of: dt.date
) -> list[Diagnostic]:
    """Warnings for changed packs with no version in force on `as_of` on one side."""
    ids = sorted({c.pack.split("@")[0] for c in changes})
    out: list[Diagnostic] = []
    for pack_id in ids:
        for side, policy_set in ((Text(zh="旧", en="old"), old), (Text(zh="新", en="new"), new)):
            if pack_id in policy_set.ids and policy_set.in_force(pack_id, as_of) is None:
                out.append(
                    Diagnostic(
                        "diff/not-in-force", None, {"id": pack_id, "as_of": as_of.isoformat(), "side": side}
                    )
                )
    return out


def schema_note(old: Schema, new: Schema) -> list[Diagnostic]:
    if old == new:
        return []
    return [
        Diagnostic(
            "diff/schema-changed", None, {"old": f"{old.id}@{old.version}", "new": f"{new.id}@{new.version}"}
        )
    ]
