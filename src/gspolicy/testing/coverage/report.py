"""The coverage report: what the cases reach of each decision and condition, its gaps, totals and text.

`coverage` measures a set of cases into one; `CoverageReport.render` writes it in zh or en.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from gspolicy._i18n import Lang
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.testing.cases import Case
from gspolicy.testing.coverage.measure import (
    Observation,
    case_items,
    condition_text,
    decision_points,
    mcdc_pairs,
    memo_scope,
    observations_of,
    selected_packs,
)


@attrs.frozen
class ConditionCoverage:
    text: str
    line: int
    true_in: tuple[str, ...]  # cases
    false_in: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # MC/DC pairs (true case, false case)


@attrs.frozen
class DecisionCoverage:
    pack: str
    kind: str
    name: str
    location: str
    evaluations: int
    true_in: tuple[str, ...]
    false_in: tuple[str, ...]
    conditions: tuple[ConditionCoverage, ...]

    @property
    def compound(self) -> bool:
        return len(self.conditions) > 1


@attrs.frozen
class Gap:
    """Something no case reaches: an outcome, a condition value or an MC/DC pair."""

    pack: str
    decision: str  # `kind name`
    location: str
    what: str  # "true", "false", "condition `x` true", "MC/DC pair for `x`"
    reason: str | None = None  # set when the gap is infeasible


@attrs.frozen
class CoverageReport:
    decisions: tuple[DecisionCoverage, ...]
    gaps: tuple[Gap, ...]
    infeasible: tuple[Gap, ...] = ()

    def totals(self, pack: str | None = None) -> tuple[int, int, int]:
        """(met, obligations, infeasible) for one pack version (`id@version`), one pack id, or all."""

        def mine(p: str) -> bool:
            return pack is None or p == pack or p.split("@", maxsplit=1)[0] == pack

        met = total = 0
        for d in self.decisions:
            if not mine(d.pack):
                continue
            total += 2
            met += bool(d.true_in) + bool(d.false_in)
            if d.compound:
                for c in d.conditions:
                    total += 3
                    met += bool(c.true_in) + bool(c.false_in) + bool(c.pairs)
        infeasible = sum(1 for g in self.infeasible if mine(g.pack))
        return met, total, infeasible

    def percent(self, pack: str | None = None) -> float:
        met, total, infeasible = self.totals(pack)
        feasible = total - infeasible
        return 100.0 if feasible <= 0 else 100.0 * met / feasible

    def render(self, lang: Lang = "en") -> str:
        zh = lang == "zh"
        lines: list[str] = []
        packs = sorted({d.pack for d in self.decisions})
        for pack in packs:
            met, total, infeasible = self.totals(pack)
            head = (
                f"{pack}：覆盖 {self.percent(pack):.1f}%（{met}/{total - infeasible} 项；不可达 {infeasible} 项）"
                if zh
                else f"{pack}: {self.percent(pack):.1f}% covered ({met}/{total - infeasible} obligations; "
                f"{infeasible} infeasible)"
            )
            lines.append(head)
            for d in (d for d in self.decisions if d.pack == pack):
                outcome = f"{'T' if d.true_in else '·'}{'F' if d.false_in else '·'}"
                lines.append(f"  [{outcome}] {d.kind} {d.name}  ({d.location}, {d.evaluations} evaluations)")
                if d.compound:
                    for c in d.conditions:
                        tf = f"{'T' if c.true_in else '·'}{'F' if c.false_in else '·'}"
                        if c.pairs:
                            pair = c.pairs[0]
                            shown = f"MC/DC: `{pair[0]}` / `{pair[1]}`"
                        else:
                            shown = "MC/DC: 无" if zh else "MC/DC: none"
                        lines.append(f"      [{tf}] {c.text}  — {shown}")
        if self.gaps:
            lines.append("没有用例达到的：" if zh else "not reached by any case:")
            lines.extend(f"  {g.location}: {g.pack} {g.decision}: {g.what}" for g in self.gaps)
        if self.infeasible:
            lines.append("不可达（没有农户能达到）：" if zh else "infeasible (no household can reach them):")
            lines.extend(
                f"  {g.location}: {g.pack} {g.decision}: {g.what} — {g.reason}" for g in self.infeasible
            )
        met, total, infeasible = self.totals()
        lines.append(
            f"合计：{self.percent():.1f}%（{met}/{total - infeasible}）"
            if zh
            else f"total: {self.percent():.1f}% ({met}/{total - infeasible})"
        )
        return "\n".join(lines) + "\n"


def report_of(
    packs: Sequence[CheckedPack],
    observations: Mapping[str, list[Observation]],
    infeasible: Sequence[Gap] = (),
) -> CoverageReport:
    decisions: list[DecisionCoverage] = []
    gaps: list[Gap] = []
    closed = {(g.pack, g.decision, g.what) for g in infeasible}
    for pack in packs:
        for point in decision_points(pack):
            obs = observations.get(point.key, [])
            conditions = []
            for i, leaf in enumerate(point.leaves):
                conditions.append(
                    ConditionCoverage(
                        condition_text(leaf),
                        leaf.span.line,
                        tuple(sorted({o.case for o in obs if o.values[i] == "T"})),
                        tuple(sorted({o.case for o in obs if o.values[i] == "F"})),
                        tuple(mcdc_pairs(obs, i)) if len(point.leaves) > 1 else (),
                    )
                )
            d = DecisionCoverage(
                pack.key,
                point.kind,
                point.name,
                point.location,
                len(obs),
                tuple(sorted({o.case for o in obs if o.outcome == "T"})),
                tuple(sorted({o.case for o in obs if o.outcome == "F"})),
                tuple(conditions),
            )
            decisions.append(d)
            decision = f"{point.kind} {point.name}"
            wanted: list[str] = []
            if not d.true_in:
                wanted.append("true")
            if not d.false_in:
                wanted.append("false")
            if d.compound:
                for c in d.conditions:
                    if not c.true_in:
                        wanted.append(f"condition `{c.text}` true")
                    if not c.false_in:
                        wanted.append(f"condition `{c.text}` false")
                    if not c.pairs:
                        wanted.append(f"MC/DC pair for `{c.text}`")
            for what in wanted:
                if (pack.key, decision, what) not in closed:
                    gaps.append(Gap(pack.key, decision, point.location, what))
    kept = tuple(g for g in infeasible if any(d.pack == g.pack for d in decisions))
    return CoverageReport(tuple(decisions), tuple(gaps), kept)


def coverage(
    cases: Sequence[Case], policy_set: PolicySet, *, packs: Sequence[str] | None = None
) -> CoverageReport:
    """The coverage of the pack versions of `policy_set` (or of `packs`, ids or ``id@version``) by `cases`."""
    chosen = selected_packs(policy_set, packs)
    with memo_scope():
        return report_of(chosen, observations_of(policy_set, case_items(cases, policy_set), chosen))
