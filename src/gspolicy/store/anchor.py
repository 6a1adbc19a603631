"""The chain's anchors outside its table: the checkpoint file and receipts, written and read back.

The checkpoint ``<db>.head`` is rewritten atomically; a receipt is handed out for each entry."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import attrs

from gspolicy.errors import Diagnostic, PolicyError

__all__ = [
    "CHECKPOINT_FORMAT",
    "Anchor",
    "Checkpoint",
    "Receipt",
    "checkpoint_path",
    "read_anchor",
    "write_checkpoint",
]

CHECKPOINT_FORMAT = 1


def checkpoint_path(db: Path) -> Path:
    """The checkpoint file of the log `db`: ``<db>.head`` next to it."""
    return db.with_name(db.name + ".head")


@attrs.frozen
class Anchor:
    """An entry id and hash held outside the log (a receipt, or the checkpoint's head)."""

    id: int
    hash: str


@attrs.frozen
class Receipt:
    """What a caller gets for a recorded entry: keep it — it anchors the chain up to it."""

    entry: int
    hash: str
    household: str
    verdict: str | None
    as_of: str
    recorded_at: str
    log: str

    def to_json(self) -> dict[str, object]:
        return {
            "receipt": 1,
            "entry": self.entry,
            "hash": self.hash,
            "household": self.household,
            "verdict": self.verdict,
            "as_of": self.as_of,
            "recorded_at": self.recorded_at,
            "log": self.log,
        }

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.entry, self.hash)


@attrs.frozen
class Checkpoint:
    """The checkpoint file: the committed head and, during a write, the pending entry."""

    head: Anchor | None
    pending: Anchor | None


def _anchor_json(a: Anchor | None) -> dict[str, object] | None:
    return None if a is None else {"id": a.id, "hash": a.hash}


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dirfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    data = {
        "checkpoint": CHECKPOINT_FORMAT,
        "head": _anchor_json(checkpoint.head),
        "pending": _anchor_json(checkpoint.pending),
    }
    _write_atomically(path, json.dumps(data, indent=2) + "\n")


def _anchor_from(value: object) -> Anchor | None:
    if value is None:
        return None
    if (
        isinstance(value, Mapping)
        and isinstance(value.get("id"), int)
        and isinstance(value.get("hash"), str)
        and not isinstance(value.get("id"), bool)
    ):
        return Anchor(int(value["id"]), str(value["hash"]))
    raise ValueError("an anchor needs an integer `id` and a text `hash`")


def read_anchor(path: Path) -> Checkpoint | Receipt:
    """Read a checkpoint file or a receipt (JSON); raises `PolicyError` (``store/bad-receipt``)."""

    def bad(reason: str) -> PolicyError:
        return PolicyError([Diagnostic("store/bad-receipt", None, {"path": str(path), "reason": reason})])

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError([Diagnostic("io/not-found", None, {"path": str(path)})]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad(str(err)) from None
    if not isinstance(data, dict):
        raise bad("it is not a JSON object")
    try:
        if "checkpoint" in data:
            return Checkpoint(_anchor_from(data.get("head")), _anchor_from(data.get("pending")))
        if "receipt" in data:
            anchor = _anchor_from({"id": data.get("entry"), "hash": data.get("hash")})
            if anchor is None:
                raise bad("it names no entry")
            return Receipt(
                anchor.id,
                anchor.hash,
                str(data.get("household", "")),
                data.get("verdict") if isinstance(data.get("verdict"), str) else None,
                str(data.get("as_of", "")),
                str(data.get("recorded_at", "")),
                str(data.get("log", "")),
            )
    except ValueError as err:
        raise bad(str(err)) from None
    raise bad("it has neither a `checkpoint` nor a `receipt` key")
