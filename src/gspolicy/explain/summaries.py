"""The main job's summary, computed from an outcome table a block at a time (never the whole table).

The table is the frames of `Policies.decide_table`; a run need not hold it.

The summary answers an officer's questions in the order they are asked, grouped by the packs'
roles (``kind:``): how many households pass, fail or are undetermined for exit, and what blocks
them; what would settle the undetermined exit verdicts (the settle sets of those verdicts alone —
not of every rule — with member indices folded: ``members[].migrant_worker``); the nine batches
only, as a table of shares per county with the county names beside the codes; then the data-quality
findings, monitoring alerts, identification, buffer and invariants, each in its own line.  It
fits in `WIDTH` columns (CJK characters count two).  `area_overview` adds the villages and counties
in a few lines.  `gspolicy.explain.summary.household_summary` gives the same text from `Outcome`s.

Imports Polars, so the command line imports this module only when it decides a table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
import polars as pl

from gspolicy._glossary import word
from gspolicy._i18n import Lang, Text
from gspolicy._location import display_width
from gspolicy.schema import roles

if TYPE_CHECKING:
    from gspolicy.engine.outcome import Outcome
    from gspolicy.explain.areas import AreaResult
    from gspolicy.pack.policy_set import PolicySet

__all__ = [
    "WIDTH",
    "PackInfo",
    "SummaryCounts",
    "SummaryPlan",
    "area_overview",
    "county_names",
    "exit_settle",
    "folded",
    "summary_plan",
    "table_examples",
    "table_summary",
]

WIDTH = 120
"""The summary's widest line, in terminal columns."""

VERDICTS = ("pass", "fail", "undetermined", "not_applicable")
_INDEX = re.compile(r"\[(\d+|\*)\]")


def folded(path: str) -> str:
    """A data path with its list indices folded: ``members[3].migrant_worker`` →
    ``members[].migrant_worker`` (a pack's ``members[*]`` reads fold the same way)."""
    return _INDEX.sub("[]", path)


def table_examples(table: pl.DataFrame, n: int) -> list[int]:
    """The rows of up to `n` households to explain: one of each verdict first, then in order."""
    if n <= 0:
        return []
    verdicts = table["verdict"].to_list()
    picked: list[int] = []
    for verdict in VERDICTS:
        found = next((i for i, v in enumerate(verdicts) if v == verdict), None)
        if found is not None:
            picked.append(found)
    chosen = set(picked)
    rest = [i for i in range(len(verdicts)) if i not in chosen]
    return (picked + rest)[:n]


@attrs.frozen
class PackInfo:
    """A pack in force as the summary names it."""

    id: str
    key: str  # id@version
    kind: str
    title: Text
    has_rules: bool


@attrs.frozen
class SummaryPlan:
    """What the summary knows of the household packs in force (`summary_plan`)."""

    packs: tuple[PackInfo, ...]
    exit_pack: str = ""  # its id ("" when the set has none)
    criteria: Mapping[str, Text] = attrs.field(factory=dict)  # the exit pack's criteria, in order
    county: str = ""  # the household field of the role `county_code` ("" when none plays it)

    def of_kind(self, *kinds: str) -> list[PackInfo]:
        return [p for p in self.packs if p.kind in kinds and p.has_rules]

    @property
    def exit_key(self) -> str:
        return next((p.key for p in self.packs if p.id == self.exit_pack), self.exit_pack)


def summary_plan(policy_set: PolicySet, as_of: dt.date) -> SummaryPlan:
    """What the summary of a run over households as of `as_of` needs to know of its packs."""
    in_force = sorted(
        (p for p in policy_set.all_in_force(as_of) if p.subject == policy_set.schema.root), key=lambda p: p.id
    )
    exit_id = policy_set.exit_pack(None) or ""
    packs = tuple(PackInfo(p.id, p.key, p.kind, p.pack.title, bool(p.pack.rules)) for p in in_force)
    exit_pack = next((p for p in in_force if p.id == exit_id), None)
    county = policy_set.schema.role(roles.COUNTY_CODE) or ""
    criteria = {c.id: c.title for c in exit_pack.pack.criteria} if exit_pack is not None else {}
    return SummaryPlan(packs, exit_id, criteria, county)


def exit_settle(outcome: Outcome) -> list[str]:
    """What would settle `outcome`'s undetermined exit verdict: the exit pack's applicability
    and its undetermined criteria, never another pack's rules — folded, once each, in order."""
    result = outcome.pack(outcome.exit_pack)
    if result is None:
        return []
    found = list(result.settle)
    for criterion in result.criteria:
        if criterion.verdict == "undetermined":
            found.extend(criterion.settle)
    return list(dict.fromkeys(folded(m) for m in found))


