"""The wall chart (挂图作战): a registry's progress in one quarter as one self-contained HTML page.

`wall_chart(policy_set, paths, quarter, areas=)` reads the registry once (a block at a time,
each household decided as of the quarter's last day, as `registry_figures` does) and tallies,
for the whole registry, each county and each village: households exited against
``registration.planned_exit_year`` by year, households by batch, the exit criteria households
fail (most frequent first), active buffers by the quarter they end in, and the statistics packs'
figures.  Given village (and county) records, the areas are decided as of the same day and their
exit verdicts counted against the villages' own planned exit years.  Given a department's report
(`gspolicy.stats.reconcile.read_report`), its figures are reconciled with the ones computed in the
same pass, and every difference is shown: on the overview, and on each county's page those of its
county.

`render_report(chart, lang)` writes the page: an overview, then one section per county; inline
CSS and inline SVG bar charts (`gspolicy.analysis.html.bar_chart`), no script and no external
file, so it can be mailed.  Printed, each county fills one A3 landscape page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from html import escape
from pathlib import Path

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.analysis.html import bar_chart
from gspolicy.engine.outcome import Outcome
from gspolicy.engine.verdicts import Verdict
from gspolicy.errors import PolicyError
from gspolicy.explain.areas import decide_areas
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.paths import value_at
from gspolicy.stats.figures import Figures, Number, Table, figures
from gspolicy.stats.quarter import Quarter
from gspolicy.stats.reconcile import (
    Difference,
    Report,
    check_keys,
    indicators_in_force,
    known_keys,
    reconcile,
    tracking_keys,
)
from gspolicy.stats.registry import decided_pairs
from gspolicy.stats.report_words import STYLE, WORDS

__all__ = ["Progress", "WallChart", "render_report", "wall_chart"]


TOP_CRITERIA = 8
"""How many failing criteria a chart shows (the most frequent)."""

_PLAN, _DONE = "#9bb5d3", "#2f6b3a"


@attrs.frozen
class Progress:
    """What one area (the registry, a county or a village) counts as of the quarter's last day."""

    code: str
    name: str | None
    households: int
    planned: Mapping[int, int]  # planned exit year -> households
    exited: Mapping[int, int]  # year of exit (on or before the quarter's last day) -> households
    batches: Mapping[str, int]  # batch pack id -> households that are in it
    failing: Mapping[str, int]  # exit criterion id -> households failing it
    expiries: Mapping[str, int]  # quarter (``2021Q1``) -> households whose active buffer ends in it
    verdict: Verdict | None = None  # the area's own exit verdict (None: no area record decided)
    planned_exit_year: int | None = None  # the area record's own
    villages: tuple[Progress, ...] = ()  # a county's villages, by code

    @property
    def exited_total(self) -> int:
        return sum(self.exited.values())


@attrs.frozen
class WallChart:
    """Everything the page shows, counted for one quarter."""

    quarter: Quarter
    total: Progress
    counties: tuple[Progress, ...]
    figures: Figures
    labels: Mapping[str, Text]  # batch pack and exit criterion ids -> their titles
    notes: tuple[Text, ...] = ()  # what the area decisions reported (villages without households …)
    reconciled: str | None = None  # the report reconciled with the figures (its path), if any
    differences: tuple[Difference, ...] = ()  # the report's figures that differ from the computed


@attrs.define
class _Tally:
    households: int = 0
    planned: Counter[int] = attrs.field(factory=Counter)
    exited: Counter[int] = attrs.field(factory=Counter)
    batches: Counter[str] = attrs.field(factory=Counter)
    failing: Counter[str] = attrs.field(factory=Counter)
    expiries: Counter[str] = attrs.field(factory=Counter)

    def add(self, seen: _Household) -> None:
        self.households += 1
        if seen.planned is not None:
            self.planned[seen.planned] += 1
        if seen.exited is not None:
            self.exited[seen.exited] += 1
        self.batches.update(seen.batches)
        self.failing.update(seen.failing)
        if seen.expiry is not None:
            self.expiries[seen.expiry] += 1

    def progress(
        self,
        code: str,
        name: str | None = None,
        verdict: Verdict | None = None,
        year: int | None = None,
        villages: tuple[Progress, ...] = (),
    ) -> Progress:
        return Progress(
            code,
            name,
            self.households,
            dict(sorted(self.planned.items())),
            dict(sorted(self.exited.items())),
            dict(sorted(self.batches.items())),
            dict(self.failing.most_common()),
            dict(sorted(self.expiries.items())),
            verdict,
            year,
            villages,
        )


