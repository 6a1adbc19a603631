"""A writer process for the reliability tests: records entries in a loop and prints each receipt
(JSON, one a line, flushed) right after its commit.

    python _writer.py DB POLICY_ROOT HOUSEHOLDS COUNT ACTOR     (COUNT 0: until killed)
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from gspolicy.explain.build import decide
from gspolicy.pack.load import load_policy_set
from gspolicy.schema.records import load_records_from
from gspolicy.store.log import DecisionLog


def main() -> None:
    db, root, households, count, actor = sys.argv[1:6]
    policy_set = load_policy_set([Path(root)])
    records, _ = load_records_from([Path(households)], policy_set.schema)
    as_of = dt.date(2018, 12, 31)
    n = int(count)
    with DecisionLog.open(db) as log:
        i = 0
        while n == 0 or i < n:
            record = records[i % len(records)]
            receipt = log.record(record, decide(policy_set, record, as_of), policy_set, actor=actor)
            sys.stdout.write(json.dumps(receipt.to_json()) + "\n")
            sys.stdout.flush()
            i += 1


if __name__ == "__main__":
    main()
