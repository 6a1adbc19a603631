"""Checking packs (``gspolicy check``): load, lint and list the acknowledged gaps, each finding coded
and located.

`check_paths` is what ``gspolicy check`` runs: it loads the packs (the loader's own diagnostics —
unknown fields, measures, departments, fact cycles, overlapping versions, duplicate YAML keys —
are reported first, as they are), then lints every version that checked cleanly, then lists the
acknowledged gaps in force (ranges, low-confidence and "not established" values: informational).
The lints themselves are `gspolicy.analysis.lint_version` (one version) and
`gspolicy.analysis.lint_set` (across versions and packs: `lint_packs`, re-exported here); their
catalogue is `gspolicy.analysis.lint_codes`.

Severities, and why:

* **error** — ``lint/duplicate-date``: two values of one parameter from the same day (written
  once as a date and once as quoted text, which YAML does not see as a duplicate key); which one
  is in force is an accident of the file's order.
* **warning** — a mistake that changes or hides what a pack decides: a fact no condition reaches,
  a measure no rule grants, a criterion or rule without a citation, a title or explanation without
  its Chinese or English text, two criteria (or two rules) with the same condition, a parameter
  with no value in force from the version's first day, a day between two versions that no version
  covers, a condition (or part of one) that is constant.
* **info** — declared but unused parameters, sources and departments.  They are published in the
  policy book and may document the policy (``non_counting_transfer_items`` lists what a record's
  ``income.non_counting_transfers`` sums), so they are shown, not counted as mistakes;
  ``--strict`` makes every lint note a warning.  Schema fields no pack reads are notes too, and
  listed only on request (``--unread-fields``): the schema serves many packs.

Exit codes of ``gspolicy check``: 0 clean or only notes (acknowledged gaps, unused declarations),
1 any error, 2 warnings and no error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from gspolicy._files import read_source
from gspolicy._location import Span
from gspolicy._resources import bundled_policies, bundled_schema_path
from gspolicy.analysis.lint_set import lint_packs, unread_fields
from gspolicy.errors import Diagnostic, Severity
from gspolicy.pack.load import discover, display_path, gaps, load_policies, resolve_imports
from gspolicy.pack.model import PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.load import read_schema

__all__ = ["CheckReport", "check_paths", "lint_packs", "unread_fields"]


@attrs.frozen
class CheckReport:
    """What ``gspolicy check`` found: every diagnostic (loader, lint, gaps) and what was checked."""

    diagnostics: tuple[Diagnostic, ...]
    packs: int
    versions: int
    loaded: bool  # the loader accepted every pack (else only the versions that checked were linted)
    content_hash: str = ""  # the policy set's, when it loaded

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.level is Severity.WARNING for d in self.diagnostics)

    @property
    def notes(self) -> int:
        return sum(d.level is Severity.INFO for d in self.diagnostics)

    @property
    def gaps(self) -> int:
        return sum(d.code.startswith("gap/") for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        """1 with any error, 2 with warnings and no error, 0 otherwise."""
        if self.errors:
            return 1
        return 2 if self.warnings else 0


def _each_version(paths: Sequence[Path]) -> tuple[PolicySet | None, list[CheckedPack]]:
    """Read and check pack files one by one, keeping the versions without errors (the loader
    keeps none when any is wrong; lint still looks at the good ones)."""
    schema_files, pack_files, _, _ = discover(paths)
    schema, problems = read_schema(schema_files[0] if schema_files else bundled_schema_path())
    if schema is None or any(d.is_error for d in problems):
        return None, []
    good: list[CheckedPack] = []
    importing: list[PackSource] = []
    for path in pack_files:
        source, problems = read_source(path, name=display_path(path, paths))
        if source is None:
            continue
        pack, problems = read_pack(source)
        if pack is None or any(d.is_error for d in problems):
            continue
        if pack.imports:
            importing.append(pack)  # checked once the packs of parameters are read
            continue
        checked, problems = check_pack(pack, schema)
        if checked is not None:
            good.append(checked)
    providers = [p.pack for p in good if p.kind == "parameters"]
    for pack in importing:
        resolved, problems = resolve_imports(pack, providers)
        checked = check_pack(resolved, schema)[0] if resolved is not None else None
        if checked is not None:
            good.append(checked)
    return PolicySet(schema, tuple(good)), good


def _gap_dates(packs: Iterable[CheckedPack]) -> list[dt.date]:
    """The days on which something new comes into force: each version's first day and each
    dated value's effective date within the version's validity."""
    days: set[dt.date] = set()
    for checked in packs:
        pack = checked.pack
        days.add(pack.valid_from)
        for param in pack.parameters.values():
            for value in param.values:
                if pack.in_force(value.effective):
                    days.add(value.effective)
    return sorted(days)


def _all_gaps(policy_set: PolicySet, as_of: dt.date | None) -> list[Diagnostic]:
    """The acknowledged gaps in force on `as_of`, or (without one) on any day of any version,
    each listed once, as of the first day it is in force."""
    days = [as_of] if as_of is not None else _gap_dates(policy_set.packs)
    out: dict[tuple[str, str, int], Diagnostic] = {}
    for day in days:
        for d in gaps(policy_set, day):
            loc = d.location
            key = (d.code, loc.file, loc.start) if isinstance(loc, Span) else (d.code, d.message(), 0)
            out.setdefault(key, d)
    return list(out.values())


def check_paths(
    paths: Sequence[Path] | None = None,
    *,
    as_of: dt.date | None = None,
    strict: bool = False,
    unread: bool = False,
) -> CheckReport:
    """Load, lint and list the gaps of the packs under `paths` (default: the bundled policies).

    `as_of` limits the gaps to those in force on that day (default: every day of every version);
    `strict` makes lint notes warnings; `unread` lists schema fields no pack reads.
    """
    roots = list(paths) if paths else [bundled_policies()]
    policy_set, diagnostics = load_policies(roots)
    loaded = policy_set is not None
    if policy_set is None:
        policy_set, _ = _each_version(roots)
    findings: list[Diagnostic] = []
    if policy_set is not None:
        findings = lint_packs(policy_set.packs)
        if unread:
            findings.extend(unread_fields(policy_set.packs, policy_set.schema))
        if strict:
            findings = [
                attrs.evolve(d, severity=Severity.WARNING) if d.level is Severity.INFO else d
                for d in findings
            ]
        findings.extend(_all_gaps(policy_set, as_of))
    packs = len(policy_set.ids) if policy_set is not None else 0
    versions = len(policy_set.packs) if policy_set is not None else 0
    content_hash = policy_set.content_hash if loaded and policy_set is not None else ""
    return CheckReport((*diagnostics, *findings), packs, versions, loaded, content_hash)
