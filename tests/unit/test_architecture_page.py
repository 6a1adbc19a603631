"""The architecture page's drawing is true: every module under src/ is named on it with its one job
(the first line of its docstring), every package has its page, and every module over 600 lines is
listed as an exception with its one job."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from gspolicy._docs import MODULES_BEGIN, MODULES_END, module_jobs, render_modules

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "gspolicy"
PAGE = ROOT / "docs" / "explanation" / "architecture.md"
LIMIT = 600


@functools.cache
def _jobs() -> dict[str, list[tuple[str, str]]]:
    return module_jobs(SRC)


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


@pytest.mark.slow  # a read of every module's docstring: full suite
def test_every_module_is_named_with_its_job() -> None:
    page = _page()
    assert page == render_modules(page, SRC), "run `python -m gspolicy._docs` and commit the page"
    silent = [name for modules in _jobs().values() for name, job in modules if not job]
    assert not silent, f"modules without a docstring saying their one job: {silent}"


def test_a_planted_module_changes_the_drawing(tmp_path: Path) -> None:
    root = tmp_path / "gspolicy"
    (root / "pack").mkdir(parents=True)
    (root / "__init__.py").write_text('"""The facade."""\n', "utf-8")
    (root / "pack" / "__init__.py").write_text('"""Packs."""\n', "utf-8")
    page = f"# A\n\n{MODULES_BEGIN}\n{MODULES_END}\n\nrest\n"
    before = render_modules(page, root)
    (root / "pack" / "read.py").write_text('"""Read pack files.\n\nMore."""\n', "utf-8")
    after = render_modules(before, root)
    assert after != before
    assert "| `gspolicy.pack.read` | Read pack files. |" in after
    assert after.endswith(f"{MODULES_END}\n\nrest\n")
    assert render_modules(after, root) == after


def test_every_package_has_its_page() -> None:
    page = _page()
    groups = {"facade", "foundation"} | {p.parent.name for p in SRC.glob("*/__init__.py")}
    for group in sorted(groups):
        assert (PAGE.parent / "packages" / f"{group}.md").is_file(), (
            f"write docs/explanation/packages/{group}.md"
        )
        assert f"(packages/{group}.md)" in page
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in sorted((PAGE.parent / "packages").glob("*.md")):
        assert f"explanation/packages/{path.name}" in nav, f"add {path.name} to mkdocs.yml's nav"


def _long_modules() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        if len(path.read_text(encoding="utf-8").splitlines()) > LIMIT:
            parts = path.relative_to(SRC).with_suffix("").parts
            found.add(".".join(("gspolicy", *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return found


def test_modules_over_600_lines_are_the_listed_exceptions() -> None:
    section = _page().split("## Modules over 600 lines", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^\| `(gspolicy[\w.]*)` \| (.+?) \|$", section, re.MULTILINE))
    assert set(listed) == _long_modules(), "split the module, or list it with its one job"
    assert all(job.strip() for job in listed.values())
