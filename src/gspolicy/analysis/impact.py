"""A new version's effect: every household, village and county decided with both sides of a
comparison, and what changes (exit verdict by county and reason, batches, measures, area figures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import attrs

from gspolicy.explain.areas import AreaDecision, decide_areas
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Decision
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record

__all__ = ["AreaChange", "AreaImpact", "HouseholdChange", "Impact", "area_impact", "impact"]


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
    county = old.schema.role(roles.COUNTY_CODE) or ""  # the records read with the old side's schema
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
                str(record.get(county, "?")),
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
