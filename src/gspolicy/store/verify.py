"""Verifying a decision log: the chain walked to its first bad entry, and its anchors checked.

A bad entry is edited, deleted, inserted, reordered or names an altered pack; the anchors are the
checkpoint file and receipts.  `DecisionLog.verify` runs it."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from gspolicy._i18n import Lang
from gspolicy.errors import PolicyError
from gspolicy.store.anchor import Anchor, Checkpoint, Receipt, read_anchor
from gspolicy.store.chain import GENESIS, SELECT, STORED, Entry, Reader, context_from, sha256
from gspolicy.store.db import write

if TYPE_CHECKING:
    from gspolicy.store.log import DecisionLog

_log = logging.getLogger("gspolicy.store.log")  # the log's own logger (docs/reference/api.md)

__all__ = ["Problem", "ProblemKind", "VerifyResult", "verify_log", "walk"]

ProblemKind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "truncated",
    "pack-altered",
    "checkpoint-missing",
    "checkpoint-unreadable",
]

_KIND_TEXT: dict[str, tuple[str, str]] = {
    "edited": ("entry {id} was edited: {detail}", "条目 {id} 被修改：{detail}"),
    "deleted": ("entry {id} was deleted: {detail}", "条目 {id} 被删除：{detail}"),
    "inserted": ("entry {id} was inserted: {detail}", "条目 {id} 是插入的：{detail}"),
    "reordered": ("entry {id} is out of order: {detail}", "条目 {id} 的顺序被调换：{detail}"),
    "truncated": ("the log was truncated from entry {id}: {detail}", "日志自条目 {id} 起被截断：{detail}"),
    "pack-altered": (
        "a stored pack or schema of entry {id} was altered: {detail}",
        "条目 {id} 保存的政策包或数据结构被篡改：{detail}",
    ),
    "checkpoint-missing": (
        "the tail of the log from entry {id} is not anchored: {detail}",
        "日志自条目 {id} 起的末尾没有锚定：{detail}",
    ),
    "checkpoint-unreadable": ("the checkpoint cannot be read: {detail}", "无法读取检查点：{detail}"),
}


@attrs.frozen
class Problem:
    """The first bad entry found by `DecisionLog.verify`, and what is wrong with it."""

    kind: ProblemKind
    entry: int
    detail: str

    def message(self, lang: Lang = "en") -> str:
        en, zh = _KIND_TEXT[self.kind]
        return (zh if lang == "zh" else en).format(id=self.entry, detail=self.detail)


@attrs.frozen
class VerifyResult:
    """The outcome of verifying a log: how many entries, the head, the first problem if any."""

    entries: int
    head: Anchor | None
    problem: Problem | None
    anchors: tuple[str, ...]  # which anchors were checked (checkpoint file, receipts)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def message(self, lang: Lang = "en") -> str:
        if self.problem is not None:
            return self.problem.message(lang)
        head = f"{self.head.id} {self.head.hash}" if self.head else "-"
        receipts = sum(a.startswith("receipt ") for a in self.anchors)
        named = [a for a in self.anchors if not a.startswith("receipt ")]
        if receipts:
            named.append(
                f"{receipts} 张回执" if lang == "zh" else f"{receipts} receipt{'s' * (receipts != 1)}"
            )
        checked = ", ".join(named) or ("无" if lang == "zh" else "none")
        if lang == "zh":
            return f"日志完好：{self.entries} 个条目，链头 {head}；已核对锚点：{checked}"
        return f"the log verifies: {self.entries} entries, head {head}; anchors checked: {checked}"


def _content_problem(entry: Entry, raw_record: object, raw_outcome: object) -> str | None:
    """What is wrong with an entry's stored record and outcome, or None."""
    if entry.kind == "decision":
        for name, text, raw, digest in (
            ("record", entry.record, raw_record, entry.record_hash),
            ("outcome", entry.outcome, raw_outcome, entry.outcome_hash),
        ):
            if raw is None or text is None:
                return f"its stored {name} is missing or does not decompress"
            if sha256(text) != digest:
                return f"its stored {name} does not give its hash"
    elif entry.kind == "run":
        if raw_record is not None or raw_outcome is not None:
            return "a run entry holds a record"
    else:
        return f"its kind `{entry.kind[:40]}` is not one the log writes"
    return None