@attrs.frozen
class _Household:
    county: str
    village: str
    planned: int | None
    exited: int | None
    batches: tuple[str, ...]
    failing: tuple[str, ...]
    expiry: str | None


def _text(value: object) -> str:
    return "" if value is None else str(value)


class _Reader:
    """What the tally reads of one decided household."""

    def __init__(self, policy_set: PolicySet, quarter: Quarter) -> None:
        schema = policy_set.schema
        self.paths = {
            role: tuple((schema.role(role) or role).split("."))
            for role in (roles.COUNTY_CODE, roles.VILLAGE_CODE, roles.EXITED_ON, roles.PLANNED_EXIT_YEAR)
        }
        as_of = quarter.last
        in_force = (policy_set.in_force(p, as_of) for p in policy_set.of_kind("batch"))
        self.batches = [p for p in in_force if p is not None and p.subject == "household"]
        self.as_of = as_of

    def read(self, record: Record, outcome: Outcome) -> _Household:
        planned = value_at(record, self.paths[roles.PLANNED_EXIT_YEAR])
        exited_on = value_at(record, self.paths[roles.EXITED_ON])
        held = []
        for pack in self.batches:
            result = outcome.pack(pack.id)
            if result is not None and any(r.holds == "yes" for r in result.rules):
                held.append(pack.id)
        exit_result = outcome.pack(outcome.exit_pack)
        failing = (
            () if exit_result is None else tuple(c.id for c in exit_result.criteria if c.verdict == "fail")
        )
        buffer = outcome.buffer
        expiry = None
        if buffer is not None and buffer.status == "active" and buffer.until is not None:
            expiry = f"{buffer.until.year}Q{(buffer.until.month - 1) // 3 + 1}"
        return _Household(
            _text(value_at(record, self.paths[roles.COUNTY_CODE])),
            _text(value_at(record, self.paths[roles.VILLAGE_CODE])),
            planned if isinstance(planned, int) and not isinstance(planned, bool) else None,
            exited_on.year if isinstance(exited_on, dt.date) and exited_on <= self.as_of else None,
            tuple(held),
            failing,
            expiry,
        )


def wall_chart(
    policy_set: PolicySet,
    paths: Sequence[Path],
    quarter: Quarter,
    *,
    areas: Mapping[str, Sequence[Record]] | None = None,
    report: Report | None = None,
    tolerance: Decimal | None = None,
    encoding: str = "utf-8",
) -> WallChart:
    """The wall chart of the households in the record files `paths` as of `quarter`'s last
    day; `areas` (record type -> records: ``village``, ``county``) are decided too, their exit
    verdicts shown beside their households; `report` (a department's figures, read by
    `read_report`) is reconciled with the computed figures (`tolerance` for every indicator, else
    each indicator's own).  A file with a problem, or a report naming a county, village, batch or
    measure the registry does not have, raises `PolicyError` with every problem (nothing is
    counted)."""
    reader = _Reader(policy_set, quarter)
    total = _Tally()
    by_county: dict[str, _Tally] = {}
    by_village: dict[tuple[str, str], _Tally] = {}
    kept: list[Record] = []

    def tallied() -> Iterator[tuple[Record, Outcome]]:
        for record, outcome in decided_pairs(policy_set, paths, quarter.last, encoding=encoding):
            seen = reader.read(record, outcome)
            total.add(seen)
            by_county.setdefault(seen.county, _Tally()).add(seen)
            by_village.setdefault((seen.county, seen.village), _Tally()).add(seen)
            if areas:
                kept.append(record)
            yield record, outcome

    seen: dict[str, set[str]] = {}
    counted = figures(policy_set, tracking_keys(policy_set, tallied(), quarter, seen), quarter)
    differences: tuple[Difference, ...] = ()
    if report is not None:
        problems = check_keys(
            report, indicators_in_force(policy_set, quarter), known_keys(policy_set, counted, seen)
        )
        if problems:
            raise PolicyError(problems)
        differences = tuple(reconcile(counted, report, tolerance=tolerance))
    decided, notes = _decided_areas(policy_set, kept, areas or {}, quarter) if areas else ({}, ())
    villages_of: dict[str, set[str]] = {}
    for county, village in by_village:
        villages_of.setdefault(county, set()).add(village)
    for (level, code), facts in decided.items():
        if level == "village":  # a village no household lives in is shown too
            villages_of.setdefault(facts.county, set()).add(code)
            by_village.setdefault((facts.county, code), _Tally())
            by_county.setdefault(facts.county, _Tally())

    def made(level: str, code: str, tally: _Tally, villages: tuple[Progress, ...] = ()) -> Progress:
        facts = decided.get((level, code), _AreaFacts(None, None, None, ""))
        return tally.progress(code, facts.name, facts.verdict, facts.year, villages)

    counties = tuple(
        made(
            "county",
            county,
            by_county[county],
            tuple(made("village", v, by_village[(county, v)]) for v in sorted(villages_of.get(county, ()))),
        )
        for county in sorted(by_county)
    )
    everywhere = total.progress("", villages=tuple(v for c in counties for v in c.villages))
    return WallChart(
        quarter,
        everywhere,
        counties,
        counted,
        _labels(policy_set, quarter),
        notes,
        None if report is None else report.path,
        differences,
    )


