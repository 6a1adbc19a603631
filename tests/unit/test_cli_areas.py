"""`gspolicy evaluate` with village and county files: summaries, levels, JSON, bad arguments."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

import gspolicy
from gspolicy._location import display_width
from gspolicy._resources import bundled_policies
from gspolicy.cli import main

REPO = bundled_policies().parent
REGISTRY = REPO / "examples" / "registry"
# a small slice of the registry: the households of one county, its villages and the county
COUNTY = "621126"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("areas")
    found: dict[str, Path] = {}
    for name in ("households", "villages", "counties"):
        lines = (REGISTRY / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        key = "code" if name == "counties" else "county_code"
        kept = [line for line in lines if json.loads(line).get(key) == COUNTY]
        assert kept, name
        found[name] = out / f"{name}.jsonl"
        found[name].write_text("\n".join(kept) + "\n", encoding="utf-8")
    return found


def _args(files: dict[str, Path], *more: str) -> list[str]:
    return [
        "--lang",
        "en",
        "evaluate",
        str(files["households"]),
        "--villages",
        str(files["villages"]),
        "--counties",
        str(files["counties"]),
        "--as-of",
        "2018-12-31",
        *more,
    ]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_main_commands_summary_fits_40_lines_of_120_columns(
    lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's main command: the household summary, then the villages and counties, in at
    most 40 lines of at most 120 columns before the explanations, in either language."""
    args = [
        "--lang",
        lang,
        "evaluate",
        str(REGISTRY / "households.jsonl"),
        "--villages",
        str(REGISTRY / "villages.jsonl"),
        "--counties",
        str(REGISTRY / "counties.jsonl"),
        "--as-of",
        "2018-12-31",
        "--explain",
        "1",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    head = "农户 " if lang == "zh" else "Household "
    summary = out[: out.index("\n" + head)].splitlines()
    assert len(summary) <= 40, "\n".join(summary)
    assert max(display_width(line) for line in summary) <= 120
    zh = lang == "zh"
    assert any(line.startswith("村（144 个" if zh else "Villages (144, ") for line in summary)
    assert any(line.startswith("县（9 个" if zh else "Counties (9, ") for line in summary)
    # the counties' names beside their codes, in the batch table and the counties' verdicts
    assert sum("621126 岷县" in line for line in summary) == 2


def test_village_level_explains_a_failing_village_with_what_weighs_most(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "--level", "village", "--explain", "1", "--list")) == 0
    out = capsys.readouterr().out
    assert "code / verdict / failing / undetermined" in out
    explained = out.split("village exit acceptance as of", 1)[1]
    assert "verdict: FAIL" in explained
    assert "what weighs most:" in explained


def test_county_level_json_holds_valid_decisions(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "--level", "county", "--format", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["code"] for a in data] == [COUNTY]
    schema = json.loads(
        (Path(gspolicy.__file__).parent / "schemas" / "decision.schema.json").read_text(encoding="utf-8")
    )
    jsonschema.validate(data[0]["decision"], schema)
    assert len(data[0]["gathered"]["households"]) == len(files["households"].read_text().splitlines())


def test_the_national_pack_can_give_the_verdict(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "--level", "county", "--county-pack", "exit_criteria.county_national")) == 0
    out = capsys.readouterr().out
    assert "packs: exit_criteria.county@2018.1, exit_criteria.county_national@2016.1" in out
    assert "exit_criteria.county " in out  # Gansu's verdict is now the other standard


def test_a_level_without_its_file_exits_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "evaluate", str(files["households"]), "--level", "village"]) == 2
    assert "--level village needs --villages FILE" in capsys.readouterr().err


def test_an_unknown_level_pack_exits_2_with_a_suggestion(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "--county-pack", "exit_criteria.countyy")) == 2
    assert "did you mean `exit_criteria.county`" in capsys.readouterr().err


