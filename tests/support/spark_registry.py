"""The households the Spark tests decide: the example registry and generated households, as JSON
Lines and in the nested Parquet layout (one row a household, its members and support items as
lists of structs), built once per test session (`tests/unit/spark/conftest.py`)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import polars as pl

from gspolicy._resources import bundled_policies

__all__ = ["DAY", "EXAMPLE", "GENERATED", "SPOILED", "generated", "nested"]

ROOT = bundled_policies().parent
EXAMPLE = ROOT / "examples" / "registry" / "households.jsonl"
GENERATOR = ROOT / "examples" / "generate_households.py"
DAY = dt.date(2018, 12, 31)
GENERATED = 10_000
SPOILED = (("size", -3), ("region_class", "nowhere"), ("poor_county_type", "nowhere"))


def generated(folder: Path) -> Path:
    """`GENERATED` households under ids the example registry does not hold (the generator
    numbers households by their place, so its ids are the registry's: each gets ``~g``), three
    of them spoiled (`SPOILED`, one every 3,000 from the first)."""
    spec = importlib.util.spec_from_file_location("generate_households", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    made = folder / "made.jsonl"
    module.main(["--count", str(GENERATED), "--seed", "31", "-o", str(made)])
    rows = [json.loads(t) for t in made.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["id"] = f"{row['id']}~g"
    for row, (field, value) in zip(rows[::3_000], SPOILED, strict=False):
        row[field] = value
    out = folder / "generated.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


def nested(lines: list[Path], folder: Path) -> Path:
    """The households of the JSON Lines `lines` in the nested Parquet layout, a file each
    (``part-<n>.parquet``) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(lines):
        rows = [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
        frame = pl.DataFrame(rows, infer_schema_length=None)
        frame.write_parquet(folder / f"part-{index}.parquet", row_group_size=2_500)
    return folder
