"""The ids of a run, held compactly: admitted a block at a time, they say exactly what a dict
of every id seen says — which ids were admitted before, and where the first one was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gspolicy._location import RecordLocation
from gspolicy.schema.records import IdLedger

from support.bundled import shared_policies

SPEC = shared_policies().schema.records["household"]


@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"]), st.integers(0, 2)),
            max_size=9,
        ),
        max_size=12,
    )
)
def test_blocks_of_ids_admit_as_a_dict_does(blocks: list[list[tuple[str, int]]]) -> None:
    ledger = IdLedger(SPEC)
    seen: dict[str, str] = {}
    line = 0
    for block in blocks:
        entries = []
        expected = []
        for ident, file_number in block:
            line += 1
            file = f"f{file_number}.jsonl"
            entries.append((ident, file, line, RecordLocation(file, line)))
            expected.append(seen.get(ident))
            seen.setdefault(ident, f"{file}:{line}")
        found = ledger.admit(entries)
        assert [None if d is None else dict(d.args)["first"] for d in found] == expected
        assert all(d is None or d.code == "record/duplicate-id" for d in found)
    assert sum(run.height for run in ledger.runs) == len(seen)  # every id once, however merged


def test_a_million_ids_stay_small() -> None:
    ledger = IdLedger(SPEC)
    for start in range(0, 200_000, 20_000):
        entries = [(f"621126-{i:07d}", "a.parquet", i + 2, None) for i in range(start, start + 20_000)]
        assert ledger.admit(entries) == [None] * len(entries)
    assert len(ledger.runs) <= 4  # merged as they grow: lookups stay few (10 blocks: 8 + 2)
    assert sum(run.estimated_size() for run in ledger.runs) < 200_000 * 48
    again = ledger.admit([("621126-0123456", "b.parquet", 9, None)])
    assert again[0] is not None
    assert dict(again[0].args)["first"] == "a.parquet:123458"
