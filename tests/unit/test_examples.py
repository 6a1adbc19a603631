"""The example registry and scripts: the generator is deterministic and documented, the committed
files are its output, every household validates, and each example script runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gspolicy.errors import render_diagnostics
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Schema
from gspolicy.schema.records import load_record_file, validate_record

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SAMPLE = EXAMPLES / "households.jsonl"
REGISTRY = EXAMPLES / "registry" / "households.jsonl"
REGISTRY_COUNT = 3000  # as examples/registry/README.md documents


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_households", EXAMPLES / "generate_households.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema() -> Schema:
    loaded, diagnostics = read_schema(ROOT / "policies" / "schema" / "household.yaml")
    assert loaded is not None, render_diagnostics(diagnostics, "en")
    return loaded


def test_same_seed_and_count_give_the_same_text(generator: ModuleType, tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    generator.main(["--count", "120", "--seed", "7", "-o", str(first)])
    generator.main(["--count", "120", "--seed", "7", "-o", str(second)])
    assert first.read_bytes() == second.read_bytes()
    generator.main(["--count", "120", "--seed", "8", "-o", str(second)])
    assert first.read_bytes() != second.read_bytes()


def test_default_output_is_the_committed_sample(generator: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "households.jsonl"
    generator.main(["-o", str(out)])
    assert out.read_bytes() == SAMPLE.read_bytes()


@pytest.mark.slow  # the whole 3,000-household registry
def test_committed_registry_is_a_fresh_generation(
    generator: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written a block at a time (two passes, the defects and gaps drawn between them), the
    registry is the one the in-memory generator wrote when it was committed."""
    readme = (REGISTRY.parent / "README.md").read_text(encoding="utf-8")
    assert f"--count {REGISTRY_COUNT}" in readme
    assert str(generator.SEED) in readme
    monkeypatch.setattr(generator, "BLOCK", 1_000)  # three blocks
    out = tmp_path / "households.jsonl"
    generator.main(["--count", str(REGISTRY_COUNT), "-o", str(out)])
    assert out.read_bytes() == REGISTRY.read_bytes()


def test_streamed_stats_are_those_of_the_households(generator: ModuleType, tmp_path: Path) -> None:
    """--stats counts the households as they are written; the count of each planted defect is
    what the households written hold."""
    out = tmp_path / "h.jsonl"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        generator.main(["--count", "400", "--profile", "registry", "-o", str(out), "--stats"])
    built = generator.build(generator.SEED, 400, generator.REGISTRY)
    assert printed.getvalue().splitlines() == generator.stats(built)
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == built.households
    both = {
        h["id"] for h in written if h["social"]["dibao_per_year"] > 0 and h["social"]["wubao_per_year"] > 0
    }
    assert both == set(built.planted["dibao_and_wubao"])
    assert f"defect dibao_and_wubao: {len(both)} " in printed.getvalue()


def test_sample_validates(schema: Schema) -> None:
    records, diagnostics = load_record_file(SAMPLE, schema)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert len(records) == 60


@pytest.mark.slow  # the whole 3,000-household registry
def test_every_registry_household_validates(schema: Schema) -> None:
    # one record at a time: `load_record_file` also locates every JSON line by parsing it again
    # (tens of ms a household), which would make this test take minutes
    lines = REGISTRY.read_text(encoding="utf-8").splitlines()
    assert len(lines) == REGISTRY_COUNT
    for number, line in enumerate(lines, start=1):
        record, diagnostics = validate_record(json.loads(line), schema)
        assert record is not None, f"line {number}: {render_diagnostics(diagnostics, 'en')}"
        assert diagnostics == [], f"line {number}: {render_diagnostics(diagnostics, 'en')}"


@pytest.mark.parametrize("count", [1, 10, 61])
def test_small_and_odd_counts_validate(
    generator: ModuleType, schema: Schema, count: int, tmp_path: Path
) -> None:
    out = tmp_path / "h.jsonl"
    generator.main(["--count", str(count), "-o", str(out)])
    records, diagnostics = load_record_file(out, schema)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert len(records) == count


@pytest.mark.slow  # the whole example registry: full suite
def test_registry_follows_the_brief(generator: ModuleType) -> None:
    built = generator.build(generator.SEED, REGISTRY_COUNT)
    households = built.households
    people = sum(len(h["members"]) for h in households)
    assert 3.9 <= people / len(households) <= 4.4  # brief §7: 4.17 million in 1.01 million households
    assert all(h["size"] == len(h["members"]) for h in households)
    water = [h["water"] for h in households if "water" in h]
    piped = sum(generator.truth(w.get("piped")) for w in water) / len(water)
    assert 0.85 <= piped <= 0.91  # brief §5.9: tap water 88 %
    # Dibao only to Dibao households, Wubao only to tekun, except the planted defects
    planted = {i for ids in built.planted.values() for i in ids}
    for h, facts in zip(households, built.facts, strict=True):
        if h["id"] in planted:
            continue
        social = h["social"]
        assert (social["dibao_per_year"] > 0) == (facts["category"] == "dibao"), h["id"]
        assert (social["wubao_per_year"] > 0) == (facts["category"] == "tekun"), h["id"]
    assert len(built.planted["dibao_and_wubao"]) == REGISTRY_COUNT // 100


@pytest.mark.slow  # the whole 3,000-household registry
def test_planted_defects_are_all_there_is_of_their_kind(generator: ModuleType) -> None:
    """A check for 因病 with everyone healthy, or for Dibao and Wubao both paid, finds exactly the
    households the README lists."""
    built = generator.build(generator.SEED, REGISTRY_COUNT)
    ill, both = set(), set()
    for h in built.households:
        cause = generator.code("main_cause", h["registration"].get("main_cause"))
        if cause == "illness" and all(
            generator.code("health", m["health"]) == "healthy" for m in h["members"]
        ):
            ill.add(h["id"])
        if h["social"]["dibao_per_year"] > 0 and h["social"]["wubao_per_year"] > 0:
            both.add(h["id"])
    assert ill == set(built.planted["illness_all_healthy"])
    assert both == set(built.planted["dibao_and_wubao"])
    readme = (REGISTRY.parent / "README.md").read_text(encoding="utf-8")
    for ids in built.planted.values():
        assert all(i in readme for i in ids)


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"examples/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        ("decide_one.py", (), "621126-0001"),
        ("batch_shares.py", ("--limit", "27"), "exit verdicts"),
        ("buffer_support.py", (), "as of 2021-06-30"),
    ],
)
def test_example_script_runs(script: str, args: tuple[str, ...], expect: str) -> None:
    done = run(script, *args)
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout


def test_committed_areas_are_a_fresh_generation(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_areas", EXAMPLES / "generate_areas.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.main(["-o", str(tmp_path)])
    for name in ("villages.jsonl", "counties.jsonl"):
        assert (tmp_path / name).read_bytes() == (REGISTRY.parent / name).read_bytes(), name


@pytest.mark.parametrize(
    ("name", "kind", "count"), [("villages.jsonl", "village", 144), ("counties.jsonl", "county", 9)]
)
def test_area_records_validate(schema: Schema, name: str, kind: str, count: int) -> None:
    records, diagnostics = load_record_file(REGISTRY.parent / name, schema, record=kind)
    assert diagnostics == [], render_diagnostics(diagnostics, "en")
    assert len(records) == count
