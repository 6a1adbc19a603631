"""`--detail fails|brief|full` on the commands that explain: `explain`, `evaluate --explain`, `evaluate
--format json`, `test` and `log replay`; brief by default, full the whole text, the legend after the
shorter levels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gspolicy.cli import main
from gspolicy.explain.build import decide
from gspolicy.explain.render import legend

from support.bundled import shared_policies, shared_registry

DAY = "2018-12-31"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few households of the example registry: the first that passes, fails and is not assessed."""
    path = tmp_path_factory.mktemp("detail") / "households.jsonl"
    policies = shared_policies()
    chosen, seen = [], set()
    for record in shared_registry():
        verdict = policies.decide(record, DAY).verdict
        if verdict not in seen and verdict != "undetermined":
            seen.add(verdict)
            chosen.append(record)
        if len(seen) == 3:
            break
    path.write_text("".join(json.dumps(r.to_data(), ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["--lang", "en", *args]) == 0
    return capsys.readouterr().out


def _failing_id(records: Path) -> str:
    for line in records.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        if shared_policies().decide(data, DAY).verdict == "fail":
            return str(data["id"])
    raise AssertionError("no failing household")


@pytest.mark.parametrize("detail", ["fails", "brief", "full"])
def test_explain_prints_the_decision_at_the_level_asked(
    capsys: pytest.CaptureFixture[str], records: Path, detail: str
) -> None:
    household = _failing_id(records)
    out = _run(capsys, "explain", str(records), "--household", household, "--as-of", DAY, "--detail", detail)
    record = next(r for r in shared_registry() if r.get("id") == household)
    decision = decide(shared_policies().policy_set, record, dt.date(2018, 12, 31))
    text = decision.render("en", detail=detail)  # type: ignore[arg-type]
    if detail == "full":
        assert out == text  # the whole text, and nothing after it
    else:
        assert out == text + "\n" + legend("en")


def test_explain_is_brief_by_default(capsys: pytest.CaptureFixture[str], records: Path) -> None:
    household = _failing_id(records)
    args = ["explain", str(records), "--household", household, "--as-of", DAY]
    assert _run(capsys, *args) == _run(capsys, *args, "--detail", "brief")
    assert (
        len(_run(capsys, *args, "--detail", "fails"))
        < len(_run(capsys, *args))
        < len(_run(capsys, *args, "--detail", "full"))
    )


def test_evaluate_json_decisions_are_brief_by_default_and_small(
    capsys: pytest.CaptureFixture[str], records: Path
) -> None:
    brief = [
        json.loads(line)
        for line in _run(capsys, "evaluate", str(records), "--as-of", DAY, "--format", "jsonl").splitlines()
    ]
    full = [
        json.loads(line)
        for line in _run(
            capsys, "evaluate", str(records), "--as-of", DAY, "--format", "jsonl", "--detail", "full"
        ).splitlines()
    ]
    assert [d["household"] for d in brief] == [d["household"] for d in full]
    for short, whole in zip(brief, full, strict=True):
        assert short["verdict"] == whole["verdict"]
        assert len(json.dumps(short, ensure_ascii=False).encode()) <= 10_000
        assert len(json.dumps(short)) < len(json.dumps(whole))


def test_evaluate_explains_at_the_level_asked_and_says_the_legend_once(
    capsys: pytest.CaptureFixture[str], records: Path
) -> None:
    args = ["evaluate", str(records), "--as-of", DAY, "--explain", "2"]
    brief = _run(capsys, *args)
    assert brief.count("Notation in the explanations:") == 1
    assert brief.endswith(legend("en"))
    full = _run(capsys, *args, "--detail", "full")
    assert "Notation in the explanations:" not in full
    assert full.count("exit acceptance as of") == brief.count("exit acceptance as of") == 2


def test_a_bad_detail_is_a_usage_error(capsys: pytest.CaptureFixture[str], records: Path) -> None:
    assert main(["--lang", "en", "explain", str(records), "--household", "x", "--detail", "some"]) == 2
    assert "--detail" in capsys.readouterr().err
