"""Reading monitoring events: good lines become events, bad lines become located diagnostics and
are skipped without stopping the stream (no durable_rules needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gspolicy.engine.events import Event, read_events
from gspolicy.errors import Diagnostic
from unit.monitor._support import line


def test_a_good_line_becomes_an_event_with_exact_numbers() -> None:
    (event,) = read_events([line("2018-03-01", "income_report", per_capita=3300.5)], file="ev.jsonl")
    assert isinstance(event, Event)
    assert event.date == dt.date(2018, 3, 1)
    assert event.household == "h1"
    assert event.data["per_capita"] == Decimal("3300.5")
    assert (event.file, event.line) == ("ev.jsonl", 1)


def test_bad_lines_are_located_and_the_stream_goes_on() -> None:
    lines = [
        line("2018-01-01", "exit"),
        "{not json",
        "",
        line("2018-01-02", "ilness", member="m1"),
        line("2018-01-03", "income_report"),
        line("2018-13-01", "exit"),
        line("2018-01-04", "exit", colour="red"),
        "[1, 2]",
        line("2018-01-05", "return"),
    ]
    items = list(read_events(lines, file="ev.jsonl"))
    events = [i for i in items if isinstance(i, Event)]
    problems = [i for i in items if isinstance(i, Diagnostic)]
    assert [e.line for e in events] == [1, 9]
    found = [(d.code, d.location.line) for d in problems]  # type: ignore[union-attr]
    assert found == [
        ("monitor/bad-json", 2),
        ("monitor/unknown-type", 4),
        ("monitor/missing-field", 5),
        ("monitor/bad-value", 6),
        ("monitor/unknown-field", 7),
        ("monitor/bad-json", 8),
    ]
    typo = problems[1]
    assert typo.suggestions == ("illness",)
    assert "ev.jsonl:4" in typo.render("en")
    assert "`per_capita`" in problems[2].message("en")
    assert "`per_capita`" in problems[2].message("zh")


def test_a_clock_event_has_no_household() -> None:
    (event,) = read_events([line("2020-10-01", "clock", hh=None)])
    assert isinstance(event, Event)
    assert event.household is None
    (problem,) = read_events([line("2020-10-01", "clock", hh="h1")])
    assert isinstance(problem, Diagnostic)
    assert problem.code == "monitor/unknown-field"


def test_wrong_types_are_named() -> None:
    (problem,) = read_events([line("2018-01-01", "insurance", member="m1", insured="yes")])
    assert isinstance(problem, Diagnostic)
    assert problem.code == "monitor/bad-value"
    assert "`insured`" in problem.message("en")
