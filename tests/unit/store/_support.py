"""Helpers of the decision-log and ledger tests: a small policy root, the example households,
recording a few entries, dumping a file.

The policy root is built in a temporary folder from a copy of the bundled household schema, the
test pack `tests/fixtures/store/policies/batches/` (measures and rules granting them) and a copy
of the bundled buffer pack (so that exited households keep measures).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

from gspolicy.explain.build import decide
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.records import load_records_from
from gspolicy.store.log import DecisionLog, Receipt

__all__ = ["AS_OF", "EXAMPLES", "WRITER", "dump", "load_examples", "make_policy_root", "record_some"]

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "store" / "policies"
EXAMPLES = ROOT / "examples" / "households.jsonl"
AS_OF = dt.date(2018, 12, 31)
WRITER = Path(__file__).with_name("_writer.py")


def make_policy_root(dest: Path) -> Path:
    """A policy root under `dest`: the bundled schema, the test pack, the bundled buffer pack."""
    root = dest / "policies"
    (root / "schema").mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "schema" / "household.yaml", root / "schema" / "household.yaml")
    shutil.copytree(FIXTURE / "batches", root / "batches")
    shutil.copytree(
        ROOT / "policies" / "buffer_period", root / "buffer_period", ignore=shutil.ignore_patterns("tests")
    )
    return root


def load_examples(policy_set: PolicySet) -> tuple[Record, ...]:
    records, problems = load_records_from([EXAMPLES], policy_set.schema)
    assert not [d for d in problems if d.is_error]
    return records


def record_some(
    log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...], n: int
) -> list[Receipt]:
    return [
        log.record(r, decide(policy_set, r, AS_OF), policy_set, actor="tester")
        for r in (records[i % len(records)] for i in range(n))
    ]


def dump(db: Path) -> str:
    """Every table's rows, as SQL text (to check that nothing changed)."""
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()
