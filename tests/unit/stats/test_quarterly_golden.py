"""The bundled `statistics.quarterly` pack's figures on a slice of the example registry, pinned
by a golden file (``pytest --update-goldens`` rewrites it; review the diff like code), and what
the figures must show whatever the golden says."""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy.api import Policies
from gspolicy.engine.outcome import decide_outcome
from gspolicy.schema.model import Record
from gspolicy.stats import Figures, figures, parse_quarter

from support.golden import compare_golden

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "expected" / "stats" / "quarterly_2017Q4.txt"
SLICE = 150  # the first households of examples/registry


@pytest.fixture(scope="module")
def found(bundled: Policies, registry: tuple[Record, ...]) -> Figures:
    policy_set = bundled.policy_set
    quarter = parse_quarter("2017Q4")
    exit_pack = policy_set.exit_pack()
    assert exit_pack is not None
    pairs = ((r, decide_outcome(policy_set, r, quarter.last, exit_pack=exit_pack)) for r in registry[:SLICE])
    return figures(policy_set, pairs, quarter)


def _render(found: Figures) -> str:
    lines = [f"quarter {found.quarter} ({found.quarter.first} – {found.quarter.last})"]
    for table in found.tables.values():
        lines.append("")
        lines.append(f"{table.id} [{table.pack}] by {', '.join(table.keys) or '(none)'}")
        for group, cell in table.cells.items():
            lines.append(f"  {' | '.join(group) or '(all)'}: {cell.value}  ← {' '.join(cell.households)}")
        lines.append(f"  total: {table.total.value} ({len(table.total.households)} households)")
        if table.undetermined:
            lines.append(f"  undetermined: {' '.join(table.undetermined)}")
    return "\n".join(lines) + "\n"


def test_the_bundled_figures_on_the_example_slice(found: Figures, update_goldens: bool) -> None:
    compare_golden(_render(found), GOLDEN, update=update_goldens, what="statistics.quarterly on 2017Q4")


def test_the_bundled_pack_shows_what_its_indicators_are_for(found: Figures) -> None:
    assert list(found.tables) == [
        "stat.households_in_batch",
        "stat.exited",
        "stat.exited_through",
        "stat.in_buffer",
        "stat.support_amount",
        "stat.exited_by_village",
    ]
    in_batch = found.tables["stat.households_in_batch"]
    assert sum(c.value for c in in_batch.cells.values()) > in_batch.total.value  # several batches each
    exited = found.tables["stat.exited"]
    assert exited.total.value > 0
    through = found.tables["stat.exited_through"]
    assert set(through.total.households) <= set(exited.total.households)
    assert found.tables["stat.in_buffer"].total.value > 0
    assert all(key[1] for key in found.tables["stat.support_amount"].cells)  # a measure in every row
