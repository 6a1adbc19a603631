"""Write the example department reports of examples/reports/ from the example registry.

    python examples/reports/make_reports.py

The figures are the registry's own, computed by gspolicy for 2017Q4 (the quarter of the example
registry's last exits); each planted report copies the clean one and changes one thing
(README.md says what).  Deterministic: the same files on every run; `tests/unit/stats/
test_reconcile_examples.py` rebuilds them from the figures and compares.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gspolicy.api import load_policies
from gspolicy.stats import Figures, parse_quarter
from gspolicy.stats.registry import registry_figures

HERE = Path(__file__).resolve().parent
REGISTRY = HERE.parent / "registry" / "households.jsonl"
QUARTER = "2017Q4"

# the columns of an aggregate report, in English and in Chinese (both are accepted)
COLUMNS = ("quarter", "indicator", "county", "village", "batch", "measure", "value")
ZH = {"quarter": "季度", "indicator": "指标", "county": "县", "village": "村", "batch": "批次",
      "measure": "措施", "value": "数值", "household": "户"}  # fmt: skip

# what the planted reports change (README.md)
OVER_REPORTING_COUNTY = "621121"  # reports 3 more exits than it had
OVER_REPORTED_BY = 3
MISSING_VILLAGE_COUNTY = "622926"  # its first village with exits is left out
SHIFTED_COUNTY = "621027"  # its exits are filed under the quarter before
BATCH_CELL = ("621126", "seven_batches.education")  # one household more than computed
HOUSEHOLD_COUNTY = "620521"  # one of its households is put in a batch it did not exit through
HOUSEHOLD_FROM, HOUSEHOLD_TO = "seven_batches.production", "seven_batches.ecology"

Row = dict[str, str]


def compute() -> Figures:
    """The example registry's figures for the quarter (a few seconds)."""
    policies = load_policies()
    return registry_figures(policies.policy_set, [REGISTRY], parse_quarter(QUARTER))


def aggregate_rows(found: Figures) -> list[Row]:
    """One row per computed figure: the clean report."""
    rows: list[Row] = []
    for table in found.tables.values():
        for keys, cell in table.cells.items():
            row = {"quarter": QUARTER, "indicator": table.id, **dict(zip(table.keys, keys, strict=True))}
            row["value"] = str(cell.value)
            rows.append(row)
    return rows


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]], headers: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([headers.get(c, c) for c in columns])
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return out.getvalue()


def reports(found: Figures) -> dict[str, str]:
    """Every example report's file name → text."""
    clean = aggregate_rows(found)
    out = {"clean.csv": _csv(COLUMNS, clean, ZH)}

    over = [dict(r) for r in clean]
    for row in over:
        if row["indicator"] == "stat.exited" and row["county"] == OVER_REPORTING_COUNTY:
            row["value"] = str(int(row["value"]) + OVER_REPORTED_BY)
    out["county_over_reports_exits.csv"] = _csv(COLUMNS, over, {})

    villages = sorted(
        k for k in found.tables["stat.exited_by_village"].cells if k[0] == MISSING_VILLAGE_COUNTY
    )
    left_out = villages[0]
    missing = [
        r
        for r in clean
        if not (r["indicator"] == "stat.exited_by_village" and (r["county"], r["village"]) == left_out)
    ]
    out["missing_village.csv"] = _csv(COLUMNS, missing, ZH)

    shifted = [dict(r) for r in clean]
    for row in shifted:
        if row["indicator"] == "stat.exited" and row["county"] == SHIFTED_COUNTY:
            row["quarter"] = "2017Q3"
    out["quarter_shifted.csv"] = _csv(COLUMNS, shifted, ZH)

    batch = [dict(r) for r in clean]
    for row in batch:
        if row["indicator"] == "stat.households_in_batch" and (row["county"], row["batch"]) == BATCH_CELL:
            row["value"] = str(int(row["value"]) + 1)
    out["batch_total_plus_one.csv"] = _csv(COLUMNS, batch, {})

    through = found.tables["stat.exited_through"]
    listed = {keys: list(cell.households) for keys, cell in through.cells.items()}
    moved = next(
        h
        for h in listed[(HOUSEHOLD_COUNTY, HOUSEHOLD_FROM)]
        if h not in listed.get((HOUSEHOLD_COUNTY, HOUSEHOLD_TO), [])
    )
    listed.setdefault((HOUSEHOLD_COUNTY, HOUSEHOLD_TO), []).append(moved)
    rows = [
        {"quarter": QUARTER, "indicator": through.id, "household": h, "county": keys[0], "batch": keys[1]}
        for keys in sorted(listed)
        for h in sorted(listed[keys])
    ]
    out["household_level.csv"] = _csv(("quarter", "indicator", "household", "county", "batch"), rows, ZH)
    return out


def main() -> int:
    for name, text in reports(compute()).items():
        (HERE / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {HERE / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