class SummaryCounts:
    """What the summary counts, added a block of the outcome table at a time: the text `render`
    gives is that of the whole table, line for line."""

    def __init__(self, plan: SummaryPlan, *, listing: bool = False) -> None:
        self.plan = plan
        self.listing = listing
        self.rows = 0
        self.verdicts: Counter[str | None] = Counter()
        self.failing: Counter[str] = Counter()
        self.settle: Counter[str] = Counter()  # households, by folded item, in first-seen order
        self.findings: Counter[str] = Counter()  # violated invariants, broken exclusive groups
        self.rules: Counter[str] = Counter()  # `pack:rule` → households it holds for
        self.buffer: Counter[str] = Counter()
        self.shared = [p.id for p in plan.packs if p.has_rules]
        self.counties: dict[str, list[int]] = {}  # households, then yes and undetermined per pack
        self.lines: list[tuple[str, str | None, list[str], list[str]]] = []

    def add(
        self, table: pl.DataFrame, county_of: Sequence[str], settle_of: Callable[[int], Iterable[str]]
    ) -> None:
        """Count a block of the outcome table (`county_of`: each row's county code; `settle_of`:
        what would settle the undetermined exit verdict of a row of the block, `exit_settle` of
        its outcome — the table's `missing` column joins every pack's gaps)."""
        if table.height == 0:
            return
        self.rows += table.height
        for verdict, n in table.group_by("verdict", maintain_order=True).len().iter_rows():
            self.verdicts[verdict] += n
        assessed = table.filter(pl.col("verdict").is_null() | (pl.col("verdict") != "not_applicable"))
        self.failing.update(dict(_counted(assessed, "failing")))
        for row in table.with_row_index("__row").filter(pl.col("verdict") == "undetermined")["__row"]:
            self.settle.update(list(dict.fromkeys(folded(m) for m in settle_of(row))))
        if "findings" in table.columns:
            self.findings.update(dict(_counted(table, "findings")))
        self.rules.update(dict(_counted(table, "rules")))
        if "buffer" in table.columns:
            self.buffer.update({str(k): n for k, n in table.group_by("buffer").len().iter_rows() if k})
        if self.shared:
            for county, counts in _per_county(table, county_of, self.shared):
                found = self.counties.setdefault(county, [0] * len(counts))
                self.counties[county] = [a + b for a, b in zip(found, counts, strict=True)]
        if self.listing:
            self.lines.extend(table.select("id", "verdict", "failing", "undetermined").iter_rows())

    def merge(self, other: SummaryCounts) -> None:
        """Count `other`'s rows after this one's, as if its blocks had been added here (the
        counts of the parts of a run, each counted apart, joined in the run's order)."""
        self.rows += other.rows
        for mine, theirs in (
            (self.verdicts, other.verdicts),
            (self.failing, other.failing),
            (self.settle, other.settle),
            (self.findings, other.findings),
            (self.rules, other.rules),
            (self.buffer, other.buffer),
        ):
            mine.update(theirs)  # type: ignore[arg-type]
        for county, counts in other.counties.items():
            found = self.counties.setdefault(county, [0] * len(counts))
            self.counties[county] = [a + b for a, b in zip(found, counts, strict=True)]
        self.lines.extend(other.lines)

    # -- the text -------------------------------------------------------------------------------

    def render(self, lang: Lang, *, as_of: dt.date, county_names: Mapping[str, str] | None = None) -> str:
        zh = lang == "zh"
        plan = self.plan
        lines = [
            f"截至 {as_of} 判定 {self.rows} 户，现行政策包 {len(plan.packs)} 个"
            + (f"（退出验收：{plan.exit_key}）" if plan.exit_pack else "")
            if zh
            else f"{self.rows} households decided as of {as_of} by {len(plan.packs)} packs in force"
            + (f" (exit: {plan.exit_key})" if plan.exit_pack else "")
        ]
        lines += self._exit(lang)
        lines += self._batches(lang, county_names or {})
        lines += self._others(lang)
        if not self.listing:
            return "\n".join(lines) + "\n"
        lines.append("")
        lines.append(
            "户编号 / 结论 / 未通过 / 待定" if zh else "household / verdict / failing / undetermined"
        )
        for record, verdict, fails, unsure in self.lines:
            lines.append(
                f"  {record}  {_verdict(verdict, lang)}  {','.join(fails) or '-'}  {','.join(unsure) or '-'}"
            )
        return "\n".join(lines) + "\n"

    def _exit(self, lang: Lang) -> list[str]:
        zh = lang == "zh"
        shown = [(v, self.verdicts[v]) for v in (*VERDICTS, None) if self.verdicts.get(v)]
        lines = [
            ("退出结论：" if zh else "Exit verdicts: ")
            + " · ".join(f"{_verdict(v, lang)} {n}" for v, n in shown or [(None, 0)])
        ]
        if self.failing:
            assessed = self.rows - self.verdicts.get("not_applicable", 0)
            lines.append(
                f"未通过的指标（参加验收的 {assessed} 户中）："
                if zh
                else f"What blocks them (failing criteria among the {assessed} households assessed):"
            )
            ranked = sorted(self.failing.items(), key=lambda kv: (-kv[1], kv[0]))
            idw = max(display_width(cid) for cid, _ in ranked[:8])
            nw = max(len(str(n)) for _, n in ranked[:8])
            for cid, n in ranked[:8]:
                title = self.plan.criteria.get(cid)
                line = f"  {_pad(cid, idw)}  {n:>{nw}}" + (f"  {title.get(lang)}" if title else "")
                lines.append(_clip(line))
            if len(ranked) > 8:
                rest = ", ".join(f"{cid} {n}" for cid, n in ranked[8:])
                lines.append(_clip(("  另有：" if zh else "  also: ") + rest))
        undetermined = self.verdicts.get("undetermined", 0)
        if undetermined:
            lines.append(
                f"待定的 {undetermined} 户，补齐以下数据即可判定（户数）："
                if zh
                else f"What would settle the {undetermined} undetermined exit verdicts (households):"
            )
            ranked_items = sorted(self.settle.items(), key=lambda kv: -kv[1])  # stable: as first seen
            lines += _wrapped([f"{m} {n}" for m, n in ranked_items], lang, limit=2)
        return lines

    def _batches(self, lang: Lang, names: Mapping[str, str]) -> list[str]:
        zh = lang == "zh"
        batches = self.plan.of_kind("batch")
        if not batches or not self.counties:
            return []
        index = {pid: i for i, pid in enumerate(self.shared)}
        head = [_short(p.id) for p in batches]
        rows: list[list[str]] = []
        totals = [0] * (1 + 2 * len(self.shared))
        for county in sorted(self.counties):
            n, *counts = self.counties[county]
            totals = [a + b for a, b in zip(totals, [n, *counts], strict=True)]
            label = f"{county} {names[county]}" if county in names else county
            rows.append([label, str(n), *(_share(counts, index[p.id], n) for p in batches)])
        if len(self.counties) > 1:
            n, *counts = totals
            rows.append(["合计" if zh else "all", str(n), *(_share(counts, index[p.id], n) for p in batches)])
        header = ["县" if zh else "county", "户数" if zh else "households", *head]
        lines = [
            "帮扶批次：各县享受各批次帮扶的户数占比（+待定户数）："
            if zh
            else "Batches: share of households a batch's rules hold for, per county (+ undetermined):"
        ]
        lines += _table(header, rows)
        if zh:  # the headings are the packs' ids: their titles in the reader's words
            lines += _wrapped([f"{_short(p.id)} {p.title.zh}" for p in batches], lang, limit=2)
        return lines

    def _others(self, lang: Lang) -> list[str]:
        zh = lang == "zh"
        lines: list[str] = []
        titles = {
            "finding": ("数据核查发现", "Data-quality findings"),
            "monitoring": ("监测预警", "Monitoring alerts"),
            "identification": ("识别", "Identification"),
        }
        for pack in self.plan.packs:
            if pack.kind == "batch" or pack.id == self.plan.exit_pack or not pack.has_rules:
                continue
            yes, unsure = self._totals(pack.id)
            title = titles.get(pack.kind)
            named = (title[0] if zh else title[1]) if title else _role(pack.kind, lang)
            share = f"{100 * yes / self.rows:.1f}%" if self.rows else "-"
            head = (
                f"{named}（{pack.id}）：{yes} 户（{share}）" + (f"，另 {unsure} 户待定" if unsure else "")
                if zh
                else f"{named} ({pack.id}): {yes} households ({share})"
                + (f", {unsure} undetermined" if unsure else "")
            )
            prefix = f"{pack.id}:"
            top = sorted(
                ((r[len(prefix) :], n) for r, n in self.rules.items() if r.startswith(prefix)),
                key=lambda kv: (-kv[1], kv[0]),
            )
            if top:
                head += "；最多：" if zh else "; most often: "
            items = [f"{r} {n}" for r, n in top]
            # one line when the most frequent rule fits beside the head, else two
            more = " · … 另 99 项" if zh else " · … and 99 more"
            one = not items or display_width(f"{head}{items[0]}{more}") <= WIDTH
            lines += _wrapped(items, lang, limit=1 if one else 2, first=head)
        buffer = next((p for p in self.plan.packs if p.kind == "buffer"), None)
        if buffer is not None and self.buffer:
            parts = [f"{word('buffer', k, lang)} {n}" for k, n in sorted(self.buffer.items())]
            lines.append(
                f"过渡期（{buffer.id}）：" + "，".join(parts)
                if zh
                else f"Buffer ({buffer.id}): " + ", ".join(parts)
            )
        if self.findings:
            head = (
                "违反的不变式与互斥规则（户数）："
                if zh
                else "Invariants violated and exclusive rules broken (households): "
            )
            ranked = sorted(self.findings.items(), key=lambda kv: (-kv[1], kv[0]))
            lines += _wrapped([f"{f} {n}" for f, n in ranked], lang, limit=2, first=head)
        return lines

    def _totals(self, pack: str) -> tuple[int, int]:
        i = self.shared.index(pack)
        yes = sum(c[1 + 2 * i] for c in self.counties.values())
        unsure = sum(c[2 + 2 * i] for c in self.counties.values())
        return yes, unsure


