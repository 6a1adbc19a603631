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


@pytest.mark.parametrize("form", ["en.txt", "zh.txt", "json"])
def test_golden_area_brief(form: str, policies: Policies, request: pytest.FixtureRequest) -> None:
    """An area's `brief` explanation (the text's default): its decision at `brief`, its own
    figures, other standards and weighing items as at `full`."""
    _, area = case_area(CASES / "village_fails_incidence.yaml", policies)
    if form == "json":
        actual = json.dumps(area.to_json(detail="brief"), ensure_ascii=False, indent=2) + "\n"
    else:
        actual = area.render(form.split(".", maxsplit=1)[0])  # type: ignore[arg-type]  # "en" or "zh"
    compare_golden(
        actual,
        HERE / "expected" / "areas_brief" / f"village_fails_incidence.{form}",
        update=bool(request.config.getoption("--update-goldens")),
        what=f"the brief explanation of village_fails_incidence ({form})",
    )


def test_an_area_keeps_its_own_reasons_at_every_level(policies: Policies) -> None:
    _, area = case_area(CASES / "village_fails_incidence.yaml", policies)
    for lang in ("en", "zh"):
        full = area.render(lang, detail="full")
        tail = full[full.index("\n  数据：" if lang == "zh" else "\n  figures:") :]
        for detail in ("fails", "brief"):
            text = area.render(lang, detail=detail)
            assert text.endswith(tail), detail
            assert len(text) < len(full)
    data = area.to_json(detail="fails")
    assert data["decision"]["detail"] == "fails"
    assert {k: v for k, v in data.items() if k != "decision"} == {
        k: v for k, v in area.to_json().items() if k != "decision"
    }