@attrs.frozen
class _AreaFacts:
    verdict: Verdict | None
    year: int | None
    name: str | None
    county: str


def _decided_areas(
    policy_set: PolicySet,
    households: Sequence[Record],
    areas: Mapping[str, Sequence[Record]],
    quarter: Quarter,
) -> tuple[dict[tuple[str, str], _AreaFacts], tuple[Text, ...]]:
    """Each area's verdict as of the quarter's last day, its planned exit year, name and county,
    by (level, code); and what the decisions reported."""
    result = decide_areas(
        policy_set,
        {"household": households, **{k: tuple(v) for k, v in areas.items()}},
        quarter.last,
        explain=lambda _level, _code: False,
    )
    decided: dict[tuple[str, str], _AreaFacts] = {}
    # a village's county: the field the county's gathered list of villages is gathered by (schema)
    county_of = next(
        (
            f.gather.by
            for spec in policy_set.schema.records.values()
            for f in spec.fields.values()
            if f.gather is not None and f.gather.records == "village"
        ),
        None,
    )
    for level, records in areas.items():
        key = policy_set.schema.records[level].key or "code"
        by_code = {_text(r.get(key)): r for r in records}
        for area in result.outcomes.get(level, ()):
            record = by_code[area.code]
            year = record.get("planned_exit_year")
            county = _text(record.get(county_of)) if level == "village" and county_of else area.code
            if not isinstance(year, int) or isinstance(year, bool):
                year = None
            decided[(level, area.code)] = _AreaFacts(area.verdict, year, area.name, county)
    return decided, result.problems


def _labels(policy_set: PolicySet, quarter: Quarter) -> dict[str, Text]:
    labels: dict[str, Text] = {}
    for pack_id in (*policy_set.of_kind("batch"), *policy_set.of_kind("exit")):
        pack = policy_set.in_force(pack_id, quarter.last)
        if pack is None:
            continue
        labels[pack.id] = pack.pack.title
        for criterion in pack.pack.criteria:
            labels.setdefault(criterion.id, criterion.title)
    return labels


# --- the page ------------------------------------------------------------------------------------


def _w(key: str, lang: Lang) -> str:
    return WORDS[key].get(lang)


def _label(chart: WallChart, key: str, lang: Lang) -> str:
    found = chart.labels.get(key)
    text = found.get(lang) if found is not None else key
    return text if len(text) <= 40 else text[:39] + "…"


def _figure(kind: str, svg: str) -> str:
    return f'<figure class="chart" data-chart="{kind}">{svg}</figure>'


def _progress_chart(area: Progress, lang: Lang) -> str:
    rows: list[tuple[str, int]] = []
    colours: list[str] = []
    for year in sorted(set(area.planned) | set(area.exited)):
        rows += [(f"{year} {_w('planned', lang)}", area.planned.get(year, 0))]
        rows += [(f"{year} {_w('exited', lang)}", area.exited.get(year, 0))]
        colours += [_PLAN, _DONE]
    return _figure("progress", bar_chart(_w("progress", lang), rows, colours=colours))


