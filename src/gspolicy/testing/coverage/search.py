"""Filling coverage gaps: a household and a date found for each gap, or the reason none can be.

`fill_gaps` runs a bounded search (see `gspolicy.testing.coverage`); a gap it cannot close is
infeasible by the decision's structure (`structurally_possible`) or not reached by the search.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

import attrs
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample, Unsatisfiable

from gspolicy.lang.typed import (
    TBool,
    TConst,
    TNot,
    TypedExpr,
)
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.strategies.boundary import boundary_households
from gspolicy.testing.cases import Case
from gspolicy.testing.coverage.measure import (
    DecisionPoint,
    Observation,
    Truth,
    case_items,
    condition_text,
    decision_points,
    independent,
    memo_scope,
    observations_of,
    observe,
    read_paths,
    runs_of,
    selected_packs,
)
from gspolicy.testing.coverage.report import CoverageReport, Gap, report_of


@attrs.frozen
class Found:
    """A household and date found to close a gap."""

    gap: Gap
    pack: CheckedPack = attrs.field(repr=False)
    record: Record
    as_of: dt.date


def _dates(pack: CheckedPack, cases: Sequence[tuple[str, Record, dt.date]], limit: int = 12) -> list[dt.date]:
    """Dates to search on: the version's first and last day, the days around its date parameters,
    then the cases' dates inside the version (at most `limit`)."""
    source = pack.pack
    last = source.valid_to or max(source.valid_from + dt.timedelta(days=3650), dt.date(2026, 1, 1))
    first: list[dt.date] = [source.valid_from, last]
    for param in source.parameters.values():
        for value in param.values:
            if isinstance(value.value, dt.date):
                first.extend(value.value + dt.timedelta(days=k) for k in (-1, 0, 1))
            first.append(value.effective)
    first.extend(sorted({d for _, _, d in cases}))
    out: list[dt.date] = []
    for day in first:
        if source.in_force(day) and day not in out:
            out.append(day)
    return out[:limit]


def _wanted(gap: Gap, point: DecisionPoint) -> tuple[str, int | None]:
    if gap.what in ("true", "false"):
        return gap.what, None
    match = re.fullmatch(r"(?:condition `(.*)` (true|false)|MC/DC pair for `(.*)`)", gap.what, re.DOTALL)
    assert match is not None, gap.what
    text = match.group(1) or match.group(3)
    index = next(i for i, leaf in enumerate(point.leaves) if condition_text(leaf) == text)
    return ("pair" if match.group(3) else match.group(2)), index


def _closes(obs: Sequence[Observation], pool: Sequence[Observation], want: str, index: int | None) -> bool:
    for o in obs:
        if index is None:
            if o.outcome == ("T" if want == "true" else "F"):
                return True
        elif want in ("true", "false"):
            if o.values[index] == ("T" if want == "true" else "F"):
                return True
        elif any(independent(o, p, index) for p in [*pool, *obs] if p is not o):
            return True
    return False


def fill_gaps(
    cases: Sequence[Case],
    policy_set: PolicySet,
    *,
    packs: Sequence[str] | None = None,
    max_examples: int = 600,
) -> tuple[CoverageReport, list[Found]]:
    """Search for a household closing every gap (see the module doc for the method).

    Returns the coverage by `cases` — with the gaps the search shows to be infeasible moved to
    `CoverageReport.infeasible`, with their reason — and the households found for the others
    (`write_cases` writes them as YAML cases)."""
    with memo_scope():
        return _fill_gaps(cases, policy_set, packs, max_examples)


def _fill_gaps(
    cases: Sequence[Case], policy_set: PolicySet, packs: Sequence[str] | None, max_examples: int
) -> tuple[CoverageReport, list[Found]]:
    chosen = selected_packs(policy_set, packs)
    items = case_items(cases, policy_set)
    observations = observations_of(policy_set, items, chosen)
    by_cases = {k: list(v) for k, v in observations.items()}
    report = report_of(chosen, observations)
    found: list[Found] = []
    infeasible: list[Gap] = []
    by_key = {p.key: p for p in chosen}
    config = settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    sources: dict[str, tuple[Record, dt.date]] = {label: (record, day) for label, record, day in items}
    # outcomes and condition values first: the households found for them are partners for MC/DC
    ordered = sorted(report.gaps, key=lambda g: g.what.startswith("MC/DC"))
    for gap in ordered:
        pack = by_key[gap.pack]
        point = next(p for p in decision_points(pack) if f"{p.kind} {p.name}" == gap.decision)
        pool = observations[point.key]
        if _closes([], pool, *_wanted(gap, point)):
            continue  # closed by a household found for an earlier gap
        want, index = _wanted(gap, point)
        structural = _structural(point, want, index)
        if structural is not None:
            infeasible.append(attrs.evolve(gap, reason=structural))
            continue
        if want == "pair" and index is not None and not structurally_possible(point, index):
            infeasible.append(
                attrs.evolve(
                    gap,
                    reason="no assignment of true and false to the conditions makes this condition alone "
                    "change the outcome (the decision's structure masks it)",
                )
            )
            continue
        hit = None
        if want == "pair" and index is not None:
            # a partner is most often the same household with this one condition flipped
            partners = [sources[o.case] for o in pool if o.values[index] in "TF" and o.outcome in "TF"]
            partners = [p for p in dict.fromkeys(partners) if pack.pack.in_force(p[1])]
            if partners:
                hit = _search(
                    policy_set, pack, point, pool, want, index, [r for r, _ in partners], partners, config
                )
        if hit is None:
            # the bases and dates of the pack's own subject: a county pack never starts from a household
            own = [item for item in items if item[1].type_name == pack.subject]
            hit = _search(policy_set, pack, point, pool, want, index, [r for _, r, _ in own], own, config)
        if hit is None:
            reason = (
                f"not reached by a bounded search (up to {max_examples} households per gap, around every "
                "threshold of the pack, on dates across the version's validity)"
            )
            if index is not None:
                reason += _coupling(point, index)
            infeasible.append(attrs.evolve(gap, reason=reason))
            continue
        record, as_of = hit
        found.append(Found(gap, pack, record, as_of))
        label = f"(generated {len(found)})"
        sources[label] = (record, as_of)
        for p in chosen:
            if p.pack.in_force(as_of):
                runs = runs_of(p, record, as_of)
                for other in decision_points(p):
                    observations[other.key].extend(observe(other, runs, label))
    return report_of(chosen, by_cases, infeasible), found