def test_a_village_file_giving_a_gathered_list_is_refused_located(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "villages.jsonl"
    first = json.loads(files["villages"].read_text(encoding="utf-8").splitlines()[0])
    bad.write_text(json.dumps({**first, "households": []}, ensure_ascii=False) + "\n", encoding="utf-8")
    code = main(
        [
            "--lang",
            "en",
            "evaluate",
            str(files["households"]),
            "--villages",
            str(bad),
            "--as-of",
            "2018-12-31",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert f"{bad}:1:" in err
    assert "record/gathered-field" in err


def test_named_areas_are_explained_and_an_unknown_code_is_refused(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = json.loads(files["villages"].read_text(encoding="utf-8").splitlines()[0])["code"]
    assert main(_args(files, "--level", "village", "--area", code)) == 0
    out = capsys.readouterr().out
    assert out.count("village exit acceptance as of") == 1
    assert f"\n{code} " in out
    assert main(_args(files, "--level", "village", "--area", COUNTY + "999999")) == 2
    assert "no village" in capsys.readouterr().err


@pytest.mark.slow
def test_diff_lists_the_villages_and_counties_a_new_threshold_changes(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "policies"
    shutil.copytree(bundled_policies(), new, ignore=shutil.ignore_patterns("tests"))
    pack = new / "exit_criteria" / "village" / "2018.1.yaml"
    text = pack.read_text(encoding="utf-8")
    assert text.count("        value: 0.03\n") == 1
    pack.write_text(text.replace("        value: 0.03\n", "        value: 0.001\n"), encoding="utf-8")
    args = ["--lang", "en", "diff", str(bundled_policies()), str(new), "--as-of", "2018-12-31"]
    args += ["--population", str(files["households"]), "--villages", str(files["villages"])]
    args += ["--counties", str(files["counties"])]
    assert main(args) == 0
    out = capsys.readouterr().out
    head = next(
        line
        for line in out.splitlines()
        if line.startswith("impact as of 2018-12-31 on") and "villages" in line
    )
    changed = int(head.split(": ")[1].split(" change verdict")[0])
    assert changed > 0  # every village with a poor household now fails on incidence
    assert "village.incidence: pass → fail" in out
    assert "impact as of 2018-12-31 on 1 counties" in out


@pytest.mark.slow
@pytest.mark.parametrize("level", ["household", "county"])
def test_streamed_areas_print_what_the_whole_records_give(
    level: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole example registry with its areas: the households streamed through the columnar
    runner and kept as the fields the areas' packs read (the default) print exactly what the
    per-record evaluator on whole records prints (the path taken when `area_reads` finds a read
    it cannot serve), summaries, listings and explanations alike."""
    from gspolicy.cli import evaluate as cli

    argv = [
        "--lang",
        "en",
        "evaluate",
        str(REGISTRY / "households.jsonl"),
        "--villages",
        str(REGISTRY / "villages.jsonl"),
        "--counties",
        str(REGISTRY / "counties.jsonl"),
        "--as-of",
        "2018-12-31",
        "--level",
        level,
        "--explain",
        "2",
        "--list",
    ]
    assert main(argv) == 0
    streamed = capsys.readouterr().out
    monkeypatch.setattr(cli, "area_reads", lambda policy_set, as_of: None)
    assert main(argv) == 0
    whole = capsys.readouterr().out
    assert "decided as of 2018-12-31" in streamed
    assert streamed == whole


@pytest.mark.slow
def test_streamed_areas_agree_on_records_that_disagree_about_their_areas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The streamed run decides the areas a county at a time; a household whose county is not
    its village's, one whose village is not given, and a village of a county not given are
    gathered (and reported) as when every area is decided at once — with both area files and
    with the villages alone."""
    from gspolicy.cli import evaluate as cli

    households = [
        json.loads(line) for line in (REGISTRY / "households.jsonl").read_text("utf-8").splitlines()
    ]
    villages = [json.loads(line) for line in (REGISTRY / "villages.jsonl").read_text("utf-8").splitlines()]
    chosen = {"621126", "621121"}
    households = [h for h in households if h["county_code"] in chosen]
    villages = [v for v in villages if v["county_code"] in chosen]
    other = next(h for h in households if h["county_code"] == "621121")
    households[0]["county_code"] = other["county_code"]  # its village lies in 621126
    households[1]["village_code"] = "621126999999"  # no such village
    villages[-1]["county_code"] = "620000"  # no such county
    files = {}
    for name, rows in (("households", households), ("villages", villages)):
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    counties = [json.loads(line) for line in (REGISTRY / "counties.jsonl").read_text("utf-8").splitlines()]
    files["counties"] = tmp_path / "counties.jsonl"
    files["counties"].write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in counties if c["code"] in chosen), "utf-8"
    )
    moved = households[0]["village_code"]
    for more in (
        ["--counties", str(files["counties"])],
        [],
        ["--counties", str(files["counties"]), "--level", "village", "--area", moved],
        ["--counties", str(files["counties"]), "--level", "county", "--area", other["county_code"]],
    ):
        argv = [
            "--lang", "en", "evaluate", str(files["households"]), "--villages", str(files["villages"]),
            "--as-of", "2018-12-31", "--list", *more,
        ]  # fmt: skip
        assert main(argv) == 0
        streamed = capsys.readouterr().out
        with monkeypatch.context() as patched:
            patched.setattr(cli, "area_reads", lambda policy_set, as_of: None)
            assert main(argv) == 0
        whole = capsys.readouterr().out
        if "--level" not in more:
            assert "belong to no village given" in streamed  # the household of no given village
        assert streamed == whole
