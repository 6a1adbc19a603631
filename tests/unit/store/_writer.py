"""A writer process for the reliability tests: records entries in a loop and prints each receipt
(JSON, one a line, flushed) right after the commit of its batch.

    python _writer.py DB POLICY_ROOT HOUSEHOLDS COUNT ACTOR [BATCH]    (COUNT 0: until killed)

BATCH 1 (the default) records each decision alone (`DecisionLog.record`); a larger BATCH appends
through a `Recorder`, a transaction per BATCH entries.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from gspolicy.engine.outcome import decide_outcome
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.pack.load import load_policy_set
from gspolicy.schema.records import load_records_from
from gspolicy.store.log import DecisionLog, Receipt


def _print(receipts: list[Receipt]) -> None:
    for receipt in receipts:
        sys.stdout.write(json.dumps(receipt.to_json()) + "\n")
    sys.stdout.flush()


def main() -> None:
    db, root, households, count, actor = sys.argv[1:6]
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    policy_set = load_policy_set([Path(root)])
    records, _ = load_records_from([Path(households)], policy_set.schema)
    as_of = dt.date(2018, 12, 31)
    exit_pack = exit_pack_of(policy_set)
    n = int(count)
    with DecisionLog.open(db) as log:
        recorder = log.recorder(policy_set, as_of=as_of, actor=actor, exit_pack=exit_pack, batch=batch)
        i = 0
        while n == 0 or i < n:
            record = records[i % len(records)]
            if batch == 1:
                _print([log.record(record, decide(policy_set, record, as_of), policy_set, actor=actor)])
            else:
                row = decide_outcome(policy_set, record, as_of, exit_pack=exit_pack).to_row()
                _print(recorder.add(record, row))
            i += 1
        if batch > 1:
            _print(recorder.flush())


if __name__ == "__main__":
    main()
