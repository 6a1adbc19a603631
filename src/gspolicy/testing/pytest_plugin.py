"""The pytest plugin: pack test cases (``<pack>/tests/*.yaml``) collected as pytest items.

Registered as the ``gspolicy`` entry point of ``pytest11``, so installing gspolicy is enough.
``pytest policies/`` runs exactly the cases ``gspolicy test policies/`` runs, with the same results;
each case is one item named after the case, and a failing case is reported as ``gspolicy test``
reports it (expected vs actual, then the explanation of the actual decision) in English or Chinese.

Which files are collected:

* a ``*.yaml`` / ``*.yml`` file inside a ``tests/`` folder below one of the **policy roots**
  (the ini option ``gspolicy_roots``, default ``policies``, relative to the rootdir);
* **only when asked**: when a path given on the command line lies inside a policy root
  (``pytest policies/``, ``pytest policies/exit_criteria``), or with ``--gspolicy``, which also adds
  the roots to the paths collected.  A plain ``pytest`` run of a project whose ``testpaths`` is
  ``tests`` therefore never collects pack cases;
* **never** below an excluded folder (``tests/golden`` and ``tests/fixtures`` of the rootdir, where
  our own golden files and deliberately malformed fixtures live, plus the ini option
  ``gspolicy_exclude``).

The packs a case runs against are loaded from the policy root holding its file.  Options:
``--gspolicy`` (collect the pack cases of every root), ``--gspolicy-lang zh|en`` (or the ini option
``gspolicy_lang``; default ``en``) for the failure reports, ``--gspolicy-detail fails|brief|full`` (or
the ini option ``gspolicy_detail``; default ``brief``) for how much of the actual decision they explain.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.api import load_policies as load_policy_files
from gspolicy.explain.decision import DETAILS, Detail
from gspolicy.explain.render import check_detail
from gspolicy.pack.load import discover, load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.workspace import ENVIRONMENT, choose, root_of
from gspolicy.testing.cases import Case, CaseResult, load_cases, run_case

__all__ = ["EXCLUDED", "PROFILE", "CaseFailed", "CaseFile", "CaseItem", "ProblemsItem", "policies"]

EXCLUDED = ("tests/golden", "tests/fixtures")
"""Folders (relative to the rootdir) whose YAML files are never collected: our own golden and
malformed fixtures."""

_STATE = pytest.StashKey["_State"]()


class _State:
    def __init__(self, config: pytest.Config) -> None:
        root = config.rootpath
        self.roots: list[Path] = [(root / r).resolve() for r in config.getini("gspolicy_roots")]
        excluded = [*EXCLUDED, *config.getini("gspolicy_exclude")]
        self.excluded: list[Path] = [(root / e).resolve() for e in excluded]
        lang = config.getoption("gspolicy_lang") or config.getini("gspolicy_lang") or "en"
        self.lang: Lang = "zh" if str(lang) == "zh" else "en"
        detail = config.getoption("gspolicy_detail") or config.getini("gspolicy_detail") or "brief"
        self.detail: Detail = check_detail(str(detail))
        invocation = config.invocation_params.dir
        explicit = config.args_source == pytest.Config.ArgsSource.ARGS
        asked = [(invocation / str(a).split("::")[0]).resolve() for a in config.args] if explicit else []
        # a path asked for that lies outside the configured roots is a draft: its cases run
        # against the packs beside them (the policy root holding it, or the folder itself)
        for path in asked:
            draft = _draft_root(path, self.excluded)
            if draft is not None and not any(_within(draft, r) or _within(r, draft) for r in self.roots):
                self.roots.append(draft)
        self.asked = asked
        self.active = bool(config.getoption("gspolicy")) or any(
            _within(a, r) or _within(r, a) for a in asked for r in self.roots
        )
        self.policy_sets: dict[Path, tuple[PolicySet | None, str]] = {}

    def root_of(self, path: Path) -> Path | None:
        for root in self.roots:
            if _within(path, root):
                return root
        return None

    def collects(self, path: Path) -> bool:
        if not self.active or path.suffix not in (".yaml", ".yml"):
            return False
        path = path.resolve()
        if any(_within(path, e) for e in self.excluded):
            return False
        root = self.root_of(path)
        return root is not None and "tests" in path.relative_to(root).parts[:-1]

    def policy_set(self, root: Path) -> tuple[PolicySet | None, str]:
        if root not in self.policy_sets:
            found, problems = load_policies([root])
            text = "\n".join(d.render(self.lang) for d in problems if d.is_error)
            self.policy_sets[root] = (found, text)
        return self.policy_sets[root]


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _draft_root(path: Path, excluded: list[Path]) -> Path | None:
    """The policy root of a path asked for: the nearest folder holding the household schema at or
    above it, else the folder itself when packs lie in it (outside the excluded folders); None
    for anything else."""
    if any(_within(path, e) for e in excluded):
        return None
    root = root_of(path)
    if root is not None:
        return root
    if path.is_dir():
        _, packs, _, _ = discover([path])
        if any(_rooted(p, path) for p in packs if not any(_within(p.resolve(), e) for e in excluded)):
            return path
    return None


_PACK_ID = re.compile(r"^pack\s*:\s*([\w.]+)", re.MULTILINE)


def _rooted(file: Path, folder: Path) -> bool:
    """Whether `folder` is the policy root of the pack in `file`: its id is its path below the
    folder (``exit_criteria/household/2018.1.yaml`` or ``exit_criteria/household.yaml``)."""
    try:
        found = _PACK_ID.search(file.read_text(encoding="utf-8", errors="replace")[:4096])
    except OSError:
        return False
    if found is None:
        return False
    parts = found.group(1).split(".")
    rel = file.resolve().relative_to(folder.resolve())
    return list(rel.parent.parts) == parts or [*rel.parent.parts, rel.stem] == parts


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gspolicy", "gspolicy pack test cases")
    group.addoption(
        "--gspolicy",
        action="store_true",
        default=False,
        help="collect the YAML test cases of the packs under every policy root (gspolicy_roots)",
    )
    group.addoption(
        "--gspolicy-lang",
        dest="gspolicy_lang",
        choices=("zh", "en"),
        default=None,
        help="language of pack test-case failure reports (default: the ini option gspolicy_lang, or en)",
    )
    group.addoption(
        "--gspolicy-detail",
        dest="gspolicy_detail",
        choices=DETAILS,
        default=None,
        help="how much of the actual decision a failure report explains: fails, brief or full "
        "(default: the ini option gspolicy_detail, or brief)",
    )
    parser.addini(
        "gspolicy_roots", "policy roots whose packs' tests/*.yaml are collected", "linelist", ["policies"]
    )
    parser.addini("gspolicy_exclude", "more folders whose YAML files are never collected", "linelist", [])
    parser.addini("gspolicy_lang", "language of pack test-case failure reports: zh or en", "string", "en")
    parser.addini(
        "gspolicy_detail", "detail of pack test-case failure reports: fails, brief or full", "string", "brief"
    )


def pytest_configure(config: pytest.Config) -> None:
    state = _State(config)
    config.stash[_STATE] = state
    # with paths given, `--gspolicy` collects the cases under them (a draft's); without, it adds
    # every configured root to what is collected
    if config.getoption("gspolicy") and not state.asked:
        for root in state.roots:
            if root.is_dir():
                config.args.append(str(root))
    _register_profile()


PROFILE = "gspolicy"
"""The Hypothesis profile for pack authors' property tests (``--hypothesis-profile=gspolicy``):
deciding a household takes milliseconds, not microseconds, so no deadline, no too-slow health
check, and 200 examples (see docs/how-to/property-tests.md for how many a planted bug needs)."""


def _register_profile() -> None:
    try:
        from hypothesis import HealthCheck, settings  # noqa: PLC0415  # the testing extra, when installed
    except ImportError:
        return
    settings.register_profile(
        PROFILE,
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="session")
def policies(request: pytest.FixtureRequest) -> Policies:
    """The policy set of the project under test, loaded once: ``GSPOLICY_POLICIES``, else the
    first policy root (``gspolicy_roots``) that exists, else a ``policies/`` folder found from the
    rootdir upwards, else the bundled set — what the command line run there would use."""
    state = request.config.stash[_STATE]
    given = [r for r in state.roots if r.is_dir()][:1]
    if os.environ.get(ENVIRONMENT):
        given = []
    choice = choose(given or None, start=request.config.rootpath)
    return load_policy_files(list(choice.roots))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    state = parent.config.stash.get(_STATE, None)
    if state is None or not state.collects(file_path):
        return None
    file: CaseFile = CaseFile.from_parent(parent, path=file_path)
    return file


class CaseFailed(Exception):
    """A pack test case whose decision differs from what it expects."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.case.name)
        self.result = result


