"""The main job reads JSON Lines a block of lines at a time: problems keep their file lines, ids
stay unique across blocks, and the summary, listing, explanations and output are those of one
block."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from gspolicy import Policies
from gspolicy._resources import bundled_policies
from gspolicy.cli import main
from gspolicy.schema import records as record_files
from gspolicy.schema.records import stream_records

EXAMPLES = bundled_policies().parent / "examples" / "households.jsonl"


def _mixed(folder: Path) -> Path:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    path = folder / "mixed.jsonl"
    bad = ['{"id": "620000-0009", "size": "two"}', '{"id": oops', lines[1]]
    path.write_text("\n".join([*lines[:5], *bad, *lines[5:9]]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("lines", [1, 2, 3, 100])
def test_blocks_keep_file_lines_and_unique_ids(tmp_path: Path, bundled: Policies, lines: int) -> None:
    path = _mixed(tmp_path)
    blocks = list(stream_records([path], bundled.schema, keep_refused=True, lines=lines))
    valid = [r for block in blocks for r in block[0]]
    refused = [r for block in blocks for r in block[1]]
    assert len(valid) == 9
    assert [r.origin.line for r in valid if r.origin] == [1, 2, 3, 4, 5, 9, 10, 11, 12]
    assert [(r.line, [d.code for d in r.problems]) for r in refused] == [
        (6, ["record/wrong-type"]),
        (7, ["record/json-syntax"]),
        (8, ["record/duplicate-id"]),  # the id of line 2, which may be in another block
    ]
    rendered = [d.render("en").splitlines()[0] for block in blocks for d in block[2] if d.is_error]
    assert any(text.startswith(f"{path}:6:31: record/wrong-type") for text in rendered)
    assert any(text.startswith(f"{path}:7:8: record/json-syntax") for text in rendered)


def test_without_keep_refused_a_block_with_a_problem_yields_no_record(
    tmp_path: Path, bundled: Policies
) -> None:
    blocks = list(stream_records([_mixed(tmp_path)], bundled.schema, lines=4))
    assert [len(block[0]) for block in blocks] == [4, 0, 4]  # lines 5-8 hold problems


def test_the_main_job_is_the_same_in_small_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["evaluate", str(EXAMPLES), "--as-of", "2018-12-31", "--list", "--explain", "5", "--lang", "en"]
    outputs = []
    for lines, name in ((record_files.STREAM_LINES, "whole.jsonl"), (7, "blocks.jsonl")):
        monkeypatch.setattr(record_files, "STREAM_LINES", lines)
        assert main([*argv, "--output", str(tmp_path / name)]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    whole, blocks = ((tmp_path / n).read_text(encoding="utf-8") for n in ("whole.jsonl", "blocks.jsonl"))
    assert whole == blocks
    manifest = json.loads((tmp_path / "blocks.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["records"] == 60


def test_a_file_that_cannot_be_read_stops_the_run_even_when_skipping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.jsonl"
    out = tmp_path / "out.parquet"
    for extra in ([], ["--skip-invalid"]):
        argv = ["evaluate", str(EXAMPLES), str(missing), "--as-of", "2018-12-31", "--lang", "en"]
        assert main([*argv, "--output", str(out), *extra]) == 1
        err = capsys.readouterr().err
        assert "io/not-found" in err
        assert "0 of the 60 records read have problems, and 1 file(s) could not be read" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_registry_tables_stream_in_blocks_of_households(
    tmp_path: Path, bundled: Policies, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gspolicy.api import load_households
    from gspolicy.schema.tabular import registry_tables, write_registry

    households = load_households(EXAMPLES, policies=bundled)
    tables = registry_tables([h.to_data() for h in households], bundled.schema)
    bad_row = 12  # a member's age no one can read, on row 13 of the members' table
    tables["members"] = tables["members"].with_columns(
        pl.when(pl.int_range(pl.len()) == bad_row).then(pl.lit("many")).otherwise(pl.col("age")).alias("age")
    )
    write_registry(tables, tmp_path / "reg.csv")
    argv = ["evaluate", str(tmp_path / "reg.csv"), "--as-of", "2018-12-31", "--lang", "en", "--skip-invalid"]
    outputs = []
    for lines in (record_files.STREAM_LINES, 7):
        monkeypatch.setattr(record_files, "STREAM_LINES", lines)
        assert main([*argv, "--list", "--explain", "3"]) == 0
        out, err = capsys.readouterr()
        assert f"{tmp_path / 'reg.members.csv'}:{bad_row + 2}: record/wrong-type" in err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert "59 households decided" in outputs[0]
