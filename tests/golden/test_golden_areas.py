"""Golden tests: village and county exit acceptance, explained in English, in Chinese and as JSON.

Cases live in ``cases/areas/*.yaml``.  ``cases/areas/defaults.yaml`` holds a base household (it
meets every household exit indicator), a base village (every indicator met) and a base county
(survey figures that pass); a case lists households, villages and counties as changes merged onto
those bases (as the packs' own test cases merge), the date, and the area whose decision is the
golden (``level``, ``code``).  The expected renderings are ``expected/areas/<case>.en.txt``,
``<case>.zh.txt`` and ``<case>.json``; ``pytest --update-goldens`` rewrites them, and the rewrite is
reviewed like code.  Beside the comparison, each case's ``expect`` pins what it is for.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.explain.areas import AreaDecision
from gspolicy.testing.cases import merge_household

from support.golden import compare_golden

HERE = Path(__file__).parent
CASES = HERE / "cases" / "areas"
EXPECTED = HERE / "expected" / "areas"
REPO = bundled_policies().parent
FORMS = ("en.txt", "zh.txt", "json")
CASE_FILES = sorted(p for p in CASES.glob("*.yaml") if p.name != "defaults.yaml")
KEYS = {"households": {"members": "id"}, "villages": {}, "counties": {}}
BASE = {"households": "household", "villages": "village", "counties": "county"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def policies() -> Policies:
    """The bundled policies, loaded from the repository root so files are named `policies/…`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return load_policies(Path("policies"))


def case_area(path: Path, policies: Policies) -> tuple[dict[str, Any], AreaDecision]:
    case = _load(path)
    assert set(case) <= {"name", "as_of", "level", "code", "households", "villages", "counties", "expect"}
    defaults = _load(CASES / "defaults.yaml")
    merged = {
        kind: [merge_household(defaults[BASE[kind]], item or {}, KEYS[kind]) for item in case.get(kind) or []]
        for kind in KEYS
    }
    as_of = case["as_of"]
    assert isinstance(as_of, dt.date), f"{path.name}: as_of must be a date"
    result = policies.evaluate_areas(
        merged["households"], as_of, villages=merged["villages"], counties=merged["counties"]
    )
    found = [
        a for a in (*result.villages, *result.counties) if a.level == case["level"] and a.code == case["code"]
    ]
    assert len(found) == 1, f"{path.name}: no {case['level']} {case['code']} decided"
    return case, found[0]


def rendering(area: AreaDecision, form: str) -> str:
    if form == "json":
        return json.dumps(area.to_json(), ensure_ascii=False, indent=2) + "\n"
    return area.render(form.split(".", maxsplit=1)[0], detail="full")  # type: ignore[arg-type]  # "en" or "zh"


def test_cases_exist_and_are_named() -> None:
    assert {p.stem for p in CASE_FILES} >= {
        "village_passes",
        "village_fails_incidence",
        "county_fails_approval_only",
        "county_share_2018",
        "county_share_2019",
    }
    for path in CASE_FILES:
        assert _load(path).get("name"), f"{path.name} has no name"


def test_no_expected_file_without_its_case() -> None:
    cases = {p.stem for p in CASE_FILES}
    assert [p.name for p in EXPECTED.iterdir() if p.name.split(".")[0] not in cases] == []


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_case_decides_as_it_says(case_file: Path, policies: Policies) -> None:
    """The case's own `expect` holds, so a golden rewritten with a wrong verdict cannot pass."""
    case, area = case_area(case_file, policies)
    expect = case["expect"]
    assert area.verdict == expect["verdict"]
    verdicts = {c.id: c.verdict for c in area.decision.criteria}
    failing = sorted(cid for cid, v in verdicts.items() if v == "fail")
    assert failing == sorted(expect.get("failing", []))
    for cid, verdict in (expect.get("criteria") or {}).items():
        assert verdicts[cid] == verdict, cid
    if "weights" in expect:
        assert [w.item for w in area.weights][: len(expect["weights"])] == expect["weights"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_golden_areas(case_file: Path, form: str, policies: Policies, request: pytest.FixtureRequest) -> None:
    _, area = case_area(case_file, policies)
    actual = rendering(area, form)
    expected_path = EXPECTED / f"{case_file.stem}.{form}"
    compare_golden(
        actual,
        expected_path,
        update=bool(request.config.getoption("--update-goldens")),
        what=f"the explanation of {case_file.stem} ({form})",
    )