def _coupling(point: DecisionPoint, index: int) -> str:
    """Why a condition may not change alone: other conditions read the same fields."""

    def paths(leaf: TypedExpr) -> set[str]:
        return set(read_paths(attrs.evolve(point, root=leaf, leaves=(leaf,))))

    mine = paths(point.leaves[index])
    others = [
        condition_text(leaf) for i, leaf in enumerate(point.leaves) if i != index and paths(leaf) & mine
    ]
    if not others:
        return ""
    shared = ", ".join(f"`{p}`" for p in sorted(mine))
    return (
        f"; it reads {shared}, which {', '.join(f'`{o}`' for o in others)} also reads"
        " (coupled conditions: one cannot change without the other)"
    )


def _search(
    policy_set: PolicySet,
    pack: CheckedPack,
    point: DecisionPoint,
    pool: Sequence[Observation],
    want: str,
    index: int | None,
    bases: Sequence[Record],
    items: Sequence[tuple[str, Record, dt.date]] | Sequence[tuple[Record, dt.date]],
    config: settings,
) -> tuple[Record, dt.date] | None:
    dates = _dates(pack, [("", item[-2], item[-1]) for item in items])
    if not dates:
        return None
    for day in dates:  # first the cases' own households on every date: often enough
        for record in dict.fromkeys(bases):
            if _closes(observe(point, runs_of(pack, record, day), "candidate"), pool, want, index):
                return record, day
    base = st.sampled_from(bases) if bases else None
    per_date = max(25, config.max_examples // max(1, len(dates)))
    for day in dates:
        try:
            households = boundary_households(
                policy_set, as_of=day, base=base, pack=pack.id, fields=read_paths(point), max_changes=4
            )
        except InvalidArgument:
            households = base if base is not None else st.nothing()

        def closes(record: Record, day: dt.date = day) -> bool:
            runs = runs_of(pack, record, day)
            return _closes(observe(point, runs, "candidate"), pool, want, index)

        try:
            record = find(households, closes, settings=settings(config, max_examples=per_date))
        except (NoSuchExample, Unsatisfiable):
            continue
        valid, _ = validate_record(record.to_data(), policy_set.schema, record=record.type_name)
        if valid is not None:
            return valid, day
    return None


# -- what the structure of a decision rules out ----------------------------------------------------


def _abstract(
    node: TypedExpr, leaves: Sequence[TypedExpr], assignment: Sequence[bool], out: list[Truth]
) -> bool:
    """Evaluate the and/or/not structure with short-circuits, recording which leaves are reached."""
    if isinstance(node, TBool):
        decisive = node.op == "or"
        for operand in node.operands:
            if _abstract(operand, leaves, assignment, out) is decisive:
                return decisive
        return not decisive
    if isinstance(node, TNot):
        return not _abstract(node.operand, leaves, assignment, out)
    index = next(i for i, leaf in enumerate(leaves) if leaf is node)
    value = assignment[index] if not isinstance(node, TConst) else node.value is True
    out[index] = "T" if value else "F"
    return value


def _structural(point: DecisionPoint, want: str, index: int | None) -> str | None:
    """Why a decision outcome or condition value is impossible by the decision's structure alone."""
    if index is not None and want in ("true", "false") and isinstance(point.leaves[index], TConst):
        return "the condition is a constant"
    if index is None and len(point.leaves) <= 12:
        outcomes = set()
        for bits in itertools.product((True, False), repeat=len(point.leaves)):
            outcomes.add(_abstract(point.root, point.leaves, bits, ["-"] * len(point.leaves)))
        if (want == "true") not in outcomes:
            return f"no assignment of true and false to its conditions makes the decision {want} (a constant condition decides it)"
    return None


def structurally_possible(point: DecisionPoint, index: int) -> bool:
    """Whether some two assignments of true/false to the conditions form an MC/DC pair for `index`."""
    n = len(point.leaves)
    if n > 12:
        return True
    observations = []
    for bits in itertools.product((True, False), repeat=n):
        reached: list[Truth] = ["-"] * n
        outcome = _abstract(point.root, point.leaves, bits, reached)
        observations.append(Observation(str(bits), "T" if outcome else "F", tuple(reached)))
    return any(independent(a, b, index) for a, b in itertools.combinations(observations, 2))
