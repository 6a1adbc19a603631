"""A pack's part is decoded once per run and signature (`Run.decoded`): a block whose item bits
are laid out another way (`Result.width`, from its longest list) never takes the part decoded
for the same bit words under another layout."""

from __future__ import annotations

import datetime as dt

import attrs
import polars as pl
from tests.support.bundled import shared_policies, shared_registry

from gspolicy.columnar.polars_backend import Result
from gspolicy.columnar.run import plan_run
from gspolicy.columnar.runner import pack_parts
from gspolicy.explain.build import exit_pack_of
from gspolicy.schema.model import Record

AS_OF = dt.date(2017, 12, 31)


def _without_member_fields(record: Record) -> Record:
    """`record` with its members' fields but the first two taken away: item data missing."""
    members = record.get("members")
    if not isinstance(members, tuple):
        return record
    kept = tuple(Record(m.type_name, dict(list(m.items())[:2])) for m in members if isinstance(m, Record))
    return Record(record.type_name, {**dict(record.items()), "members": kept})


def test_a_part_decoded_under_one_layout_is_not_reused_under_another() -> None:
    policies = shared_policies()
    policy_set = policies.policy_set
    exit_pack = exit_pack_of(policy_set)
    records = [_without_member_fields(r) for r in shared_registry()[:20]]
    fresh = plan_run(policy_set, policy_set.schema.root, AS_OF)
    result = fresh.table(fresh.frames(records))
    words = [c for c in result.table.columns if c.rpartition("|")[2].startswith("i")]
    assert words
    assert result.table.select(pl.any_horizontal(pl.col(words).fill_null(0) > 1)).to_series().any()
    wider = Result(result.table, result.width * 2)
    compared = 0
    for index, plan in enumerate(fresh.plans):
        if plan.fallback is not None:
            continue
        shared = attrs.evolve(fresh, decoded=type(fresh.decoded)(1000))
        first = pack_parts(policy_set, shared, result, index, exit_pack)
        again = pack_parts(policy_set, shared, wider, index, exit_pack)
        alone = pack_parts(
            policy_set, attrs.evolve(fresh, decoded=type(fresh.decoded)(1000)), wider, index, exit_pack
        )
        assert again.equals(alone), plan.pack.key
        compared += not first.equals(alone)
    assert compared, "no pack's part depends on the layout of its item bits: the test shows nothing"
