"""The wall chart's page, read as HTML (no browser): self-contained, every county and village in
it, each chart's bars the counts of the households behind them (counted here again from the
records and their decisions), in Chinese and English; and ``gspolicy report`` writing it whole
or not at all."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gspolicy.cli import main
from gspolicy.engine.outcome import decide_outcome
from gspolicy.schema.records import load_records_from
from gspolicy.stats.registry import registry_figures
from gspolicy.stats.report import TOP_CRITERIA, WallChart, render_report, wall_chart
from unit.stats._wall import QUARTER, areas_of, slice_registry

from support.bundled import shared_policies

LANGS = ("zh", "en")


class _Page(HTMLParser):
    """The county sections of a page, and per section and chart the bars: (label, count)."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, list[tuple[str, int]]]] = {}
        self.text: dict[str, list[str]] = {}
        self._section = "overview"
        self._chart: str | None = None
        self._in_bar = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self._section = (found.get("id") or "overview").removeprefix("county-")
            self.sections[self._section] = {}
            self.text[self._section] = []
        elif tag == "figure":
            self._chart = found.get("data-chart")
            self.sections[self._section][self._chart or ""] = []
        elif tag == "rect" and "bar" in (found.get("class") or ""):
            self._in_bar = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "rect":
            self._in_bar = False

    def handle_data(self, data: str) -> None:
        if self._in_bar and self._chart is not None:  # the bar's own title: "label: count"
            label, _, count = data.rpartition(": ")
            self.sections[self._section][self._chart].append((label, int(count)))
        elif self._section in self.text:
            self.text[self._section].append(data)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], WallChart, dict[str, str]]:
    files = slice_registry(tmp_path_factory.mktemp("wall"))
    policy_set = shared_policies().policy_set
    chart = wall_chart(policy_set, [files["households"]], QUARTER, areas=areas_of(files))
    return files, chart, {lang: render_report(chart, lang) for lang in LANGS}


