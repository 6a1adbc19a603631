"""Replaying a log entry: decided again from its stored record and packs, and compared.

The policy set it was decided with is rebuilt from the texts stored in the log; the outcome row it
gives is compared with the stored one."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import attrs

from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import decide
from gspolicy.explain.decision import Decision
from gspolicy.pack.load import check_texts
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.load import schema_from_text
from gspolicy.schema.records import validate_record
from gspolicy.store.chain import Entry, row_json, sha256

if TYPE_CHECKING:
    from gspolicy.store.log import DecisionLog

__all__ = ["ReplayResult", "rebuild_policy_set", "replay_entry"]


@attrs.frozen
class ReplayResult:
    """A stored outcome row next to the one the stored packs give today, with the decision they
    give (explained: the entry's decision derived again)."""

    entry: int
    identical: bool
    differences: tuple[str, ...]  # JSON paths where they differ (at most `_MAX_DIFFERENCES`)
    stored: dict[str, Any]
    replayed: dict[str, Any]
    decision: Decision


_MAX_DIFFERENCES = 16


def _differences(a: object, b: object, path: str = "$", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if len(out) >= _MAX_DIFFERENCES:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _differences(a.get(key), b.get(key), f"{path}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _differences(x, y, f"{path}[{k}]", out)
    elif a != b:
        out.append(path)
    return out


def rebuild_policy_set(conn: sqlite3.Connection, entry: Entry) -> PolicySet:
    """The policy set an entry was decided with, rebuilt from the texts stored in the log."""
    context = entry.context_data()

    def failed() -> PolicyError:
        return PolicyError([Diagnostic("store/replay-failed", None, {"id": entry.id})])

    def blob(h: str) -> tuple[str, str]:
        row = conn.execute("SELECT name, text FROM blobs WHERE hash = ?", (h,)).fetchone()
        if row is None or "\ufffd" in row[1] or sha256(row[1]) != h:
            raise failed()
        return str(row[0]), str(row[1])

    name, text = blob(context.schema_hash)
    schema, _ = schema_from_text(name, text)
    if schema is None:
        raise failed()
    texts = [blob(item.get("hash", "")) for item in context.packs]
    checked, _problems = check_texts(texts, schema)  # packs importing parameters resolved too
    if checked is None:
        raise failed()
    return PolicySet(schema, tuple(checked))


def replay_entry(log: DecisionLog, entry_id: int) -> ReplayResult:
    """`DecisionLog.replay`: entry `entry_id` decided again and compared with what is stored."""
    entry = log.entry(entry_id)
    if entry.kind != "decision":
        raise PolicyError([Diagnostic("store/not-a-decision", None, {"id": entry_id, "kind": entry.kind})])
    policy_set = log.policy_set_of(entry)
    record, problems = validate_record(entry.record_data(), policy_set.schema, file=f"entry {entry_id}")
    if record is None:
        raise PolicyError(problems)
    decision = decide(policy_set, record, entry.as_of_date(), exit_pack=entry.context_data().exit_pack)
    replayed = json.loads(row_json(decision.outcome().to_row()))
    stored = entry.outcome_data()
    diffs = tuple(_differences(stored, replayed))
    return ReplayResult(entry_id, not diffs and stored == replayed, diffs, stored, replayed, decision)
