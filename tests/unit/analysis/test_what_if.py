"""`explain --what-if`: the smallest changes that make a registry household's exit verdict a pass,
each confirmed by the engine; an undetermined verdict's missing fields ranked by what settles it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gspolicy.analysis.what_if import what_if
from gspolicy.analysis.what_if_report import render_what_if
from gspolicy.cli import main
from gspolicy.engine.outcome import decide_outcome
from gspolicy.schema.validate import validate_record

AS_OF = dt.date(2018, 12, 31)
EXIT = "exit_criteria.household"


def _apply(data: dict, path: str, value: object) -> None:  # type: ignore[type-arg]
    current = data
    parts = path.split(".")
    for part in parts[:-1]:
        name, _, index = part.partition("[")
        current = current.setdefault(name, {})
        if index:
            current = current[int(index.rstrip("]"))]
    if value is None:
        current.pop(parts[-1], None)
    else:
        current[parts[-1]] = value


def _household(registry, household_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in registry if r.get("id") == household_id)


def test_changes_that_pass_are_confirmed_and_minimal(bundled, registry) -> None:  # type: ignore[no-untyped-def]
    record = _household(registry, "622921-0001")
    found = what_if(bundled.policy_set, record, AS_OF, limit=1)
    assert found.verdict == "fail"
    assert found.changes
    for change in found.changes:
        data = record.to_data()
        for path, _old, new in change.fields:
            _apply(data, path, new)
        changed, problems = validate_record(data, bundled.schema)
        assert changed is not None, problems
        assert decide_outcome(bundled.policy_set, changed, AS_OF, exit_pack=EXIT).verdict == "pass"
        # minimal: undoing any one field of the change no longer passes
        if len(change.fields) == 2:
            for path, old, _new in change.fields:
                again = changed.to_data()
                _apply(again, path, old)
                undone, _ = validate_record(again, bundled.schema)
                assert undone is not None
                assert decide_outcome(bundled.policy_set, undone, AS_OF, exit_pack=EXIT).verdict != "pass"
    text = render_what_if(found, "zh")
    assert "通过，若 income.per_capita" in text


def test_an_undetermined_verdict_names_what_settles_it(bundled, registry) -> None:  # type: ignore[no-untyped-def]
    record = _household(registry, "622926-0029")
    found = what_if(bundled.policy_set, record, AS_OF, limit=1)
    assert found.verdict == "undetermined"
    ((path, old, new),) = found.changes[0].fields
    assert (path, old) == ("income.per_capita", None)
    assert new is not None


def test_explain_what_if(tmp_path: Path, capsys: pytest.CaptureFixture[str], registry) -> None:  # type: ignore[no-untyped-def]
    one = tmp_path / "one.jsonl"
    one.write_text(
        json.dumps(_household(registry, "622921-0019").to_data(), ensure_ascii=False) + "\n", "utf-8"
    )
    code = main(
        [
            "--lang",
            "en",
            "explain",
            str(one),
            "--household",
            "622921-0019",
            "--as-of",
            "2018-12-31",
            "--what-if",
            "--detail",
            "fails",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "what would change this decision (now: undetermined):" in out
    assert "water.quality_ok: 1 of 2 values (e.g. false)" in out
