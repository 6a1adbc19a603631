"""`gspolicy fmt [--check|--write] PATH...`: check (default) shows the diff and exits 1, write
rewrites and a second check exits 0, bad input exits 2 and writes nothing — in zh and en."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gspolicy.cli import main
from unit.pack.test_fmt import CANONICAL, MESSY


def _pack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policies" / "demo" / "x.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_check_shows_the_diff_and_exits_1_then_write_fixes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lang: str
) -> None:
    path = _pack(tmp_path, MESSY)
    assert main(["--lang", lang, "fmt", str(tmp_path / "policies")]) == 1
    out = capsys.readouterr().out
    assert f"+++ {path} (formatted)" in out
    assert out.rstrip().endswith(
        "1 个文件需要重排，0 个文件已符合格式"
        if lang == "zh"
        else "1 file would be reformatted, 0 files already formatted"
    )
    assert path.read_text(encoding="utf-8") == MESSY  # --check writes nothing
    assert main(["--lang", lang, "fmt", "--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == CANONICAL
    capsys.readouterr()
    assert main(["--lang", lang, "fmt", "--check", str(path)]) == 0
    assert "+++" not in capsys.readouterr().out


def test_bad_input_exits_2_located_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = _pack(tmp_path, MESSY)
    bad = tmp_path / "policies" / "demo" / "y.yaml"
    bad.write_text("- just: a list\n", encoding="utf-8")
    assert main(["--lang", "en", "fmt", "--write", str(tmp_path / "policies")]) == 2
    out, err = capsys.readouterr()
    assert "y.yaml:1:1: fmt/not-policy-yaml" in err
    assert "nothing written" in out
    assert good.read_text(encoding="utf-8") == MESSY


def test_the_bundled_policies_are_formatted(capsys: pytest.CaptureFixture[str]) -> None:
    from gspolicy._resources import bundled_policies

    assert main(["--lang", "en", "fmt", "--check", str(bundled_policies())]) == 0
    assert re.search(
        r"^0 files would be reformatted, \d+ files already formatted\n\Z", capsys.readouterr().out, re.M
    )