def _context_problem(reader: Reader, entry: Entry, checked: dict[str, str | None]) -> str | None:
    """What is wrong with the context an entry names and the texts it lists, or None."""
    if entry.context in checked:
        return checked[entry.context]
    problem: str | None = None
    if entry.context_text is None:
        problem = f"its stored context `{entry.context}` is missing or changed"
    else:
        try:
            context = context_from(entry.context_text)
        except ValueError:
            problem = "its stored context is not readable"
        else:
            for h in [p["hash"] for p in context.packs] + [context.schema_hash]:
                if reader.blob(h) is None:
                    problem = f"the stored text `{h}` is missing or changed"
                    break
    checked[entry.context] = problem
    return problem


def _check_anchor(rows: int, hash_of: Callable[[int], str], anchor: Anchor, what: str) -> Problem | None:
    if anchor.id < 1:
        return None
    if anchor.id > rows:
        return Problem("truncated", rows + 1, f"{what} names entry {anchor.id}, the log ends at {rows}")
    if hash_of(anchor.id) != anchor.hash:
        return Problem(
            "edited",
            anchor.id,
            f"its hash differs from the one in {what} (it, or an entry before it, was changed and the "
            "chain rebuilt)",
        )
    return None


def _check_checkpoint(rows: int, hash_of: Callable[[int], str], cp: Checkpoint) -> Problem | None:
    """The log must end at the checkpoint's head, or at its pending entry (a write in flight)."""
    head_id = cp.head.id if cp.head else 0
    if cp.pending is not None and rows == cp.pending.id:
        found = _check_anchor(rows, hash_of, cp.pending, "the checkpoint (pending entry)")
        if found is None:
            return None
    if cp.head is not None:
        found = _check_anchor(rows, hash_of, cp.head, "the checkpoint")
        if found is not None:
            return found
    if rows > head_id:
        return Problem(
            "inserted",
            head_id + 1,
            f"the checkpoint ends the log at entry {head_id}, but the log goes on to entry {rows}",
        )
    return None