def _village_chart(villages: Sequence[Progress], lang: Lang) -> str:
    planned = Counter(v.planned_exit_year for v in villages if v.planned_exit_year is not None)
    passed = Counter(
        v.planned_exit_year for v in villages if v.planned_exit_year is not None and v.verdict == "pass"
    )
    rows: list[tuple[str, int]] = []
    colours: list[str] = []
    for year in sorted(planned):
        rows += [(f"{year} {_w('planned', lang)}", planned[year])]
        rows += [(f"{year} {_w('villages_passed', lang)}", passed[year])]
        colours += [_PLAN, _DONE]
    return _figure("villages", bar_chart(_w("village_progress", lang), rows, colours=colours))


def _charts(chart: WallChart, area: Progress, lang: Lang) -> str:
    parts = [_progress_chart(area, lang)]
    if any(v.verdict is not None for v in area.villages):
        parts.append(_village_chart(area.villages, lang))
    batches = [(_label(chart, b, lang), n) for b, n in area.batches.items()]
    parts.append(_figure("batches", bar_chart(_w("batches", lang), batches, colour="#3b6ea5")))
    failing = [(_label(chart, c, lang), n) for c, n in list(area.failing.items())[:TOP_CRITERIA]]
    parts.append(_figure("failing", bar_chart(_w("failing", lang), failing, colour="#a5553b")))
    expiries = list(area.expiries.items())
    parts.append(_figure("expiries", bar_chart(_w("expiries", lang), expiries, colour="#8a6d00")))
    return '<div class="charts">' + "".join(parts) + "</div>"


def _amount(value: int | Decimal) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _county_value(table: Table, county: str) -> int | Decimal | None:
    """An indicator's figure for one county (None: the indicator is not grouped by county)."""
    if "county" not in table.keys:
        return None
    at = table.keys.index("county")
    cells = [cell for group, cell in table.cells.items() if group[at] == county]
    if table.indicator.figure == "count":
        return len({h for cell in cells for h in cell.households})
    return sum((cell.value for cell in cells), start=0)


def _figures_table(chart: WallChart, counties: Sequence[Progress], lang: Lang) -> str:
    if not chart.figures.tables:
        return f"<p>{_w('none', lang)}</p>"
    head = [_w("indicator", lang), *(c.name or c.code for c in counties)]
    if len(counties) != 1:
        head.append(_w("total", lang))
    rows = []
    for table in chart.figures.tables.values():
        values = [_county_value(table, c.code) for c in counties]
        cells = "".join(f'<td class="n">{"" if v is None else _amount(v)}</td>' for v in values)
        if len(counties) != 1:
            cells += f'<td class="n">{_amount(table.total.value)}</td>'
        rows.append(f"<tr><td>{escape(table.indicator.title.get(lang))}</td>{cells}</tr>")
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="figures"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


SHOWN_HOUSEHOLDS = 12
"""How many household ids a difference lists on the page (then how many there are in all)."""


def _ids(ids: Sequence[str], lang: Lang) -> str:
    shown = ", ".join(ids[:SHOWN_HOUSEHOLDS])
    if len(ids) > SHOWN_HOUSEHOLDS:
        shown += " " + _w("more", lang).format(n=len(ids))
    return escape(shown)


def _number(value: Number | None, lang: Lang) -> str:
    return _w("absent", lang) if value is None else _amount(value)


