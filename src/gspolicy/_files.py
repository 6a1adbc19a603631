"""Reading text files into `Source`s with a size limit and clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy.errors import Diagnostic

__all__ = ["MAX_FILE_BYTES", "decode_source", "is_regular_file", "read_bytes", "read_source"]

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest file gspolicy reads whole (YAML and whole-document JSON)."""

_FOLDER = Text(zh="这是一个文件夹", en="it is a folder")


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
    """Read the bytes of `path`: a regular file (links followed) of at most `max_bytes`.

    Folders, devices (a link to ``/dev/zero`` included), FIFOs and sockets are refused before
    they are opened, and the read stops at ``max_bytes + 1`` bytes whatever the size said: a file
    that grows while it is read is refused, never read until memory runs out.
    """
    shown = name or str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            return None, [Diagnostic("io/unreadable", None, {"path": shown, "reason": _FOLDER})]
        if not stat.S_ISREG(info.st_mode):
            return None, [Diagnostic("io/not-a-file", None, {"path": shown})]
        if info.st_size > max_bytes:
            return None, [
                Diagnostic("io/too-large", None, {"path": shown, "size": info.st_size, "limit": max_bytes})
            ]
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return None, [Diagnostic("io/not-found", None, {"path": shown})]
    except OSError as err:
        return None, [Diagnostic("io/unreadable", None, {"path": shown, "reason": err.strerror or str(err)})]
    if len(data) > max_bytes:
        return None, [
            Diagnostic("io/too-large", None, {"path": shown, "size": len(data), "limit": max_bytes})
        ]
    return data, []


def is_regular_file(path: Path) -> bool:
    """Whether `path` is a regular file (links followed); never opens it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def decode_source(data: bytes, name: str) -> tuple[Source | None, list[Diagnostic]]:
    """Decode file bytes as UTF-8 text (a byte-order mark is dropped, CRLF read as LF)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [Diagnostic("io/not-utf8", None, {"path": name})]
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # copied only when there is something to replace
    return Source(name, text), []
