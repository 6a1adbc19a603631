"""What a Spark task does, without Spark, and what the command says when Spark cannot run.

A task's block of nested households (`decide_block`) gives the rows ``gspolicy evaluate`` gives
for the same households read from JSON Lines; a refused household comes back with its problems,
named by its id and the block, never a temporary file.  ``--engine spark`` without pyspark or
without Java is a clear error in zh and en (exit 1), never a traceback; options it does not take
are usage errors (exit 2); and importing the library imports neither pyspark nor pyarrow."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from gspolicy._resources import bundled_policies
from gspolicy.cli import main
from gspolicy.cli.evaluate_spark import parquet_inputs
from gspolicy.columnar.registry import registry_blocks
from gspolicy.explain.build import exit_pack_of
from gspolicy.spark.batches import PROBLEMS, SETTLE, Task, decide_block, flat_tables
from gspolicy.spark.session import java_runtime
from gspolicy.tables import TABLE_COLUMNS

from support.bundled import shared_policies

EXAMPLE = bundled_policies().parent / "examples" / "registry" / "households.jsonl"
DAY = dt.date(2018, 12, 31)


def _rows(count: int) -> list[dict[str, object]]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()[:count]
    return [json.loads(line) for line in lines]


def test_a_block_decides_as_the_streamed_run_and_names_what_it_refused(tmp_path: Path) -> None:
    rows = _rows(240)
    rows[7]["size"] = -3  # spoiled: refused, with its problem
    lines = tmp_path / "some.jsonl"
    lines.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    policies = shared_policies()
    policy_set = policies.policy_set
    expected = pl.concat(
        [
            block.decide().with_columns(
                pl.Series("county", [None if c == "?" else c for c in block.counties()], pl.String())
            )
            for block in registry_blocks([lines], policy_set, DAY, exit_pack=exit_pack_of(policy_set))
        ]
    ).select(TABLE_COLUMNS)
    got = decide_block(Task(policies, DAY, "zh"), pl.DataFrame(rows, infer_schema_length=None))
    assert list(got.columns) == [*TABLE_COLUMNS, SETTLE, PROBLEMS]
    decided = got.filter(pl.col(PROBLEMS).list.len() == 0)
    assert decided.select(TABLE_COLUMNS).equals(expected)
    settle = zip(decided[SETTLE].to_list(), decided["verdict"].to_list(), strict=True)
    assert all(bool(s) == (v == "undetermined") for s, v in settle)
    refused = got.filter(pl.col(PROBLEMS).list.len() > 0)
    assert refused["id"].to_list() == [rows[7]["id"]]
    text = "\n".join(refused[PROBLEMS][0])
    assert "<spark batch>" in text
    assert "size" in text
    assert str(tmp_path) not in text
    assert refused["verdict"].to_list() == [None]


def test_the_nested_layout_becomes_the_registry_tables() -> None:
    frame = pl.DataFrame(_rows(5), infer_schema_length=None)
    tables = flat_tables(frame, shared_policies().schema)
    assert set(tables) == {"", "members", "support"}
    main_table = tables[""]
    assert "registration.status" in main_table.columns
    assert "members" not in main_table.columns
    assert main_table.height == 5
    members = tables["members"]
    assert members["household_id"].to_list() == [
        r["id"] for r in frame.iter_rows(named=True) for _m in (r["members"] or [])
    ]
    causes = main_table["registration.secondary_causes"].to_list()
    assert all(c is None or isinstance(c, str) for c in causes)


def test_parquet_inputs_name_each_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    full = tmp_path / "full"
    (full / "b").mkdir(parents=True)
    for name in ("b/2.parquet", "a.parquet", "_SUCCESS", ".hidden.parquet"):
        (full / name).write_bytes(b"")
    lines = tmp_path / "h.jsonl"
    lines.write_text("{}\n", encoding="utf-8")
    files, problems = parquet_inputs([full, tmp_path / "missing.parquet", lines, empty])
    assert files == [full / "a.parquet", full / "b" / "2.parquet"]
    assert [d.code for d in problems] == ["io/not-found", "spark/no-input", "spark/no-input"]
    assert all(d.render("zh") and d.render("en") for d in problems)


def _nested(tmp_path: Path) -> Path:
    path = tmp_path / "few.parquet"
    pl.DataFrame(_rows(3), infer_schema_length=None).write_parquet(path)
    return path


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "needs the `spark` extra"), ("zh", "需要安装 `spark` 扩展")]
)
def test_without_pyspark_the_command_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lang: str, said: str
) -> None:
    for name in ["pyspark", *(m for m in sys.modules if m.startswith("pyspark."))]:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it fails, as when not installed
    code = main(
        ["evaluate", str(_nested(tmp_path)), "--engine", "spark", "--as-of", "2018-12-31", "--lang", lang]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert said in err
    assert "spark/needs-extra" in err
    assert "Traceback" not in err


def test_without_java_the_command_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark", reason="the Java check comes after pyspark's")
    from gspolicy.spark.session import active_session

    if active_session() is not None:
        pytest.skip("a Spark session is running in this process: it would be reused")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    assert java_runtime() is not None
    code = main(
        ["evaluate", str(_nested(tmp_path)), "--engine", "spark", "--as-of", "2018-12-31", "--lang", "zh"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "Spark 需要 Java 运行环境" in err
    assert "openjdk-17-jre-headless" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--engine", "spark", "--format", "json"], "--engine spark does not go with --format json/jsonl"),
        (["--engine", "spark", "--log", "x.db"], "--engine spark does not go with --log"),
        (["--master", "local[1]"], "--master goes with --engine spark"),
    ],
)
def test_options_spark_does_not_take_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    code = main(["evaluate", str(_nested(tmp_path)), "--as-of", "2018-12-31", "--lang", "en", *extra])
    assert code == 2
    assert said in capsys.readouterr().err


def test_the_library_imports_neither_pyspark_nor_pyarrow() -> None:
    probe = (
        "import sys, gspolicy, gspolicy.spark, gspolicy.cli, gspolicy.cli.evaluate_spark\n"
        "print(sorted(m for m in ('pyspark', 'pyarrow', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
