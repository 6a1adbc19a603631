"""Open a registry's table files into Polars frames, every failure a located `TableError`.

The names and suffixes of the three tables, the companion files beside a households table, CSV
re-encoded to UTF-8 in a private folder when needed, Excel sheets, Parquet."""

from __future__ import annotations

import codecs
import contextlib
import stat
import tempfile
from pathlib import Path

import polars as pl

from gspolicy.errors import Diagnostic

__all__ = ["BLOCK", "KEY", "TABLE_SUFFIXES", "TableError", "Workdir", "read_table_files", "reason_of"]


TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
KEY = "household_id"
"""The column of a list's table naming the household an item belongs to."""


BLOCK = 4_096
"""Households nested into records at a time (`table_blocks`)."""


class TableError(Exception):
    """A table that cannot be read through, with the diagnostic saying why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.code)
        self.diagnostic = diagnostic


def read_table_files(
    path: Path, kind: str, lists: list[str], encoding: str, shown: str, workdir: Workdir
) -> dict[str, tuple[str, pl.LazyFrame]]:
    """The households' table (key ``""``) and each list's table found, with the names to show;
    each checked to be readable through (a ragged row is refused here, before any block)."""
    out: dict[str, tuple[str, pl.LazyFrame]] = {}
    if kind == "xlsx":
        try:
            sheets = pl.read_excel(path, sheet_id=0, raise_if_empty=False)
        except Exception as err:  # the reader's own errors: a damaged or foreign file
            raise TableError(
                Diagnostic("table/unreadable", None, {"path": shown, "reason": reason_of(err)})
            ) from None
        names = list(sheets)
        first = "households" if "households" in sheets else names[0]
        out[""] = (f"{shown}[{first}]", sheets[first].lazy())
        for field in lists:
            if field in sheets and field != first:
                out[field] = (f"{shown}[{field}]", sheets[field].lazy())
        return out
    out[""] = (shown, _read_one(path, kind, encoding, shown, workdir))
    for field in lists:
        for candidate in _companions(path, field):
            if candidate.is_file():
                out[field] = (str(candidate), _read_one(candidate, kind, encoding, str(candidate), workdir))
                break
    return out


def _companions(path: Path, field: str) -> list[Path]:
    """Where a list's table may be: ``NAME.members.csv``; beside ``households.csv`` also ``members.csv``."""
    found = [path.with_name(f"{path.stem}.{field}{path.suffix}")]
    if path.stem == "households":
        found.append(path.with_name(f"{field}{path.suffix}"))
    return found


_CHUNK = 1024 * 1024  # bytes of a file decoded at a time


class Workdir:
    """A temporary folder made when a first file is put in it (most reads need none)."""

    def __init__(self) -> None:
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0

    def new_file(self, suffix: str) -> Path:
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="gspolicy-tables-")
        self.count += 1
        return Path(self.folder.name) / f"{self.count}{suffix}"

    def cleanup(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


def _read_one(path: Path, kind: str, encoding: str, shown: str, workdir: Workdir) -> pl.LazyFrame:
    """One table file, to be read a batch at a time; a file of another encoding than UTF-8 is
    first written out as UTF-8 (in `workdir`), a chunk at a time."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TableError(Diagnostic("io/not-found", None, {"path": shown})) from None
    except OSError as err:
        raise TableError(
            Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise TableError(Diagnostic("io/not-a-file", None, {"path": shown}))
    if kind == "parquet":
        table = pl.scan_parquet(path)
    else:
        source = _as_utf8(path, encoding, shown, workdir)
        if source is None:
            return pl.LazyFrame()  # an empty file: no rows
        table = pl.scan_csv(source, infer_schema=False)
    try:
        # a CSV file's every cell read once: a ragged row is refused before any block (a Parquet
        # file's own checks run as it is read: its schema now, its pages as blocks come)
        if kind == "parquet":
            table.collect_schema()
        else:
            table.select(pl.all().null_count()).collect(engine="streaming")
    except Exception as err:  # the reader's own errors: ragged rows, bad quoting, not Parquet
        raise TableError(
            Diagnostic("table/unreadable", None, {"path": shown, "reason": reason_of(err)})
        ) from None
    return table


def _as_utf8(path: Path, encoding: str, shown: str, workdir: Workdir) -> Path | None:
    """`path` if it is UTF-8 text (with or without a byte-order mark), else its text written as
    UTF-8 in `workdir`; None for a file of blanks.  Text that is not in `encoding` is refused."""
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    try:
        decoder = codecs.getincrementaldecoder("utf-8-sig" if utf8 else encoding)()
    except LookupError as err:
        raise TableError(
            Diagnostic(
                "table/not-text", None, {"path": shown, "encoding": encoding, "reason": reason_of(err)}
            )
        ) from None
    target = path if utf8 else workdir.new_file(".csv")
    blank = True
    try:
        with path.open("rb") as handle, contextlib.ExitStack() as stack:
            out = None if utf8 else stack.enter_context(target.open("w", encoding="utf-8", newline=""))
            while True:
                chunk = handle.read(_CHUNK)
                text = decoder.decode(chunk, final=not chunk)
                blank = blank and not text.strip()
                if out is not None:
                    out.write(text)
                if not chunk:
                    break
    except UnicodeDecodeError as err:
        raise TableError(
            Diagnostic(
                "table/not-text", None, {"path": shown, "encoding": encoding, "reason": reason_of(err)}
            )
        ) from None
    except OSError as err:
        raise TableError(
            Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})
        ) from None
    return None if blank else target


def reason_of(err: Exception) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__
