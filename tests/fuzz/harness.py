"""The fuzzing harness: budgets, the invariants every family checks, and case counts.

Budgets: the normal suite runs a small number of cases per family (the whole of ``tests/fuzz``
in about 30 CPU-seconds); ``GSPOLICY_FUZZ=long`` runs the long campaign (``FAMILY_LONG`` cases
per family, each case allowed 10 seconds) and ``GSPOLICY_FUZZ_REPORT=FILE`` writes the count of
cases run per family to FILE (docs/explanation/fuzzing.md records the last long campaign).

The invariants:

* the API raises only `PolicyError` / `HouseholdError` (`check_api`);
* every diagnostic is catalogued, renders in zh and en, and one about a file's content says
  where (`check_diagnostics`);
* the command line exits 0, 1 or 2, with coded diagnostics and never a traceback (`check_cli`);
* nothing is executed while packs and records are read and decided: an audit hook, active only
  around the call under test, sees no ``exec``, no ``import``, no ``compile`` but the expression
  parser's own (``ast.parse`` of an expression, mode ``eval``, which builds a tree and runs
  nothing) and no ``open`` beyond the inputs (`watched`);
* memory: the command line run out of process under an address-space limit of its baseline plus
  200 MB plus five times the input's size (`run_limited`).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from gspolicy._messages import CATALOGUE
from gspolicy.errors import Diagnostic, HouseholdError, PolicyError, render_diagnostics

LONG = os.environ.get("GSPOLICY_FUZZ", "").strip().lower() == "long"
FAMILY_LONG = 16_000
"""Cases per family in the long campaign (at least 15,000 each)."""

COUNTS: collections.Counter[str] = collections.Counter()

_T = TypeVar("_T")


def budget(normal: int, *, long: int = FAMILY_LONG) -> settings:
    """Settings for a fuzz test: `normal` cases in the suite, `long` under ``GSPOLICY_FUZZ=long``."""
    if LONG:
        return settings(
            max_examples=long,
            deadline=timedelta(seconds=10),
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=False,
        )
    return settings(max_examples=normal, deadline=None, suppress_health_check=list(HealthCheck))


def count(family: str) -> None:
    COUNTS[family] += 1


def write_report() -> None:
    path = os.environ.get("GSPOLICY_FUZZ_REPORT")
    if path and COUNTS:
        Path(path).write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1) + "\n", encoding="utf-8")


# -- the invariants -------------------------------------------------------------------------------


def check_diagnostics(diagnostics: Sequence[Diagnostic], *, about_content: bool = False) -> None:
    """Every diagnostic is known and renders in both languages; with `about_content`, every error
    (other than a whole-file one) says where in the file."""
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code in CATALOGUE, d.code
        for lang in ("zh", "en"):
            assert d.render(lang).strip()  # type: ignore[arg-type]
            json.dumps(d.to_json(lang))  # type: ignore[arg-type]
        if about_content and d.is_error and d.code not in WHOLE_FILE:
            assert d.location is not None, f"unlocated: {d.render('en')}"
    render_diagnostics(list(diagnostics), "zh")
    render_diagnostics(list(diagnostics), "en")


# codes about a file as a whole (its size, its encoding, how many records): they name the file
WHOLE_FILE = {
    "io/too-large",
    "io/not-utf8",
    "io/not-found",
    "io/unreadable",
    "io/not-a-file",
    "io/unknown-format",
    "record/too-many",
    "record/not-decided",
    "yaml/empty",
    "table/unreadable",
    "table/needs-extra",
    "table/no-key",
    "table/not-text",
}


def check_api(call: Callable[[], _T]) -> _T | None:
    """Run an API call: it returns, or raises `PolicyError` / `HouseholdError` with diagnostics."""
    try:
        return call()
    except (PolicyError, HouseholdError) as err:
        problems = err.diagnostics
    assert problems
    check_diagnostics(problems)
    return None


def check_cli(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err[-2000:])
    for text in (out, err):
        assert "Traceback (most recent call last)" not in text
        assert "internal error" not in text, err[-2000:]
        assert "内部错误" not in text, err[-2000:]


# -- nothing executed -------------------------------------------------------------------------------

# standard-library modules loaded on first use (codecs looked up by name): imported here, with the
# harness, so that loading them is not mistaken for the code under test importing something
import encodings.utf_8_sig  # noqa: E402, F401
import unicodedata  # noqa: E402, F401

_EXPRESSION_COMPILE = "<unknown>"  # ast.parse's file name: the expression parser builds a tree only


class _Watch:
    def __init__(self) -> None:
        self.local = threading.local()
        sys.addaudithook(self.hook)

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        seen = getattr(self.local, "seen", None)
        if seen is None:
            return
        if event in ("exec", "import"):
            seen.append((event, repr(args)[:200]))
        elif event == "compile":
            if len(args) < 2 or args[1] != _EXPRESSION_COMPILE:
                seen.append((event, repr(args)[:200]))
        elif event == "open":
            target = args[0] if args else None
            if isinstance(target, int):
                return  # an already open file descriptor
            path = os.path.abspath(os.fsdecode(target)) if target is not None else ""
            if not any(path.startswith(allowed) for allowed in self.local.allowed):
                seen.append((event, path))


_WATCH: list[_Watch] = []


@contextlib.contextmanager
def watched(allowed: Sequence[str | Path] = ()) -> Iterator[None]:
    """Fail when the block executes code, imports a module or opens a file outside `allowed` and
    the cache of checked packs (GSPOLICY_CACHE, which the test run points to a folder of its own)."""
    if not _WATCH:
        _WATCH.append(_Watch())
    watch = _WATCH[0]
    cache = os.environ.get("GSPOLICY_CACHE")
    watch.local.allowed = tuple(os.path.abspath(a) for a in (*allowed, *([cache] if cache else [])))
    watch.local.seen = []
    try:
        yield
    finally:
        seen = watch.local.seen
        watch.local.seen = None
    assert seen == [], f"executed, imported or opened while reading and deciding: {seen[:5]}"


# -- memory ---------------------------------------------------------------------------------------

_BASELINE: list[int] = []


def _peak_vm_of(argv: Sequence[str]) -> int:
    """The address space a command needs on a trivial input (its baseline), in bytes."""
    probe = (
        "import resource, runpy, sys; sys.argv = {argv!r}\n"
        "try:\n    runpy.run_module('gspolicy', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(open('/proc/self/status').read())"
    ).format(argv=["gspolicy", *argv])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024
    return 0


def run_limited(argv: Sequence[str], input_size: int, cwd: Path) -> tuple[int, str, str]:
    """Run ``gspolicy ARGV`` in a child limited to its baseline + 200 MB + 5 × `input_size`."""
    if not _BASELINE:
        # the baseline decides one household by columns: the address space Polars reserves at
        # start (its thread pool and allocator) is part of starting, not of the input
        with tempfile.TemporaryDirectory() as place:
            one = Path(place) / "one.jsonl"
            one.write_text('{"id": "620000-0001", "size": 1}\n', encoding="utf-8")
            _BASELINE.append(_peak_vm_of(["evaluate", str(one), "--as-of", "2018-12-31", "--lang", "en"]))
    limit = _BASELINE[0] + 200 * 2**20 + 5 * input_size

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "gspolicy", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=limited,  # only sets a limit, before exec
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    return done.returncode, done.stdout, done.stderr