def _verdict(verdict: str | None, lang: Lang) -> str:
    return word("verdict", verdict or "none", lang)


def _role(kind: str, lang: Lang) -> str:
    try:
        return word("role", kind, lang)
    except KeyError:
        return kind or "?"


def _short(pack_id: str) -> str:
    """A batch's column heading: the last part of its pack id (the legend gives its title)."""
    return pack_id.rsplit(".", 1)[-1]


def _share(counts: Sequence[int], index: int, n: int) -> str:
    yes, unsure = counts[2 * index], counts[2 * index + 1]
    return (f"{100 * yes / n:.1f}%" if n else "-") + (f"+{unsure}" if unsure else "")


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def _clip(line: str, width: int = WIDTH) -> str:
    """`line` cut to `width` columns, with an ellipsis when cut."""
    if display_width(line) <= width:
        return line
    out = ""
    for char in line:
        if display_width(out + char) > width - 1:
            break
        out += char
    return out + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """An aligned table: the first column left-aligned, the others right-aligned."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [_pad(row[0], widths[0])] + [
            _pad(c, w, right=True) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append(_clip("  " + " ".join(cells).rstrip()))
    return out


def _wrapped(items: Sequence[str], lang: Lang, *, limit: int, first: str = "") -> list[str]:
    """`items` joined with " · " after `first` (or indented), wrapped to `WIDTH` columns over at
    most `limit` lines; what does not fit is counted at the end ("… and 3 more")."""
    if not items:
        return [first.rstrip("：:; ")] if first else []

    def tail(n: int, after_item: bool) -> str:
        said = f"… 另 {n} 项" if lang == "zh" else f"… and {n} more"
        return (" · " if after_item else "") + said

    lines: list[str] = []
    current, has_item = first or "  ", False
    for i, item in enumerate(items):
        last_line = len(lines) == limit - 1
        candidate = current + (" · " if has_item else "") + item
        after = len(items) - i - 1
        if display_width(candidate + (tail(after, True) if last_line and after else "")) <= WIDTH:
            current, has_item = candidate, True
        elif not last_line:
            lines.append(current.rstrip())
            current, has_item = "  " + item, True
        else:
            lines.append(current + tail(len(items) - i, has_item))
            return [_clip(line) for line in lines]
    lines.append(current)
    return [_clip(line) for line in lines]


def _counted(values: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    """Each value of a list column with how many rows hold it, in the order values first occur."""
    exploded = values.select(pl.col(column)).explode(column).with_row_index("__seen").drop_nulls(column)
    counted = exploded.group_by(column).agg(pl.len().alias("n"), pl.col("__seen").min().alias("first"))
    return [(str(v), int(n)) for v, n in counted.sort("first").select(column, "n").iter_rows()]


def _per_county(
    table: pl.DataFrame, county_of: Sequence[str], packs: Sequence[str]
) -> list[tuple[str, list[int]]]:
    """Per county: the households, then for each pack those a rule holds for and those where
    one is undetermined and none holds."""
    flags: list[pl.Expr] = []
    for index, pack in enumerate(packs):
        prefix = f"{pack}:"
        yes = pl.col("rules").list.eval(pl.element().str.starts_with(prefix)).list.any()
        maybe = pl.col("rules_undetermined").list.eval(pl.element().str.starts_with(prefix)).list.any()
        flags += [yes.cast(pl.UInt32).alias(f"y{index}"), (~yes & maybe).cast(pl.UInt32).alias(f"u{index}")]
    per = (
        table.select(flags)
        .with_columns(pl.Series("__county", list(county_of), dtype=pl.String()))
        .group_by("__county")
        .agg(pl.len().alias("__n"), *(pl.col(f"{k}{i}").sum() for i in range(len(packs)) for k in "yu"))
    )
    return [(str(row[0]), [int(v) for v in row[1:]]) for row in per.iter_rows()]


def table_summary(
    table: pl.DataFrame,
    lang: Lang,
    *,
    as_of: dt.date,
    plan: SummaryPlan,
    county_of: Sequence[str],
    settle_of: Callable[[int], Iterable[str]],
    listing: bool = False,
    county_names: Mapping[str, str] | None = None,
) -> str:
    """The summary of a run over households from its outcome table (`county_of`: each row's
    county code; `settle_of`: see `SummaryCounts.add`; `plan`: from `summary_plan`)."""
    counts = SummaryCounts(plan, listing=listing)
    counts.add(table, county_of, settle_of)
    return counts.render(lang, as_of=as_of, county_names=county_names)


# -- villages and counties ----------------------------------------------------------------------


def area_overview(result: AreaResult, lang: Lang) -> str:
    """The villages and counties of a run in a few lines: verdict counts, failing criteria, the
    national standard beside Gansu's, and the counties by verdict (the main job's summary;
    ``--level village|county`` gives the full one)."""
    zh = lang == "zh"
    lines: list[str] = []
    for problem in result.problems:
        lines.append(_clip(("问题：" if zh else "problem: ") + problem.get(lang)))
    for what, ids in result.orphans.items():
        item, holder = what.split("/")
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        lines.append(
            _clip(
                f"注意：{len(ids)} 条 {item} 记录不属于给出的任何 {holder}，未计入：{shown}"
                if zh
                else f"note: {len(ids)} {item} records belong to no {holder} given and are not counted: {shown}"
            )
        )
    for level, noun in (("village", ("村", "Villages")), ("county", ("县", "Counties"))):
        areas = result.outcomes.get(level, ())
        if not areas:
            continue
        versions = sorted({p.key for a in areas for p in a.outcome.packs if p.id == a.outcome.exit_pack})
        counts: Counter[str | None] = Counter(a.verdict for a in areas)
        tally = " · ".join(f"{_verdict(v, lang)} {counts[v]}" for v in (*VERDICTS, None) if counts.get(v))
        lines.append(
            f"{noun[0]}（{len(areas)} 个，{', '.join(versions) or '无'}）：{tally}"
            if zh
            else f"{noun[1]} ({len(areas)}, {', '.join(versions) or 'no exit pack'}): {tally}"
        )
        failing = Counter(
            c.id for a in areas for c in a.criteria if c.verdict == "fail" and a.verdict != "not_applicable"
        )
        ranked = sorted(failing.items(), key=lambda kv: (-kv[1], kv[0]))
        if ranked:
            lines += _wrapped(
                [f"{c} {n}" for c, n in ranked], lang, limit=1, first="  未通过：" if zh else "  failing: "
            )
        others: dict[str, Counter[str | None]] = {}
        for a in areas:
            for pid, verdict in a.others:
                others.setdefault(pid, Counter())[verdict] += 1
        for pid, tallies in sorted(others.items()):
            parts = " · ".join(
                f"{_verdict(v, lang)} {tallies[v]}" for v in (*VERDICTS, None) if tallies.get(v)
            )
            lines.append(
                _clip(f"  参照标准 {pid}：{parts}" if zh else f"  reference standard {pid}: {parts}")
            )
        if level == "county":
            groups: dict[str | None, list[str]] = {}
            for a in sorted(areas, key=lambda a: a.code):
                groups.setdefault(a.verdict, []).append(f"{a.code} {a.name}" if a.name else a.code)
            listed = [
                f"{_verdict(v, lang)}：{'、'.join(groups[v])}"
                if zh
                else f"{_verdict(v, lang)}: {', '.join(groups[v])}"
                for v in (*VERDICTS, None)
                if v in groups
            ]
            lines += _wrapped(listed, lang, limit=2)
    return "\n".join(lines) + "\n"


def county_names(result: AreaResult | None) -> dict[str, str]:
    """The county names a run's area records give, by code."""
    if result is None:
        return {}
    return {a.code: a.name for a in result.outcomes.get("county", ()) if a.name}
