"""What several commands do before their own work: choose and load the policy set (named on the
first line of stderr), settle the as-of date, read record files.  Imported by the command
modules only (it loads the pack loader)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from gspolicy._i18n import Lang
from gspolicy.cli._support import print_problems
from gspolicy.errors import Diagnostic, render_grouped
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.workspace import load_chosen
from gspolicy.schema.model import Record
from gspolicy.schema.records import Refused, load_records_from, load_records_skipping

__all__ = ["as_of_date", "policies", "records", "records_skipping"]


def policies(paths: list[Path] | None, lang: Lang) -> PolicySet | None:
    """The policy set the command runs (`--policies`, GSPOLICY_POLICIES, a local `policies/`,
    else the bundled one), named on the first line of stderr."""
    return load_chosen(paths, lang, sys.stderr)


def as_of_date(given: dt.date | None, policy_set: PolicySet, lang: Lang) -> dt.date | None:
    """The date to decide on: the one given, else today when the household exit pack is in force
    today.  Otherwise there is nothing to decide on today: say so, with the dates the pack's
    versions cover, rather than answer with no verdict at all (None: exit 2)."""
    if given is not None:
        return given
    today = dt.date.today()
    exit_pack = exit_pack_of(policy_set)
    versions = policy_set.versions(exit_pack)
    if not versions or policy_set.in_force(exit_pack, today) is not None:
        return today
    covered = ", ".join(
        f"{v.pack.valid_from.isoformat()} – {v.pack.valid_to.isoformat() if v.pack.valid_to else '…'}"
        for v in versions
    )
    last = versions[-1].pack.valid_to or today
    problem = Diagnostic(
        "cli/no-pack-today",
        None,
        {"pack": exit_pack, "today": today.isoformat(), "covered": covered, "example": last.isoformat()},
    )
    print_problems([problem], lang, sys.stderr)
    return None


def records(
    files: list[Path], policy_set: PolicySet, lang: Lang, *, kind: str | None = None, encoding: str = "utf-8"
) -> tuple[Record, ...] | None:
    records, problems = load_records_from(files, policy_set.schema, record=kind, encoding=encoding)
    if problems:
        sys.stderr.write(render_grouped(problems, lang) + "\n")
    if any(d.is_error for d in problems):
        return None
    return records


def records_skipping(
    files: list[Path], policy_set: PolicySet, lang: Lang, encoding: str
) -> tuple[tuple[Record, ...], tuple[Refused, ...]] | None:
    """The valid households of `files` and the refused ones (`--skip-invalid`); None when a
    file cannot be read at all.  The refused ones' problems are shown grouped past the first 50."""
    records, refused, problems = load_records_skipping(files, policy_set.schema, encoding=encoding)
    if problems:
        sys.stderr.write(render_grouped(problems, lang) + "\n")
    if any(d.is_error for d in problems):
        return None
    if refused:
        sys.stderr.write(render_grouped([d for r in refused for d in r.problems], lang) + "\n")
        total = len(records) + len(refused)
        sys.stderr.write(
            f"已跳过 {len(refused)} 条有问题的记录（共 {total} 条），判定其余 {len(records)} 户\n"
            if lang == "zh"
            else f"skipped {len(refused)} of {total} records with problems; deciding the other {len(records)}\n"
        )
    return records, refused
