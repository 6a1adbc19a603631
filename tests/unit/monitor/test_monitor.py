"""The monitor on durable_rules: an alert of every kind, each planted and found, none on missing
data, bad events skipped with their line, facts retracted, action errors checked, and the
conditions decided by durable_rules even with the reference interpreter stubbed out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("durable", reason="needs the durable extra (durable-rules has no build for Python 3.13+)")

from gspolicy.cli import main
from gspolicy.engine.durable import DurableError, DurableSession, compile_pack
from gspolicy.engine.monitor import Alert, Monitor, shock_after_low_income
from gspolicy.errors import Diagnostic
from gspolicy.lang import Interval, Unknown
from gspolicy.pack.policy_set import PolicySet
from unit.monitor._support import EXAMPLE_KINDS, household, line

from support.bundled import shared_policies

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "events.jsonl"


@pytest.fixture(scope="module")
def policy_set() -> PolicySet:
    return shared_policies().policy_set


def run(policy_set: PolicySet, lines: list[str]) -> tuple[Monitor, list[Alert], list[Diagnostic]]:
    monitor = Monitor(policy_set)
    items = list(monitor.run(lines, file="events.jsonl"))
    return (
        monitor,
        [i for i in items if isinstance(i, Alert)],
        [i for i in items if isinstance(i, Diagnostic)],
    )


def exited(hh: str = "h1", **record: Any) -> list[str]:
    """A household identified in 2016 and exited at the end of 2016."""
    return [
        line("2016-03-01", "new_identification", hh, record=household(**record)),
        line("2016-12-28", "exit", hh),
    ]


UNSAFE_WATER = {
    "litres_per_person_day": 15,
    "piped": False,
    "round_trip_minutes": 40,
    "quality_ok": False,
    "guarantee_rate": 0.8,
}

PLANTED: dict[str, list[str]] = {
    # the watch line is in force from 2020 (a post-campaign mechanism)
    "risk.income_below_watch_line": [*exited(), line("2020-03-01", "income_report", per_capita=3100)],
    "risk.rigid_spending_above_income": [
        *exited(),
        line("2017-06-30", "income_report", per_capita=5800, rigid_spending=26000),
    ],
    "risk.shock_after_low_income": [
        *exited(),
        line("2020-03-01", "income_report", per_capita=3100),
        line("2020-04-10", "illness", member="m1"),
    ],
    "exit_failing.income": [*exited(), line("2017-09-01", "income_report", per_capita=3100)],
    "exit_failing.food_clothing": exited(food=False),
    "exit_failing.education": [
        *exited(child_born="2008-09-01"),
        line("2017-05-01", "dropout", member="m2", reason="work"),
    ],
    **{
        f"exit_failing.water_{part}": [*exited(water=UNSAFE_WATER), line("2018-09-01", "clock", hh=None)]
        for part in ("quantity", "access", "quality", "guarantee")
    },
    "exit_failing.housing": [*exited(grade="a"), line("2017-05-01", "disaster", housing_grade="d")],
    "exit_failing.medical": [*exited(), line("2017-05-01", "insurance", member="m2", insured=False)],
    "batch.medical_assistance": [
        line("2017-03-15", "new_identification", record=household()),
        line("2017-04-10", "illness", member="m2", severity="chronic"),
    ],
    "batch.relocation": [line("2017-03-15", "new_identification", record=household(zone=True))],
    "buffer.ending_soon": [*exited(), line("2020-10-01", "clock", hh=None)],
    "excluded.new_or_returned_this_year": [
        *exited(),
        line("2018-01-10", "clock", hh=None),
        line("2019-04-02", "return"),
    ],
}


def test_the_examples_raise_an_alert_of_every_kind(policy_set: PolicySet) -> None:
    monitor, alerts, problems = run(policy_set, EXAMPLES.read_text(encoding="utf-8").splitlines())
    assert {a.kind for a in alerts} == set(EXAMPLE_KINDS)
    assert {a.rule for a in alerts} == set(monitor.pack.rules)  # type: ignore[union-attr]
    assert all(a.durable_rule == f"{a.rule}#true" for a in alerts)
    assert problems, "the examples also show bad events being skipped"


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_each_planted_alert_is_found(policy_set: PolicySet, rule: str) -> None:
    _, alerts, problems = run(policy_set, PLANTED[rule])
    assert not problems
    # raised by the planted (last) line
    found = [a for a in alerts if a.rule == rule and a.line == len(PLANTED[rule])]
    assert len(found) == 1, [(a.rule, a.line) for a in alerts]
    alert = found[0]
    assert alert.household == "h1"
    assert alert.durable_rule == f"{rule}#true"
    assert alert.to_json()["pack"] == "monitoring.household@2016.1"


def test_an_alert_fires_once_while_its_condition_holds(policy_set: PolicySet) -> None:
    lines = [
        *PLANTED["risk.income_below_watch_line"],
        line("2020-04-01", "income_report", per_capita=3000),  # still under: no new alert
        line("2020-05-01", "income_report", per_capita=6500),  # above the range: false
        line("2020-06-01", "income_report", per_capita=3000),  # newly under again
    ]
    _, alerts, _ = run(policy_set, lines)
    assert [a.date for a in alerts if a.rule == "risk.income_below_watch_line"] == [
        dt.date(2020, 3, 1),
        dt.date(2020, 6, 1),
    ]


def test_no_alert_fires_when_the_deciding_field_is_missing(policy_set: PolicySet) -> None:
    monitor, alerts, problems = run(
        policy_set,
        [
            line("2016-03-01", "new_identification", record={**household(insured=None), "housing": {}}),
            line("2016-12-28", "exit"),
            line("2017-05-01", "disaster"),  # a shock, but no income report: the risk is false
            line("2017-06-01", "income_report", per_capita=4000),  # inside the watch range
        ],
    )
    assert not problems
    assert not [a for a in alerts if a.kind in ("risk", "exit_failing")]
    verdicts = monitor.verdicts("h1")
    assert isinstance(verdicts["exit_failing.housing"], Unknown)  # housing.grade missing
    assert isinstance(verdicts["exit_failing.medical"], Unknown)  # insurance missing
    assert isinstance(verdicts["risk.income_below_watch_line"], Unknown)  # 4000 in [3500, 5250]
    assert verdicts["risk.shock_after_low_income"] is False


def test_bad_events_are_reported_with_their_line_and_skipped(policy_set: PolicySet) -> None:
    lines = [
        *exited(),
        line("2017-01-05", "illness", member="m9"),
        line("2017-01-06", "member_removed", hh="nobody", member="m1"),
        line("2017-01-07", "income_report", per_capita=-5000000),
        line("2016-01-01", "exit"),
        line("2020-03-01", "income_report", per_capita=3100),
    ]
    monitor, alerts, problems = run(policy_set, lines)
    assert [(d.code, d.location.line) for d in problems] == [  # type: ignore[union-attr]
        ("monitor/unknown-member", 3),
        ("monitor/unknown-household", 4),
        ("monitor/invalid-record", 5),
        ("monitor/out-of-order", 6),
    ]
    assert [a.rule for a in alerts if a.kind == "risk"] == ["risk.income_below_watch_line"]
    assert monitor.stats.bad_events == 4


def test_facts_are_retracted_so_the_host_holds_one_per_household(policy_set: PolicySet) -> None:
    lines = exited("h1") + exited("h2")
    for month in range(1, 13):
        for hh in ("h1", "h2"):
            lines.append(line(f"2017-{month:02d}-15", "income_report", hh, per_capita=3000 + 400 * month))
    lines.sort(key=lambda text: json.loads(text)["date"])  # stable: identification before exit
    monitor, _, _ = run(policy_set, lines)
    assert monitor.stats.asserts > 24
    rulesets = len(compile_pack(monitor.pack).rulesets)  # type: ignore[arg-type]
    assert monitor.facts_held() == 2 * rulesets  # one fact per household in each ruleset


def test_the_conditions_live_in_durable_rules(policy_set: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    _, expected, _ = run(policy_set, lines)

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the reference interpreter was called")

    import gspolicy.lang
    import gspolicy.lang.interpret

    monkeypatch.setattr(gspolicy.lang.interpret, "evaluate", refuse)
    monkeypatch.setattr(gspolicy.lang.interpret, "Interpreter", refuse)
    monkeypatch.setattr(gspolicy.lang, "evaluate", refuse)
    _, alerts, _ = run(policy_set, lines)
    assert [(a.household, a.rule, a.date) for a in alerts] == [
        (a.household, a.rule, a.date) for a in expected
    ]
    assert len(alerts) >= len(EXAMPLE_KINDS)


def test_an_action_error_returned_as_data_is_raised(
    policy_set: PolicySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = Monitor(policy_set, start=dt.date(2017, 1, 1))
    session = monitor._session
    assert isinstance(session, DurableSession)

    def boom(rule: str, fact_id: str) -> None:
        raise ValueError("planted")

    monkeypatch.setattr(session, "_on_fire", boom)
    ruleset = next(iter(session.compiled.rulesets))
    with pytest.raises(DurableError, match="planted"):
        session.replace("h1", {ruleset: {"f_registration_status": "exited"}})
    monkeypatch.undo()
    fired = session.replace("h1", {ruleset: {"f_registration_status": "pre_exit"}})
    assert (ruleset, "risk.income_below_watch_line#false") in fired  # the state was cleared


def test_no_wall_clock_timers_are_started(policy_set: PolicySet) -> None:
    monitor = Monitor(policy_set, start=dt.date(2017, 1, 1))
    host = monitor._session.host  # type: ignore[union-attr]
    assert not hasattr(host, "_d_timer")
    assert not hasattr(host, "_t_timer")


def test_the_shock_window_is_three_valued() -> None:
    line_range = Interval(3500, 5250)
    window = Interval(90, 365)
    report = [(dt.date(2018, 1, 1), 3000)]
    soon, later, much_later = dt.date(2018, 2, 1), dt.date(2018, 7, 1), dt.date(2019, 3, 1)
    assert shock_after_low_income(report, [soon], soon, line_range, window) is True
    assert isinstance(shock_after_low_income(report, [later], later, line_range, window), Unknown)
    assert shock_after_low_income(report, [much_later], much_later, line_range, window) is False
    inside = [(dt.date(2018, 1, 1), 4000)]  # inside the watch range: unknown, never true
    assert isinstance(shock_after_low_income(inside, [soon], soon, line_range, window), Unknown)
    # a shock that is no longer recent no longer counts
    assert shock_after_low_income(report, [soon], dt.date(2019, 6, 1), line_range, window) is False


def test_the_command_writes_alerts_as_jsonl_with_explanations(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["monitor", str(EXAMPLES), "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 1  # the examples hold bad events on purpose
    alerts = [json.loads(text) for text in out.splitlines()]
    assert {a["kind"] for a in alerts} == set(EXAMPLE_KINDS)
    for alert in alerts:
        assert alert["durable_rule"] == alert["rule"] + "#true"
        assert alert["explanation"]["interpreter_agrees"] is True
        assert alert["explanation"]["cites"]
    shock = next(a for a in alerts if a["rule"] == "risk.shock_after_low_income")
    assert shock["explanation"]["prepared"][0]["name"] == "event_shock_after_low_income"
    income = next(a for a in alerts if a["rule"] == "risk.income_below_watch_line")
    assert income["explanation"]["parameters"][0]["name"] == "watch_line"
    assert "events.jsonl:20: monitor/unknown-type" in err
    assert "bad events skipped" in err


def test_alerts_as_text_speak_the_readers_language(capsys: pytest.CaptureFixture[str]) -> None:
    """An alert's readings show an enum code with its label, true/false and a parameter's unit in
    the reader's language (field paths and ids stay as they are)."""
    main(["monitor", str(EXAMPLES), "--format", "text", "--lang", "zh"])
    zh = capsys.readouterr().out
    assert "registration.status = exited（已脱贫）" in zh
    assert "watch_line = [4,000, 6,000] 元/人/年" in zh
    assert "event_shock_after_low_income = 是" in zh
    assert "= true" not in zh
    assert "yuan/person/year" not in zh
    main(["monitor", str(EXAMPLES), "--format", "text", "--lang", "en"])
    en = capsys.readouterr().out
    assert "registration.status = exited (Exited)" in en
    assert "watch_line = [4,000, 6,000] yuan/person/year" in en


def test_show_rules_prints_the_compiled_rulesets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--show-rules"]) == 0
    out = capsys.readouterr().out
    assert "buffer.ending_soon#false" in out