def _parsed(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def _records(files: dict[str, Path], name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in files[name].read_text("utf-8").splitlines()]


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_needs_no_network_and_no_other_file(made: tuple, lang: str) -> None:
    page = made[2][lang]
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    # the SVG namespace names no resource (and is the only URL-like text on the page)
    bare = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for reference in (
        "http:",
        "https:",
        "//",
        "url(",
        "@import",
        " src=",
        " href=",
        "<script",
        "<link",
        "<img",
    ):
        assert reference not in bare, reference


def test_every_county_has_its_section_with_its_villages(made: tuple) -> None:
    files, _chart, pages = made
    counties = {str(h["county_code"]) for h in _records(files, "households")}
    villages = {str(v["code"]): str(v["county_code"]) for v in _records(files, "villages")}
    names = {str(c["code"]): str(c["name"]) for c in _records(files, "counties")}
    assert len(counties) == 3
    for lang in LANGS:
        page = _parsed(pages[lang])
        assert set(page.sections) == {"overview", *counties}
        for county in counties:
            text = " ".join(page.text[county])
            assert names[county] in text
            assert {v for v, c in villages.items() if c == county} == {v for v in villages if v in text}, (
                "each county's section lists its villages and no other"
            )


def _bars(made: tuple, lang: str, county: str, chart: str) -> dict[str, int]:
    return dict(_parsed(made[2][lang]).sections[county][chart])


def test_the_bars_are_the_households_counted_from_the_records(made: tuple) -> None:
    files, _chart, _pages = made
    policy_set = shared_policies().policy_set
    households, _ = load_records_from([files["households"]], policy_set.schema)
    exit_pack = policy_set.in_force("exit_criteria.household", QUARTER.last)
    criteria = {c.id: c.title.zh for c in exit_pack.pack.criteria}
    batch = {p: policy_set.in_force(p, QUARTER.last).pack.title.zh for p in policy_set.of_kind("batch")}
    in_batch = registry_figures(policy_set, [files["households"]], QUARTER).tables["stat.households_in_batch"]
    for county in {h.get("county_code") for h in households}:
        mine = [h for h in households if h.get("county_code") == county]
        planned = Counter(h.get("registration")["planned_exit_year"] for h in mine)
        exits = [h.get("registration").get("exited_on") for h in mine]
        exited = Counter(day.year for day in exits if day is not None and day <= QUARTER.last)
        expected = {f"{y} 计划": n for y, n in planned.items()}
        expected |= {f"{y} 已脱贫": exited[y] for y in planned | exited}
        assert _bars(made, "zh", county, "progress") == expected
        # one bar per batch the county's households are in: the statistics pack's count, per batch
        per_batch = {batch[b]: cell.value for (c, b), cell in in_batch.cells.items() if c == county}
        assert per_batch
        assert _bars(made, "zh", county, "batches") == per_batch
        outcomes = [decide_outcome(policy_set, h, QUARTER.last, exit_pack=exit_pack.id) for h in mine]
        failing = Counter(
            criteria[c.id]
            for o in outcomes
            if o.pack(exit_pack.id)
            for c in o.pack(exit_pack.id).criteria
            if c.verdict == "fail"
        )
        shown = _bars(made, "zh", county, "failing")
        assert len(shown) == min(TOP_CRITERIA, len(failing))
        assert all(failing[k] == n for k, n in shown.items())
        left_out = [n for k, n in failing.items() if k not in shown]
        assert min(shown.values(), default=0) >= max(left_out, default=0)  # the most frequent
        ends = Counter(
            f"{o.buffer.until.year}Q{(o.buffer.until.month + 2) // 3}"
            for o in outcomes
            if o.buffer is not None and o.buffer.status == "active" and isinstance(o.buffer.until, dt.date)
        )
        assert _bars(made, "zh", county, "expiries") == dict(ends)


def test_the_villages_chart_counts_each_planned_year_and_the_villages_passing(made: tuple) -> None:
    files, chart, _pages = made
    planned = {str(v["code"]): v.get("planned_exit_year") for v in _records(files, "villages")}
    for county in chart.counties:
        assert all(v.verdict is not None for v in county.villages)  # every village was decided
        years = Counter(planned[v.code] for v in county.villages if planned[v.code] is not None)
        passing = Counter(planned[v.code] for v in county.villages if v.verdict == "pass" and planned[v.code])
        expected = {f"{y} planned": n for y, n in years.items()} | {
            f"{y} passing exit": passing[y] for y in years
        }
        assert _bars(made, "en", county.code, "villages") == expected


def test_each_language_speaks_its_own(made: tuple) -> None:
    _files, _chart, pages = made
    zh, en = _parsed(pages["zh"]), _parsed(pages["en"])
    assert '<html lang="zh-CN">' in pages["zh"]
    assert '<html lang="en">' in pages["en"]
    assert "挂图作战" in pages["zh"]
    assert "Wall chart" in pages["en"]
    for county in set(zh.sections) - {"overview"}:
        assert zh.sections[county].keys() == en.sections[county].keys()
        for kind in ("progress", "batches", "failing", "expiries"):
            # the same bars, with their labels in each language
            assert [n for _, n in zh.sections[county][kind]] == [n for _, n in en.sections[county][kind]]
        en_labels = " ".join(label for bars in en.sections[county].values() for label, _ in bars)
        assert not re.search(r"[\u4e00-\u9fff]", en_labels), en_labels
        zh_labels = " ".join(label for label, _ in zh.sections[county]["batches"])
        assert re.search(r"[\u4e00-\u9fff]", zh_labels)


def test_the_print_stylesheet_puts_each_county_on_an_a3_landscape_page(made: tuple) -> None:
    page = made[2]["en"]
    assert re.search(r"@page\s*\{\s*size:\s*A3 landscape", page)
    assert re.search(r"@media print\s*\{[^@]*section\.county\s*\{[^}]*break-before:\s*page", page)


def test_the_command_writes_the_page_the_library_gives(made: tuple, tmp_path: Path) -> None:
    files, _chart, pages = made
    out = tmp_path / "report.html"
    code = main(
        [
            "--lang",
            "zh",
            "report",
            str(files["households"]),
            "--quarter",
            "2020Q4",
            "--output",
            str(out),
            "--villages",
            str(files["villages"]),
            "--counties",
            str(files["counties"]),
        ]
    )
    assert code == 0
    assert out.read_text("utf-8") == pages["zh"]


def test_a_bad_quarter_is_a_usage_error_and_writes_nothing(
    made: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    code = main(
        ["--lang", "en", "report", str(made[0]["households"]), "--quarter", "2020Q5", "--output", str(out)]
    )
    assert code == 2
    assert "--quarter" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_record_leaves_the_old_page_in_place(
    made: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "households.jsonl"
    lines = made[0]["households"].read_text("utf-8").splitlines()
    bad.write_text("\n".join([*lines, '{"id": "bad-1", "size": "many"}']) + "\n", "utf-8")
    out = tmp_path / "report.html"
    out.write_text("the old page", "utf-8")
    code = main(["--lang", "en", "report", str(bad), "--quarter", "2020Q4", "--output", str(out)])
    assert code == 1
    assert f"{bad.name}:" in capsys.readouterr().err  # located
    assert out.read_text("utf-8") == "the old page"
    assert {p.name for p in tmp_path.iterdir()} == {"households.jsonl", "report.html"}  # no temporary left


def _report_of(chart: WallChart, path: Path, change: tuple[str, tuple[str, ...], int] | None = None) -> Path:
    """The chart's own figures written as a department's aggregate report; `change`: an
    indicator, a cell's keys and what to add to that cell's figure."""
    columns = ("quarter", "indicator", "county", "village", "batch", "measure", "value")
    lines = [",".join(columns)]
    for table in chart.figures.tables.values():
        for keys, cell in table.cells.items():
            row = {
                "quarter": str(chart.quarter),
                "indicator": table.id,
                **dict(zip(table.keys, keys, strict=True)),
            }
            value = cell.value
            if change is not None and change[:2] == (table.id, keys):
                value += change[2]
            lines.append(",".join(str(row.get(c, value if c == "value" else "")) for c in columns))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_the_chart_shows_the_reconciliation_differences_with_their_households(
    made: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report that over-reports one county's figure by 2: the overview and that county's page
    show the difference with the households behind the computed figure; the other counties'
    pages show none; a clean report agrees everywhere."""
    files, chart, _pages = made
    (table, keys, cell), *_ = (
        (t, k, c) for t in chart.figures.tables.values() if "county" in t.keys for k, c in t.cells.items()
    )
    county = keys[table.keys.index("county")]
    assert cell.households
    argv = [str(files["households"]), "--quarter", "2020Q4", "--output", str(tmp_path / "r.html")]
    for lang in LANGS:
        report = _report_of(chart, tmp_path / "over.csv", (table.id, keys, 2))
        assert main(["--lang", lang, "report", *argv, "--reconcile", str(report)]) == 0
        assert ("对账差异 1 处" if lang == "zh" else "1 reconciliation difference") in capsys.readouterr().err
        page = _parsed((tmp_path / "r.html").read_text("utf-8"))
        for section, text in page.text.items():
            words = "".join(text)
            listed = ", ".join(cell.households[:12])
            shown = section in ("overview", county)
            assert (listed in words) == shown, section
            assert (f"county={county}" in words) == shown, section
            assert (f"{cell.value + 2:,}" in words and f"{cell.value:,}" in words) or not shown
        clean = _report_of(chart, tmp_path / "clean.csv")
        assert main(["--lang", lang, "report", *argv, "--reconcile", str(clean)]) == 0
        words = "".join(_parsed((tmp_path / "r.html").read_text("utf-8")).text["overview"])
        assert ("全部一致" if lang == "zh" else "Every reported figure agrees") in words
        capsys.readouterr()


def test_a_report_naming_an_unknown_county_writes_no_chart(
    made: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, chart, _pages = made
    report = _report_of(chart, tmp_path / "report.csv")
    report.write_text(report.read_text("utf-8") + "2020Q4,stat.exited,999999,,,,4\n", "utf-8")
    out = tmp_path / "r.html"
    argv = [str(files["households"]), "--quarter", "2020Q4", "--output", str(out), "--reconcile", str(report)]
    assert main(["--lang", "en", "report", *argv]) == 1
    assert "999999" in capsys.readouterr().err
    assert not out.exists()
