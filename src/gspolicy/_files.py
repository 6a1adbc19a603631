"""Reading text files into `Source`s with a size limit and clear errors."""

from __future__ import annotations

from pathlib import Path

from gspolicy._location import Source
from gspolicy.errors import Diagnostic

__all__ = ["MAX_FILE_BYTES", "decode_source", "read_bytes", "read_source"]

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest file gspolicy reads (record files of a million households fit)."""


def read_source(
    path: Path, *, max_bytes: int = MAX_FILE_BYTES, name: str | None = None
) -> tuple[Source | None, list[Diagnostic]]:
    """Read `path` as UTF-8 text (a byte-order mark is dropped)."""
    shown = name or str(path)
    data, problems = read_bytes(path, max_bytes=max_bytes, name=shown)
    if data is None:
        return None, problems
    return decode_source(data, shown)


def read_bytes(
    path: Path, *, max_bytes: int = MAX_FILE_BYTES, name: str | None = None
) -> tuple[bytes | None, list[Diagnostic]]:
    """Read the bytes of `path`, refusing folders and files over `max_bytes`."""
    shown = name or str(path)
    try:
        if path.is_dir():
            return None, [Diagnostic("io/unreadable", None, {"path": shown, "reason": "it is a folder"})]
        size = path.stat().st_size
        if size > max_bytes:
            return None, [Diagnostic("io/too-large", None, {"path": shown, "size": size, "limit": max_bytes})]
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Diagnostic("io/not-found", None, {"path": shown})]
    except OSError as err:
        return None, [Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})]
    return data, []


def decode_source(data: bytes, name: str) -> tuple[Source | None, list[Diagnostic]]:
    """Decode file bytes as UTF-8 text (a byte-order mark is dropped, CRLF read as LF)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [Diagnostic("io/not-utf8", None, {"path": name})]
    return Source(name, text.replace("\r\n", "\n")), []