def verify_log(
    log: DecisionLog, *, checkpoint: Path | None = None, receipts: Iterable[Receipt | Anchor] = ()
) -> VerifyResult:
    """`DecisionLog.verify`: the chain walked, then the anchors checked; the first bad entry."""
    started = time.perf_counter()
    cp_path = checkpoint or log.checkpoint
    conn = log.connection
    with write(conn):  # the checkpoint and the length of the log at one moment
        try:
            cp: Checkpoint | Receipt | None = read_anchor(cp_path) if cp_path.exists() else None
            cp_problem = None
        except PolicyError as err:
            cp, cp_problem = None, err.diagnostics[0].message()
        found_rows = conn.execute("SELECT count(*), max(id) FROM entries").fetchone()
    # entries appended after that moment are another writer's: not this verification's
    rows = int(found_rows[0])
    problem, head = walk(conn, max(rows, int(found_rows[1] or 0)))

    def hash_of(entry_id: int) -> str:
        row = conn.execute("SELECT hash FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return str(row[0]) if row else ""

    checked: list[str] = []
    found: list[Problem] = [problem] if problem else []
    if cp_problem is not None:
        found.append(Problem("checkpoint-unreadable", rows + 1, cp_problem))
    elif isinstance(cp, Checkpoint):
        checked.append(str(cp_path))
        if (p := _check_checkpoint(rows, hash_of, cp)) is not None:
            found.append(p)
    elif isinstance(cp, Receipt):
        checked.append(str(cp_path))
        if (p := _check_anchor(rows, hash_of, cp.anchor, f"the receipt `{cp_path}`")) is not None:
            found.append(p)
    elif rows:
        found.append(
            Problem(
                "checkpoint-missing",
                rows + 1,
                f"there is no checkpoint file `{cp_path}`; pass one with `--checkpoint`",
            )
        )
    for r in receipts:
        anchor = r.anchor if isinstance(r, Receipt) else r
        checked.append(f"receipt {anchor.id}")
        if (p := _check_anchor(rows, hash_of, anchor, f"the receipt of entry {anchor.id}")) is not None:
            found.append(p)
    # the first bad entry; on a tie, a concrete problem before a missing anchor
    first = min(found, key=lambda p: (p.entry, p.kind.startswith("checkpoint"))) if found else None
    _log.info(
        "decision log %s verified: %d entries, %s; %.3f s",
        log.path,
        rows,
        "intact" if first is None else f"first problem `{first.kind}` at entry {first.entry}",
        time.perf_counter() - started,
    )
    return VerifyResult(rows, head, first, tuple(checked))


def walk(conn: sqlite3.Connection, upto: int) -> tuple[Problem | None, Anchor | None]:
    """Walk entries 1…`upto`: the first problem, and the head."""
    reader = Reader(conn)
    contexts: dict[str, str | None] = {}
    prev_id, prev_hash = 0, GENESIS
    cursor = conn.execute(SELECT + " WHERE id <= ? ORDER BY id", (upto,))
    for row in cursor:
        entry = reader.entry(row)
        raw = dict(zip(STORED, row, strict=True))
        expected = prev_id + 1
        if entry.id < expected:
            return Problem(
                "inserted", entry.id, f"entry ids must start at 1 and follow on (found {entry.id})"
            ), None
        if entry.id > expected:
            return Problem(
                "deleted", expected, f"the log jumps from entry {prev_id} to entry {entry.id}"
            ), None
        own_ok = _hashed_ok(entry) and _content_problem(entry, raw["record"], raw["outcome"]) is None
        if not (own_ok and entry.prev_hash == prev_hash):
            kind, where, detail = _locate(conn, entry, own_ok, prev_hash, raw)
            return Problem(kind, where, detail), None
        context = _context_problem(reader, entry, contexts)
        if context is not None:
            return Problem("pack-altered", entry.id, context), None
        prev_id, prev_hash = entry.id, entry.hash
    return None, (Anchor(prev_id, prev_hash) if prev_id else None)


def _hashed_ok(entry: Entry) -> bool:
    try:
        return entry.computed_hash() == entry.hash
    except TypeError:  # a column holding what a hash cannot be taken of (bytes)
        return False


def _locate(
    conn: sqlite3.Connection, entry: Entry, own_ok: bool, prev_hash: str, raw: Mapping[str, Any]
) -> tuple[ProblemKind, int, str]:
    """Classify the break at `entry`, whose own hash or link to the previous entry is wrong."""

    def ids_with_hash(h: object) -> list[int]:
        return [int(r[0]) for r in conn.execute("SELECT id FROM entries WHERE hash = ? ORDER BY id", (h,))]

    holders = ids_with_hash(entry.prev_hash)
    later = [i for i in holders if i > entry.id]
    earlier = [i for i in holders if i < entry.id]
    if later:
        return "reordered", entry.id, f"it chains to entry {later[0]}, which comes after it"
    if earlier and earlier[-1] < entry.id - 1:
        k = earlier[-1]
        return "inserted", k + 1, f"entry {entry.id} chains past it to entry {k}"
    following = conn.execute("SELECT prev_hash FROM entries WHERE id = ?", (entry.id + 1,)).fetchone()
    if following is not None and following[0] == prev_hash:
        return "inserted", entry.id, f"entry {entry.id + 1} chains past it to the entry before it"
    content = _content_problem(entry, raw["record"], raw["outcome"]) if _hashed_ok(entry) else None
    if not own_ok and content is None and entry.prev_hash != prev_hash:
        for shift in range(1, 1 << 10):  # renumbered after a deletion?
            try:
                renumbered = attrs.evolve(entry, id=entry.id + shift).computed_hash()
            except TypeError:
                break
            if renumbered == entry.hash:
                detail = (
                    f"{shift} entr{'y' if shift == 1 else 'ies'} before it are gone and the rest renumbered"
                )
                return "deleted", entry.id, detail
    if content is not None:
        return "edited", entry.id, content
    if not own_ok:
        return "edited", entry.id, "its content does not give its stored hash"
    if entry.id == 1:
        return "edited", entry.id, "it does not chain to the start of the log"
    return "edited", entry.id - 1, f"entry {entry.id} chained to a different version of it"