def _differences(chart: WallChart, county: str | None, lang: Lang) -> str:
    """The reconciliation's differences: all of them (`county` None), or those of one county
    (the indicators grouped by county)."""
    if chart.reconciled is None:
        return ""
    shown = [d for d in chart.differences if county is None or ("county", county) in d.keys]
    title = f"<h3>{_w('differences', lang)} ({_w('reconciled_with', lang)} {escape(Path(chart.reconciled).name)})</h3>"
    if not shown:
        return title + (f"<p>{_w('all_agree', lang)}</p>" if county is None else f"<p>{_w('none', lang)}</p>")
    head = "".join(
        f"<th>{_w(k, lang)}</th>" for k in ("indicator", "group", "reported", "computed", "gap", "behind")
    )
    rows = []
    for d in shown:
        table = chart.figures.tables.get(d.indicator)
        name = table.indicator.title.get(lang) if table is not None else d.indicator
        group = ", ".join(f"{k}={v}" for k, v in d.keys) or _w("total", lang)
        behind = _ids(d.households, lang)
        for word, ids in (("missing", d.missing), ("extra", d.extra)):
            if ids:
                behind += f"<br>{_w(word, lang)}: {_ids(ids, lang)}"
        rows.append(
            f'<tr class="difference"><td>{escape(name)}</td><td>{escape(group)}</td>'
            f'<td class="n">{_number(d.reported, lang)}</td><td class="n">{_number(d.computed, lang)}</td>'
            f'<td class="n">{_amount(d.gap)}</td><td class="ids">{behind}</td></tr>'
        )
    return f'{title}<table class="differences"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _verdict(verdict: Verdict | None, lang: Lang) -> str:
    if verdict is None:
        return ""
    return f'<span class="{verdict}">{_w(verdict, lang)}</span>'


def _summary(area: Progress, year: int, lang: Lang) -> str:
    due = sum(n for y, n in area.planned.items() if y <= year)
    parts = [
        f"{_w('households', lang)} {area.households}",
        f"{_w('exited', lang)} {area.exited_total}",
        f"{_w('due', lang)} {due}",
    ]
    if area.villages and any(v.verdict is not None for v in area.villages):
        passed = sum(v.verdict == "pass" for v in area.villages)
        parts.append(f"{_w('village', lang)} {_w('villages_passed', lang)} {passed}/{len(area.villages)}")
    if area.verdict is not None:
        parts.append(f"{_w('verdict', lang)} {_verdict(area.verdict, lang)}")
    legend = (
        f'<span class="legend"><span style="background:{_PLAN}"></span>{_w("planned", lang)}'
        f'<span style="background:{_DONE}"></span>{_w("exited", lang)}</span>'
    )
    return f'<p class="summary">{" · ".join(parts)}{legend}</p>'


def _villages(villages: Sequence[Progress], lang: Lang) -> str:
    items = []
    for v in villages:
        planned = "" if v.planned_exit_year is None else f" · {_w('planned', lang)} {v.planned_exit_year}"
        items.append(
            f'<div class="village"><b>{escape(v.name or v.code)}</b> {escape(v.code)} · '
            f"{_w('exited', lang)} {v.exited_total}/{v.households}{planned} {_verdict(v.verdict, lang)}</div>"
        )
    return f"<h3>{_w('village', lang)}</h3>" + '<div class="villages">' + "".join(items) + "</div>"


def render_report(chart: WallChart, lang: Lang) -> str:
    """The page: the overview (the whole registry, a county per row of the figures), then one
    section per county with its villages."""
    year = chart.quarter.year
    heading = f"{_w('title', lang)} · {chart.quarter} ({_w('as_of', lang)} {chart.quarter.last.isoformat()})"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(heading)}</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        '<section class="overview">',
        f"<h1>{escape(heading)}</h1>",
        f"<h2>{_w('overview', lang)}</h2>",
        _summary(chart.total, year, lang),
        _charts(chart, chart.total, lang),
        f"<h3>{_w('figures', lang)}</h3>",
        _figures_table(chart, chart.counties, lang),
        _differences(chart, None, lang),
    ]
    if not any(c.verdict is not None or any(v.verdict for v in c.villages) for c in chart.counties):
        out.append(f"<p>{_w('no_areas', lang)}</p>")
    if chart.notes:
        out.append(f"<h3>{_w('notes', lang)}</h3><ul>")
        out += [f"<li>{escape(note.get(lang))}</li>" for note in chart.notes]
        out.append("</ul>")
    out.append("</section>")
    for county in chart.counties:
        name = f"{county.name} ({county.code})" if county.name else county.code
        out += [
            f'<section class="county" id="county-{escape(county.code)}">',
            f"<h2>{_w('county', lang)} {escape(name)}</h2>",
            _summary(county, year, lang),
            _charts(chart, county, lang),
            f"<h3>{_w('figures', lang)}</h3>",
            _figures_table(chart, [county], lang),
            _differences(chart, county.code, lang),
            _villages(county.villages, lang),
            "</section>",
        ]
    out.append("</body></html>\n")
    return "\n".join(out)
