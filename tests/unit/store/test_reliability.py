"""Reliability: a writer killed with SIGKILL loses no committed entry; concurrent writers (threads
and processes) never break the chain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.log import Anchor, DecisionLog, Receipt
from unit.store._support import EXAMPLES, WRITER, record_some

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork-free POSIX file semantics")


def _writer(db: Path, root: Path, count: int, actor: str, batch: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(db), str(root), str(EXAMPLES), str(count), actor, str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _anchors(lines: list[str]) -> list[Anchor]:
    return [Anchor(d["entry"], d["hash"]) for d in map(json.loads, lines) if d]


def _killed(child: subprocess.Popen[str], lines: int, db: Path) -> tuple[list[Anchor], int]:
    """Read `lines` receipts from `child`, kill it with SIGKILL, read what the pipe still holds
    (through the reader's own buffer: `communicate` would skip it), and check that the log
    verifies with every receipt printed; the receipts and the count of entries."""
    assert child.stdout is not None
    printed: list[str] = []
    while len(printed) < lines:
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else "the writer stopped"
        printed.append(line)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    printed.extend(line for line in child.stdout.read().splitlines(keepends=True) if line.strip())
    child.stdout.close()
    if child.stderr is not None:
        child.stderr.close()
    anchors = _anchors(printed)
    with DecisionLog.open(db, create=False) as log:
        result = log.verify(receipts=anchors)
        count = log.count()
    assert result.ok, result.message()
    return anchors, count


@pytest.mark.parametrize("batch", [1, 64])
def test_a_writer_killed_mid_stream_loses_no_committed_entry(
    shared_root: Path, tmp_path: Path, batch: int
) -> None:
    """Killed with SIGKILL at whatever moment it is in (mid-batch, mid-commit, mid-checkpoint),
    the writer leaves a log that verifies with every receipt it printed."""
    db = tmp_path / "log.db"
    anchors, count = _killed(_writer(db, shared_root, 0, "writer", batch), 3 * batch + 5, db)
    # receipts are printed after their batch's commit: the kill may fall between a commit and
    # its printing (a batch committed, its receipts not printed), never lose a printed one
    assert len(anchors) <= count <= len(anchors) + batch
    assert [a.id for a in anchors] == list(range(1, len(anchors) + 1))


def test_concurrent_threads_never_break_the_chain(
    db: Path, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    got: list[Receipt] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            with DecisionLog.open(db) as log:
                mine = record_some(log, policy_set, records, 10)
            with lock:
                got.extend(mine)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with DecisionLog.open(db, create=False) as log:
        result = log.verify(receipts=got)
        assert result.ok, result.message()
        assert log.count() == 40
    assert sorted(r.entry for r in got) == list(range(1, 41))
    checkpoint = json.loads((db.parent / "log.db.head").read_text(encoding="utf-8"))
    assert checkpoint["head"]["id"] == 40
    assert checkpoint["pending"] is None


@pytest.mark.slow  # several processes writing one log: full suite
def test_concurrent_processes_never_break_the_chain(shared_root: Path, db: Path) -> None:
    children = [_writer(db, shared_root, 12, f"process {n}") for n in range(3)]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    anchors = [a for out, _ in outputs for a in _anchors(out.splitlines())]
    with DecisionLog.open(db, create=False) as log:
        result = log.verify(receipts=anchors)
        assert result.ok, result.message()
        assert log.count() == 36
        actors = {e.actor for e in log.entries()}
    assert sorted(a.id for a in anchors) == list(range(1, 37))
    assert actors == {"process 0", "process 1", "process 2"}


@pytest.mark.slow  # a whole registry run killed partway: full suite
def test_a_log_record_run_killed_mid_stream_loses_no_committed_entry(tmp_path: Path) -> None:
    """`gspolicy log record` on the example registry, killed with SIGKILL once two batches are
    out: every receipt it printed verifies, and the log holds whole batches only."""
    registry = Path(__file__).resolve().parents[3] / "examples" / "registry" / "households.jsonl"
    db = tmp_path / "log.db"
    argv = [sys.executable, "-m", "gspolicy", "log", "record", str(registry), "--as-of", "2018-12-31"]
    child = subprocess.Popen(
        [*argv, "--actor", "run", "--db", str(db), "--batch", "256", "--format", "json", "--lang", "en"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    anchors, count = _killed(child, 2 * 256, db)
    assert count % 256 == 0  # whole batches (the run's manifest entry never came)
    assert len(anchors) <= count <= len(anchors) + 256
