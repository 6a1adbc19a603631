"""Outcome tables written to files: Parquet, CSV, JSON Lines and Excel, with a run manifest.

A table is the frames `Policies.decide_table` yields (one row per household, the columns of
`Outcome.to_row()`).  `write_table` writes them to one file chosen by its suffix and, beside it,
``<file>.manifest.json``: what an auditor needs to quote and replay the run — the input files'
SHA-256, the packs in force with their content hashes, the gspolicy version, the as-of date, the
runner and the packs it decided record by record, the count of households per verdict, the
columns, and the output file's own SHA-256; its ``format`` (`TABLE_FORMAT`) is the version of
the rows' and the manifest's form (`gspolicy schema outcome`, `gspolicy schema manifest`).
Parquet files carry the same manifest in their metadata (key ``gspolicy.manifest``; without the
file's own hash).

Nothing is written partly: the file and its manifest are written to temporary files in the
target folder and moved into place only when complete.  In CSV and Excel, where a cell holds
one value, a list is written as its codes joined by ``;`` and the pack verdicts as one column
per pack (``packs.<id@version>``); Parquet and JSON Lines keep lists, dates and the struct.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from gspolicy.errors import Diagnostic, suggest

__all__ = [
    "COLUMNS",
    "FORMATS",
    "TABLE_COLUMNS",
    "TABLE_FORMAT",
    "XLSX_MAX_ROWS",
    "OutputError",
    "check_output",
    "file_digest",
    "run_manifest",
    "write_table",
]

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx"}
"""The output formats, by file suffix."""

COLUMNS = (
    "id",
    "as_of",
    "verdict",
    "failing",
    "undetermined",
    "missing",
    "rules",
    "rules_undetermined",
    "support",
    "findings",
    "buffer",
    "buffer_until",
    "packs",
)
"""The columns of an outcome row (`Outcome.to_row()`, a `decide_table` frame), in order."""

TABLE_COLUMNS = ("id", "county", *COLUMNS[1:])
"""The columns of a written outcome table, in order (`--fields` chooses among them): the row's,
and beside the id the household's county (its `county_code`, null when it has none), which the
ledger groups by (`gspolicy ledger plan --from`)."""

TABLE_FORMAT = 1
"""The version of an outcome table's form: its rows (`gspolicy schema outcome`) and its manifest
(`gspolicy schema manifest`), written as the manifest's ``format``.  It rises with any change of
that form, a new column or key included (docs/reference/compatibility.md says which changes break
readers and how they are announced)."""

XLSX_MAX_ROWS = 1_048_575
"""Rows an Excel sheet holds below its header."""

_MANIFEST_KEY = "gspolicy.manifest"
_ROW_GROUP = 4_096
"""Rows per Parquet row group of a written table."""


def check_output(path: Path, fields: Sequence[str] | None) -> list[Diagnostic]:
    """What is wrong with writing `fields` (None: every column) to `path`, before any work."""
    problems: list[Diagnostic] = []
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        problems.append(Diagnostic("output/unknown-format", None, {"path": str(path), "suffix": path.suffix}))
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        problems.append(Diagnostic("output/no-folder", None, {"path": str(path), "folder": str(folder)}))
    if kind == "xlsx" and importlib.util.find_spec("xlsxwriter") is None:
        problems.append(Diagnostic("output/needs-extra", None, {"path": str(path)}))
    for name in fields or ():
        if name not in TABLE_COLUMNS:
            problems.append(
                Diagnostic(
                    "output/unknown-field",
                    None,
                    {"name": name, "columns": ", ".join(TABLE_COLUMNS)},
                    suggestions=suggest(name, TABLE_COLUMNS),
                )
            )
    return problems


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    with path.open("rb") as handle:
        return f"sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """One value per cell: lists as codes joined by ``;``, the pack verdicts as columns."""
    out: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            out.append(pl.col(name).list.join(";").alias(name))
        elif isinstance(dtype, pl.Struct):
            out += [pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}") for f in dtype.fields]
        else:
            out.append(pl.col(name))
    return frame.select(out)


def write_table(
    frames: Iterable[pl.DataFrame],
    path: Path,
    *,
    fields: Sequence[str] | None = None,
    manifest: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    refused: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Write the outcome `frames` to `path` (format by suffix; `fields`: the columns to keep) and
    its manifest beside it; returns the manifest written.  Raises `OutputError` with a coded
    diagnostic when the table cannot be written; nothing is left behind then.

    `refused` (with ``--skip-invalid``): gives, once `frames` are consumed (they may be read
    and decided as they are written), the records left out, written as JSON Lines to
    ``<file>.refused.jsonl`` (each with its file, line, the record as read and its problems),
    counted and hashed in the manifest."""
    kind = FORMATS[path.suffix.lower()]
    chosen = list(fields) if fields else list(TABLE_COLUMNS)
    verdicts: Counter[str] = Counter()
    rows = 0
    temp = _temp_beside(path)
    parts_dir = tempfile.mkdtemp(dir=path.parent if str(path.parent) else None, prefix=f".{path.name}.parts.")
    parts: list[str] = []
    try:
        whole: list[pl.DataFrame] = []
        with temp.open("wb") as handle:
            header = False  # a CSV file's header, written with its first part
            for index, given in enumerate(frames):
                rows += given.height
                verdicts.update(str(v) for v in given["verdict"].to_list())
                frame = given
                if "county" not in frame.columns:  # a frame of `decide_table`: no county known
                    frame = frame.with_columns(pl.lit(None, pl.String()).alias("county"))
                part = frame.select(chosen)
                if kind == "csv":
                    _flat(part).write_csv(handle, include_header=not header)
                    header = True
                elif kind == "jsonl":
                    part.write_ndjson(handle)
                elif kind == "parquet":  # each block a part, joined at the end in bounded memory
                    parts.append(os.path.join(parts_dir, f"{index:08d}.parquet"))
                    part.write_parquet(parts[-1], compression="lz4")  # read back once: quick to pack
                else:
                    if kind == "xlsx" and rows > XLSX_MAX_ROWS:
                        raise OutputError(
                            Diagnostic(
                                "output/too-many-rows",
                                None,
                                {"path": str(path), "rows": f"{rows:,}+", "limit": f"{XLSX_MAX_ROWS:,}"},
                            )
                        )
                    whole.append(part)
            if kind == "csv" and not header:
                handle.write((",".join(chosen) + "\n").encode())
        base = manifest() if callable(manifest) else manifest  # after the frames: the inputs are read
        body = {
            "format": TABLE_FORMAT,
            **base,
            "records": rows,
            "verdicts": dict(sorted(verdicts.items())),
            "columns": chosen,
        }
        refused_path = path.with_name(path.name + ".refused.jsonl")
        refused_temp: Path | None = None
        if refused is not None:
            refused_temp = _temp_beside(refused_path)
            left_out = refused()
            with refused_temp.open("w", encoding="utf-8") as out:
                for item in left_out:
                    out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
            body["refused"] = {
                "records": len(left_out),
                "file": refused_path.name,
                "sha256": file_digest(refused_temp),
            }
        if kind == "parquet":
            metadata = {_MANIFEST_KEY: json.dumps(body, ensure_ascii=False, sort_keys=True)}
            if parts:
                # small row groups keep the join's memory flat however many rows there are
                pl.scan_parquet(parts).sink_parquet(temp, metadata=metadata, row_group_size=_ROW_GROUP)
            else:
                pl.DataFrame().write_parquet(temp, metadata=metadata)
        elif kind == "xlsx":
            table = _flat(pl.concat(whole)) if whole else pl.DataFrame({c: [] for c in chosen})
            table.write_excel(temp, worksheet="outcomes")
        body["output"] = {"file": path.name, "format": kind, "sha256": file_digest(temp)}
        manifest_path = path.with_name(path.name + ".manifest.json")
        manifest_temp = _temp_beside(manifest_path)
        try:
            manifest_temp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            os.replace(temp, path)
            if refused_temp is not None:
                os.replace(refused_temp, refused_path)
            os.replace(manifest_temp, manifest_path)
        finally:
            for left in (manifest_temp, refused_temp):
                if left is not None:
                    with contextlib.suppress(FileNotFoundError):
                        left.unlink()
    except OSError as err:
        raise OutputError(
            Diagnostic("output/cannot-write", None, {"path": str(path), "reason": err.strerror or str(err)})
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        shutil.rmtree(parts_dir, ignore_errors=True)
    return body


def _temp_beside(path: Path) -> Path:
    handle, name = tempfile.mkstemp(
        dir=path.parent if str(path.parent) else None, prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(handle)
    return Path(name)


class OutputError(Exception):
    """A table that cannot be written, with the diagnostic saying why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.code)
        self.diagnostic = diagnostic


def run_manifest(
    *,
    command: str,
    as_of: dt.date,
    inputs: Sequence[Path],
    packs: Sequence[tuple[str, str]],
    runner: str,
    fallback: Sequence[tuple[str, str]],
    version: str,
) -> dict[str, Any]:
    """The manifest of a run, before its table is written (`write_table` adds the counts)."""
    return {
        "gspolicy": version,
        "command": command,
        "as_of": as_of.isoformat(),
        "runner": runner,
        "decided_record_by_record": [{"pack": k, "reason": r} for k, r in fallback],
        "inputs": [{"file": str(p), "bytes": p.stat().st_size, "sha256": file_digest(p)} for p in inputs],
        "packs": [{"pack": key, "content_hash": digest} for key, digest in packs],
    }