class CaseFile(pytest.File):
    """A YAML file of pack test cases."""

    def collect(self) -> Iterator[pytest.Item]:
        state = self.config.stash[_STATE]
        root = state.root_of(self.path.resolve())
        assert root is not None
        policy_set, problems = state.policy_set(root)
        if policy_set is None:
            yield ProblemsItem.from_parent(self, name="[policies]", text=problems)
            return
        cases, diagnostics = load_cases(self.path, policy_set)
        errors = [d for d in diagnostics if d.is_error]
        if errors:
            text = "\n".join(d.render(state.lang) for d in errors)
            yield ProblemsItem.from_parent(self, name="[test file]", text=text)
        seen: dict[str, int] = {}
        for case in cases:
            seen[case.name] = seen.get(case.name, 0) + 1
            name = case.name if seen[case.name] == 1 else f"{case.name} [{seen[case.name]}]"
            yield CaseItem.from_parent(self, name=name, case=case, policy_set=policy_set)


class CaseItem(pytest.Item):
    """One pack test case: runs the decision and compares it with the expectation."""

    def __init__(self, *, case: Case, policy_set: PolicySet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.policy_set = policy_set

    def runtest(self) -> None:
        result = run_case(self.case, self.policy_set)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, CaseFailed):
            state = self.config.stash[_STATE]
            return excinfo.value.result.report(state.lang, detail=state.detail)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        span = self.case.span
        return self.path, (span.line - 1 if span is not None else None), f"case `{self.case.name}`"


class ProblemsItem(pytest.Item):
    """The mistakes in a test file (or in the packs), reported as one failing item."""

    def __init__(self, *, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text

    def runtest(self) -> None:
        raise CaseFileError(self.text)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        return self.text

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class CaseFileError(Exception):
    """A test file (or the packs it tests) has mistakes."""
