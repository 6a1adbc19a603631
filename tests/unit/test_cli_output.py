"""`gspolicy evaluate --output FILE [--fields …]`: the household table in four formats, with a run
manifest an auditor can check, refused before any work when asked wrongly, never written partly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from gspolicy import Policies, tables
from gspolicy._resources import bundled_policies
from gspolicy.api import load_households
from gspolicy.cli import main

REPO = bundled_policies().parent
EXAMPLES = REPO / "examples" / "households.jsonl"
DAY = dt.date(2018, 12, 31)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["evaluate", str(EXAMPLES), "--as-of", DAY.isoformat(), "--lang", "en", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def expected(bundled: Policies) -> pl.DataFrame:
    return pl.concat(list(bundled.decide_table(load_households(EXAMPLES, policies=bundled), DAY)))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_parquet_holds_the_table_and_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expected: pl.DataFrame, bundled: Policies
) -> None:
    out = tmp_path / "decided.parquet"
    code, stdout, err = run(capsys, "--output", str(out))
    assert code == 0
    assert "households" in stdout  # the summary is still printed
    assert f"wrote {out}" in err
    written = pl.read_parquet(out)
    assert written.columns == list(tables.TABLE_COLUMNS)
    assert written.drop("county").equals(expected)
    # beside the id, the household's county (for the ledger and the officer's own grouping)
    households = load_households(EXAMPLES, policies=bundled)
    assert written["county"].to_list() == [h["county_code"] for h in households]
    manifest = json.loads((tmp_path / "decided.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["records"] == expected.height == 60
    assert manifest["as_of"] == DAY.isoformat()
    assert manifest["inputs"] == [
        {"file": str(EXAMPLES), "bytes": EXAMPLES.stat().st_size, "sha256": tables.file_digest(EXAMPLES)}
    ]
    assert manifest["output"] == {"file": out.name, "format": "parquet", "sha256": tables.file_digest(out)}
    counts = expected.group_by("verdict").len()
    assert manifest["verdicts"] == {str(v): n for v, n in counts.iter_rows()}
    in_force = [p for p in bundled.policy_set.all_in_force(DAY) if p.subject == "household"]
    assert manifest["packs"] == [{"pack": p.key, "content_hash": p.content_hash} for p in in_force]
    assert manifest["decided_record_by_record"] == []
    embedded = json.loads(pl.read_parquet_metadata(out)["gspolicy.manifest"])
    assert embedded == {k: v for k, v in manifest.items() if k != "output"}
    assert _leftovers(tmp_path) == []


def test_jsonl_rows_are_the_outcome_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expected: pl.DataFrame, bundled: Policies
) -> None:
    out = tmp_path / "decided.jsonl"
    assert run(capsys, "--output", str(out))[0] == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    households = load_households(EXAMPLES, policies=bundled)
    assert [r.pop("county") for r in rows] == [h["county_code"] for h in households]
    assert rows == [bundled.decide(h, DAY).to_row() for h in households]


def test_csv_flattens_lists_and_pack_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expected: pl.DataFrame
) -> None:
    out = tmp_path / "decided.csv"
    assert run(capsys, "--output", str(out))[0] == 0
    read = pl.read_csv(out, infer_schema=False)
    assert read.height == expected.height
    assert read["missing"].fill_null("").to_list() == [";".join(m) for m in expected["missing"].to_list()]
    key = next(c for c in read.columns if c.startswith("packs.exit_criteria.household@"))
    assert read[key].to_list() == expected["packs"].struct.field(key.removeprefix("packs.")).to_list()


def test_xlsx_is_written_with_its_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "decided.xlsx"
    assert run(capsys, "--output", str(out))[0] == 0
    assert out.read_bytes()[:2] == b"PK"  # a zip container, as .xlsx is
    manifest = json.loads((tmp_path / "decided.xlsx.manifest.json").read_text(encoding="utf-8"))
    assert manifest["output"]["sha256"] == tables.file_digest(out)


def test_fields_choose_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expected: pl.DataFrame
) -> None:
    out = tmp_path / "few.parquet"
    assert run(capsys, "--output", str(out), "--fields", "id, verdict,missing")[0] == 0
    assert pl.read_parquet(out).equals(expected.select("id", "verdict", "missing"))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--output", "{tmp}/decided.txt"], "output/unknown-format"),
        (["--output", "{tmp}/nowhere/decided.csv"], "output/no-folder"),
        (["--output", "{tmp}/decided.csv", "--fields", "verdcit"], "did you mean `verdict`"),
        (["--fields", "verdict"], "--fields goes with --output"),
        (["--output", "{tmp}/decided.csv", "--format", "json"], "--output writes the household table"),
    ],
)
def test_a_wrong_request_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, _out, err = run(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2
    assert said in err
    assert list(tmp_path.iterdir()) == []


def test_too_many_rows_for_excel_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "XLSX_MAX_ROWS", 10)
    code, _out, err = run(capsys, "--output", str(tmp_path / "big.xlsx"))
    assert code == 1
    assert "output/too-many-rows" in err
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_replaced_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "decided.csv"
    taken.mkdir()  # a folder where the file should go
    code, _out, err = run(capsys, "--output", str(taken))
    assert code == 1
    assert "output/cannot-write" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decided.csv"]
    assert list(taken.iterdir()) == []


# -- bad rows -----------------------------------------------------------------------------------------


def _with_bad_rows(folder: Path, extra_bad: int = 0) -> tuple[Path, int, int]:
    """The sample's first five households, a wrong type, a broken line, a repeated id, and
    `extra_bad` more wrong types: the file, how many lines hold records, how many are bad."""
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    bad = [
        '{"id": "620000-0009", "size": "two"}',
        '{"id": oops',
        lines[1],  # the id of line 2 again
        *(f'{{"id": "620000-1{i:03d}", "size": "many"}}' for i in range(extra_bad)),
    ]
    path = folder / "mixed.jsonl"
    path.write_text("\n".join([*lines[:5], *bad]) + "\n", encoding="utf-8")
    return path, 5 + len(bad), len(bad)


def _evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["evaluate", *argv, "--as-of", DAY.isoformat(), "--lang", "en"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_bad_rows_stop_the_run_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, total, bad = _with_bad_rows(tmp_path)
    code, out, err = _evaluate(capsys, str(source), "--output", str(tmp_path / "out.parquet"))
    assert code == 1
    assert out == ""
    assert f"{bad} of the {total} records read have problems" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed.jsonl"]


def test_skip_invalid_loses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, total, bad = _with_bad_rows(tmp_path)
    out = tmp_path / "out.parquet"
    code, _out, err = _evaluate(capsys, str(source), "--skip-invalid", "--output", str(out))
    assert code == 0
    assert f"skipped {bad} of {total} records with problems; deciding the other {total - bad}" in err
    decided = pl.read_parquet(out)
    refused = [json.loads(line) for line in (tmp_path / "out.parquet.refused.jsonl").read_text().splitlines()]
    assert decided.height + len(refused) == total
    assert [r["line"] for r in refused] == [6, 7, 8]
    assert [[p["code"] for p in r["problems"]] for r in refused] == [
        ["record/wrong-type"],
        ["record/json-syntax"],
        ["record/duplicate-id"],
    ]
    assert refused[0]["record"] == {"id": "620000-0009", "size": "two"}
    assert refused[1]["record"] == '{"id": oops'
    manifest = json.loads((tmp_path / "out.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["records"] == total - bad
    assert manifest["refused"] == {
        "records": bad,
        "file": "out.parquet.refused.jsonl",
        "sha256": tables.file_digest(tmp_path / "out.parquet.refused.jsonl"),
    }


def test_skip_invalid_still_refuses_a_document_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "620000-0001"}, {"id": ', encoding="utf-8")
    code, out, err = _evaluate(capsys, str(broken), "--skip-invalid")
    assert code == 1
    assert "record/json-syntax" in err
    assert out == ""


def test_many_problems_are_shown_fifty_then_counted_by_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _total, bad = _with_bad_rows(tmp_path, extra_bad=80)
    code, _out, err = _evaluate(capsys, str(source))
    assert code == 1
    # sorted: the note that nothing was decided (no location), lines 6, 7 and 8, then the 80 more
    problems = 1 + bad
    shown_wrong_types = 1 + (50 - 4)
    assert err.count("record/wrong-type: size") == shown_wrong_types
    assert f"… and {problems - 50} more problems: record/wrong-type × {problems - 50}\n" in err
    assert f"{bad} errors, 0 warnings" in err


def test_an_empty_registry_writes_a_table_of_its_header_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "decided.csv"
    code = main(["evaluate", str(empty), "--as-of", DAY.isoformat(), "--output", str(out), "--lang", "en"])
    capsys.readouterr()
    assert code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("id,county,as_of,verdict,")
