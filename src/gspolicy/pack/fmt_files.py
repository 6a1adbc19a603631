"""`gspolicy fmt` over files and folders: find the YAML files, lay each out canonically, and
write the changed ones atomically or show their diff.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from gspolicy._files import decode_source, read_bytes
from gspolicy._i18n import Lang
from gspolicy.errors import Diagnostic
from gspolicy.pack.fmt import format_source

__all__ = ["FmtResult", "find_yaml", "format_paths"]


# --- many files -----------------------------------------------------------------------------------


@attrs.frozen
class FmtResult:
    """What `format_paths` found: the files whose layout differs (rewritten when `written`), the
    files already canonical, the problems, and a unified diff of the changes."""

    changed: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]
    diff: str
    written: bool

    @property
    def exit_code(self) -> int:
        """2 on bad input, 1 when files differ and were not written (``--check``), else 0."""
        if any(d.is_error for d in self.diagnostics):
            return 2
        return 1 if self.changed and not self.written else 0

    def summary(self, lang: Lang) -> str:
        """One line for the end of the command's output, in `lang`."""
        errors = sum(1 for d in self.diagnostics if d.is_error)
        changed, same = len(self.changed), len(self.unchanged)
        if errors:
            return (
                f"{errors} 个错误，未写入任何文件"
                if lang == "zh"
                else f"{errors} error{'s' if errors != 1 else ''}, nothing written"
            )
        if lang == "zh":
            verb = "已重排" if self.written else "需要重排"
            return f"{changed} 个文件{verb}，{same} 个文件已符合格式"
        verb = "reformatted" if self.written else "would be reformatted"
        return (
            f"{changed} file{'s' if changed != 1 else ''} {verb}, "
            f"{same} file{'s' if same != 1 else ''} already formatted"
        )


def find_yaml(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The ``*.yaml`` / ``*.yml`` files given or below the folders given (hidden ones skipped),
    sorted, each once."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for root in paths:
        if root.is_dir():
            inside = sorted(
                p
                for p in root.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
            if not inside:
                problems.append(Diagnostic("fmt/no-yaml", None, {"path": str(root)}))
            found.extend(inside)
        elif root.exists():
            found.append(root)
        else:
            problems.append(Diagnostic("io/not-found", None, {"path": str(root)}))
    unique = list(dict.fromkeys(found))
    return unique, problems


def format_paths(paths: Sequence[Path], *, write: bool) -> FmtResult:
    """Format every pack, case and schema file given or below the folders given.

    With `write`, the files whose layout differs are rewritten (each atomically) — but only when
    no file has a problem: bad input writes nothing.  `FmtResult.exit_code` is the command's.
    """
    files, problems = find_yaml(paths)
    changed: list[tuple[Path, str, str]] = []
    unchanged: list[Path] = []
    for path in files:
        data, unreadable = read_bytes(path)
        if data is None:
            problems.extend(unreadable)
            continue
        source, undecodable = decode_source(data, str(path))
        if source is None:
            problems.extend(undecodable)
            continue
        text, found = format_source(source)
        problems.extend(found)
        if text is None:
            continue
        if text.encode("utf-8") == data:
            unchanged.append(path)
        else:
            changed.append((path, source.text, text))
    bad = any(d.is_error for d in problems)
    written = write and not bad
    if written:
        for path, _, text in changed:
            _write_atomic(path, text)
    return FmtResult(
        changed=tuple(p for p, _, _ in changed),
        unchanged=tuple(unchanged),
        diagnostics=tuple(problems),
        diff="".join(_diff(p, old, new) for p, old, new in changed),
        written=written,
    )


def _diff(path: Path, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"{path}", f"{path} (formatted)"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _write_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
