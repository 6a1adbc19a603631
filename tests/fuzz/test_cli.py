"""Fuzzing the command line (the "CLI" family): random arguments and broken input files, in
process (`main()`) and out of process under an address-space limit.  Every run exits 0, 1 or 2
with coded diagnostics and no traceback; in process, nothing is executed, imported or opened but
the inputs and the bundled policies."""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import LONG, budget, check_cli, count, run_limited, watched
from fuzz.mutations import TEXTS, mutated_text
from gspolicy._resources import bundled_policies
from gspolicy.cli import main

REPO = bundled_policies().parent
LINES = (REPO / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()[:4]
PACK = (bundled_policies() / "exit_criteria" / "household" / "2018.1.yaml").read_text(encoding="utf-8")
CASES = (bundled_policies() / "exit_criteria" / "household" / "tests" / "exit_2018.yaml").read_text(
    encoding="utf-8"
)

WORDS = st.sampled_from(
    [
        "evaluate", "explain", "households", "validate", "check", "test", "log", "ledger", "diff", "book",
        "--as-of", "2018-12-31", "2018-02-30", "--format", "json", "jsonl", "table", "--list", "--explain",
        "3", "-1", "99999999999999999999", "--household", "621126-0001", "--lang", "zh", "en", "xx",
        "--level", "village", "--villages", "--counties", "--policies", "--bogus", "-", "--", "\ud800", "",
    ]
)  # fmt: skip


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, str]:
    """The files a run may name: records (JSONL, JSON or YAML), a pack and a case file, broken or not."""
    records = "\n".join(LINES) + "\n"
    return {
        "h.jsonl": draw(st.one_of(st.just(records), mutated_text(records), TEXTS)),
        "h.json": draw(st.one_of(st.just("[" + ",".join(LINES) + "]"), TEXTS)),
        "h.yaml": draw(TEXTS),
        "p/exit_criteria/household/2018.1.yaml": draw(mutated_text(PACK)),
        "p/exit_criteria/household/tests/c.yaml": draw(mutated_text(CASES)),
    }


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(
        st.sampled_from(
            [
                ["evaluate", "h.jsonl", "--as-of", "2018-12-31"],
                ["evaluate", "h.json", "--as-of", "2018-12-31", "--format", "json"],
                ["households", "h.yaml"],
                ["explain", "h.jsonl", "--household", "621126-0001", "--as-of", "2018-12-31"],
                ["validate", "p"],
                ["test", "p"],
                ["check", "p"],
                [],
            ]
        )
    )
    extra = draw(st.lists(WORDS | st.text(max_size=6), max_size=4))
    at = draw(st.integers(0, len(command)))
    return [*command[:at], *extra, *command[at:], "--lang", draw(st.sampled_from(["en", "zh"]))]


def _warm_up() -> None:
    """One run of each command before any is watched: what the command line imports on first use
    (argparse's messages, a codec) is loaded once, outside the watch."""
    # each command's module is loaded when the command is first asked for: all of them here
    helps = [[name, "--help"] for name in ("evaluate", "explain", "households", "validate", "test", "check")]
    for argv in (
        ["validate", "--lang", "en"],
        ["evaluate", "--lang", "zh", "--bogus"],
        ["--lang", "en"],
        *helps,
    ):
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            main(argv)
    # deciding imports the columnar runner and Polars on first use
    with tempfile.TemporaryDirectory() as place:
        households = Path(place) / "h.jsonl"
        households.write_text(LINES[0] + "\n", encoding="utf-8")
        argv = ["evaluate", str(households), "--as-of", "2018-12-31", "--explain", "1", "--lang", "en"]
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            main([*argv, "--output", str(Path(place) / "out.parquet")])


_warm_up()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")


@budget(15)
@given(inputs(), command_lines())
def test_the_command_line_in_process_exits_0_1_or_2_with_no_traceback(
    files: dict[str, str], argv: list[str]
) -> None:
    count("CLI")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, files)
        if (root / "p").is_dir():
            (root / "p" / "schema").mkdir(exist_ok=True)
            (root / "p" / "schema" / "household.yaml").write_text(
                (bundled_policies() / "schema" / "household.yaml").read_text(encoding="utf-8"), "utf-8"
            )
        out, err = io.StringIO(), io.StringIO()
        here = Path.cwd()
        os.chdir(root)  # relative paths (an empty argument is the working folder) stay inside it
        try:
            with (
                watched(allowed=[folder, str(bundled_policies())]),
                redirect_stdout(out),
                redirect_stderr(err),
            ):
                code = main(argv)
        finally:
            os.chdir(here)
        check_cli(code, out.getvalue(), err.getvalue())


@budget(2, long=500)
@given(inputs(), command_lines())
def test_the_command_line_out_of_process_stays_within_its_memory(
    files: dict[str, str], argv: list[str]
) -> None:
    count("CLI")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, files)
        size = sum((root / n).stat().st_size for n in files)
        # a real process's arguments can hold neither a NUL nor a lone surrogate
        code, out, err = run_limited(
            [a.replace("\ud800", "?").replace("\x00", "?") for a in argv], size, root
        )
        check_cli(code, out, err)
        assert "MemoryError" not in err


def test_the_long_campaign_is_documented() -> None:
    """The long campaign's figures are recorded where contributors find them."""
    page = (REPO / "docs" / "explanation" / "fuzzing.md").read_text(encoding="utf-8")
    assert "GSPOLICY_FUZZ=long" in page
    assert LONG or "cases" in page
