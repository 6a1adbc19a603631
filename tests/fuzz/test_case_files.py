"""Fuzzing test-case files (the "test-case files" family): a bundled pack's case file edited as
text or as data is read and its cases run against the bundled policies.  Reading and running
never raise, every problem in the file is located, nothing is executed meanwhile."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, check_diagnostics, count, watched
from fuzz.mutations import mutated_data, mutated_text
from gspolicy._location import Source
from gspolicy._resources import bundled_policies
from gspolicy.testing.cases import cases_from_source, run_case

from support.bundled import shared_policies

CASE_FILES = sorted(p for p in bundled_policies().rglob("tests/*.yaml"))
TEXTS = {p: p.read_text(encoding="utf-8") for p in CASE_FILES}
POLICY_SET = shared_policies().policy_set


def _short(text: str) -> str:
    """The first cases of a file (running all of a long file's cases for every example is slow)."""
    data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        data["cases"] = data["cases"][:3]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)


SHORT = {p: _short(t) for p, t in TEXTS.items()}


def read_and_run(name: str, text: str) -> None:
    with watched():
        cases, problems = cases_from_source(Source(name, text), POLICY_SET)
        for case in cases[:3]:
            run_case(case, POLICY_SET)
    check_diagnostics(problems, about_content=True)


def test_there_are_case_files_to_break() -> None:
    assert len(CASE_FILES) >= 10


@budget(15, long=8_000)
@given(st.sampled_from(CASE_FILES), st.data())
def test_a_case_file_edited_as_text_is_read_and_run_or_refused(path: Path, data: st.DataObject) -> None:
    count("test-case files")
    read_and_run(path.name, data.draw(mutated_text(SHORT[path])))


@budget(15, long=8_000)
@given(st.sampled_from(CASE_FILES), st.data())
def test_a_case_file_edited_as_data_is_read_and_run_or_refused(path: Path, data: st.DataObject) -> None:
    count("test-case files")
    changed = data.draw(mutated_data(yaml.safe_load(SHORT[path])))
    read_and_run(path.name, yaml.safe_dump(changed, allow_unicode=True, sort_keys=False, width=200))
