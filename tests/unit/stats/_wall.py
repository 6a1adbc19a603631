"""A small slice of the example registry for the wall chart's tests: a few households of a few
counties, the villages they live in and their counties, written as JSON Lines files."""

from __future__ import annotations

import json
from pathlib import Path

from gspolicy.schema.model import Record
from gspolicy.schema.records import load_records_from
from gspolicy.stats import parse_quarter

from support.bundled import REGISTRY, shared_policies

QUARTER = parse_quarter("2020Q4")


def slice_registry(folder: Path, counties: int = 3, per_county: int = 12) -> dict[str, Path]:
    """The first `per_county` households of the first `counties` counties (by code), their
    villages and counties: file name -> path."""
    households = [
        json.loads(line) for line in (REGISTRY / "households.jsonl").read_text("utf-8").splitlines()
    ]
    chosen = sorted({h["county_code"] for h in households})[:counties]
    kept = [h for c in chosen for h in [h for h in households if h["county_code"] == c][:per_county]]
    villages = {h["village_code"] for h in kept}
    rows = {
        "households": kept,
        "villages": [
            v
            for v in map(json.loads, (REGISTRY / "villages.jsonl").read_text("utf-8").splitlines())
            if v["code"] in villages
        ],
        "counties": [
            c
            for c in map(json.loads, (REGISTRY / "counties.jsonl").read_text("utf-8").splitlines())
            if c["code"] in chosen
        ],
    }
    found = {}
    for name, items in rows.items():
        found[name] = folder / f"{name}.jsonl"
        found[name].write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    return found


def areas_of(files: dict[str, Path]) -> dict[str, tuple[Record, ...]]:
    """The village and county records of a slice."""
    schema = shared_policies().policy_set.schema
    found = {}
    for kind, name in (("village", "villages"), ("county", "counties")):
        records, problems = load_records_from([files[name]], schema, record=kind)
        assert not [d for d in problems if d.is_error], problems
        found[kind] = records
    return found
