"""Packs of `kind: statistics`: read, checked (every mistake refused where it is written, in zh
and en), hashed, laid out and kept out of the packs that decide a household."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gspolicy._location import Span
from gspolicy.pack.fmt import format_text
from gspolicy.pack.load import load_policies
from unit.stats._demo import HEAD, STATS, demo_root, demo_set

ONE = (
    HEAD.format(id="demo.stats", kind="statistics")
    + """\
keys:
  county: county_code
indicators:
  - id: s.one
    title: {zh: 一, en: One}
    cite: {source: doc}
"""
)

# (what the indicator says beyond id/title/cite, the code refused, the text underlined)
MISTAKES = [
    ('    count: "True"\n    period: stock\n    colour: red\n', "shape/unknown-key", "colour"),
    ('    count: "True"\n    period: weekly\n', "shape/bad-value", "weekly"),
    ('    count: "True"\n    period: flow\n', "pack/flow-without-date", "flow"),
    (
        '    count: "True"\n    period: stock\n    dated_by: registration.exited_on\n',
        "pack/stock-with-date",
        "registration.exited_on",
    ),
    ('    count: "True"\n    sum: size\n    period: stock\n', "pack/count-and-sum", "size"),
    ("    period: stock\n", "pack/no-figure", "id: s.one"),
    ('    count: "True"\n    where: size > 1\n    period: stock\n', "pack/where-with-count", "size > 1"),
    ('    count: "True"\n    by: [township]\n    period: stock\n', "pack/unknown-group-key", "township"),
    (
        '    count: "True"\n    by: [county, county]\n    period: stock\n',
        "pack/duplicate-group-key",
        "county",
    ),
    ('    count: "True"\n    period: stock\n    tolerance: -1\n', "pack/bad-tolerance", "-1"),
    ("    count: size\n    period: stock\n", "type/mismatch", "size"),
    ("    sum: size > 1\n    period: stock\n", "type/mismatch", "size > 1"),
    ('    count: "True"\n    period: flow\n    dated_by: size\n', "type/mismatch", "size"),
    (
        '    count: "True"\n    by: [county]\n    period: stock\n    held: members\n',
        "pack/held-without-key",
        "members",
    ),
    (
        '    count: "True"\n    by: [measure]\n    period: stock\n    held: members\n',
        "pack/held-not-measures",
        "members",
    ),
    ('    count: rule("no.such")\n    period: stock\n', "pack/invariant-unknown-name", '"no.such"'),
    ("    count: size > 1\n    period: stock\n    missing: 1\n", "shape/unknown-key", "missing"),
]


def _with(body: str) -> str:
    return ONE.replace("    cite: {source: doc}\n", body + "    cite: {source: doc}\n")


@pytest.mark.parametrize(("body", "code", "where"), MISTAKES, ids=[m[1] + ":" + m[2] for m in MISTAKES])
def test_every_mistake_is_refused_where_it_is_written(
    tmp_path: Path, body: str, code: str, where: str
) -> None:
    policy_set, problems = load_policies([demo_root(tmp_path, _with(body))])
    assert policy_set is None
    found = [d for d in problems if d.code == code]
    assert found, [d.render("en") for d in problems]
    span = found[0].location
    assert isinstance(span, Span)
    assert span.file.endswith("stats.yaml")
    assert span.text.startswith(where), span.text
    assert found[0].message("zh")
    assert found[0].message("en")


GOOD = _with('    count: "True"\n    period: stock\n')


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (GOOD.replace("keys:\n  county: county_code\n", "keys:\n  batch: county_code\n"), "pack/builtin-key"),
        (GOOD.replace("county: county_code", "county: members"), "pack/group-key-not-a-field"),
        (GOOD.replace("county: county_code", "county: size + 1"), "pack/group-key-not-a-field"),
        (GOOD.replace("indicators:", "rules: []\nindicators:"), "pack/statistics-only"),
        (GOOD.split("indicators:")[0], "pack/no-indicators"),
    ],
)
def test_the_pack_level_mistakes(tmp_path: Path, text: str, code: str) -> None:
    policy_set, problems = load_policies([demo_root(tmp_path, text)])
    assert policy_set is None
    assert code in {d.code for d in problems}, [d.render("en") for d in problems]


def test_the_good_pack_loads(tmp_path: Path) -> None:
    policy_set, problems = load_policies([demo_root(tmp_path, GOOD)])
    assert policy_set is not None, [d.render("en") for d in problems]


def test_indicators_in_another_pack_are_refused(tmp_path: Path) -> None:
    demo_root(tmp_path)
    exit_text = (tmp_path / "demo/exit.yaml").read_text(encoding="utf-8")
    (tmp_path / "demo/exit.yaml").write_text(exit_text + "keys:\n  county: county_code\n", encoding="utf-8")
    _policy_set, problems = load_policies([tmp_path])
    assert "pack/indicators-elsewhere" in {d.code for d in problems}


def test_a_statistics_pack_decides_nothing(tmp_path: Path) -> None:
    policy_set = demo_set(tmp_path)
    day = dt.date(2019, 1, 1)
    assert "demo.stats" in policy_set.of_kind("statistics")
    assert "demo.stats" not in {p.id for p in policy_set.all_in_force(day)}
    checked = policy_set.in_force("demo.stats", day)
    assert checked is not None
    assert set(checked.indicators) == {"s.poor", "s.in_batch", "s.exited", "s.income"}
    assert checked.pack.indicators[3].tolerance == 10


def test_the_hash_follows_the_meaning_not_the_layout(tmp_path: Path) -> None:
    base = demo_set(tmp_path / "a").in_force("demo.stats", dt.date(2019, 1, 1))
    relaid = STATS.replace("by: [county]", "by:\n      - county").replace("tolerance: 10", "tolerance: 10.0")
    same = demo_set(tmp_path / "b", relaid).in_force("demo.stats", dt.date(2019, 1, 1))
    other = demo_set(tmp_path / "c", STATS.replace("tolerance: 10", "tolerance: 11")).in_force(
        "demo.stats", dt.date(2019, 1, 1)
    )
    assert base is not None
    assert same is not None
    assert other is not None
    assert base.content_hash == same.content_hash != other.content_hash


def test_fmt_orders_an_indicator_and_keeps_its_meaning(tmp_path: Path) -> None:
    shuffled = STATS.replace(
        "    count: income.per_capita < 4500\n    by: [county]\n    period: stock\n",
        "    period: stock\n    by: [county]\n    count: income.per_capita < 4500\n",
    )
    out = format_text(shuffled, path="stats.yaml")
    assert "    count: income.per_capita < 4500\n    by: [county]\n    period: stock\n" in out
    a = demo_set(tmp_path / "a", shuffled).in_force("demo.stats", dt.date(2019, 1, 1))
    b = demo_set(tmp_path / "b", out).in_force("demo.stats", dt.date(2019, 1, 1))
    assert a is not None
    assert b is not None
    assert a.content_hash == b.content_hash
