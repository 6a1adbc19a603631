"""Copies of the bundled packs to plant defects in, and ways to find where a defect was planted.

The copy holds the household schema, the shared parameters and the packs the analysis issue names — the exit criteria
(2016.1 and 2018.1) and the buffer (2016.1) — so these tests do not move when other packs are
added to `policies/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "policies"
PACKS = ("schema", "parameters", "exit_criteria/household", "buffer_period")
EXIT_2018 = Path("exit_criteria/household/2018.1.yaml")
EXIT_2016 = Path("exit_criteria/household/2016.1.yaml")
PARAMETERS = Path("parameters/household/2016.1.yaml")  # the shared income line lives here


def copy_policies(target: Path) -> Path:
    """A policy root under `target` holding copies of the schema and the named bundled packs."""
    root = target / "policies"
    for name in PACKS:
        shutil.copytree(POLICIES / name, root / name)
    return root


def plant(root: Path, rel: Path, old: str, new: str) -> Path:
    """Replace `old` (which must occur exactly once) by `new` in the copied file `rel`."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """The 1-based line of the `nth` line of `path` containing `needle`."""
    found = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    assert len(found) >= nth, f"{needle!r} not found {nth} times in {path}"
    return found[nth - 1]
