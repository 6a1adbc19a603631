"""CPU time per test and for the whole run, for the suite's time budget.

Each test's CPU time is its setup, call and teardown, in this process and in the subprocesses
it waited for (a built wheel, the command line run as a program), and what a test `charge`s for
processes this one cannot wait for (the Python workers a Spark JVM leaves to others).  The run's total is printed at
the end; with ``GSPOLICY_CPU_REPORT=FILE`` the figures are also written to FILE as JSON, which
``.ci/budget.py`` checks against the budget stated in the README.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import time
from collections.abc import Generator
from pathlib import Path

import pytest

_ON = "GSPOLICY_CPU_REPORT"
_charged = [0.0]


def charge(seconds: float) -> None:
    """Count `seconds` of CPU time spent by processes the run cannot wait for (so
    ``RUSAGE_CHILDREN`` never holds them), in the test running now."""
    _charged[0] += max(0.0, seconds)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime + _charged[0]


class Timing:
    def __init__(self) -> None:
        self.start = _cpu()
        self.tests: dict[str, dict[str, object]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, None, None]:
        before = _cpu()
        yield
        self.tests[item.nodeid] = {
            "cpu": round(_cpu() - before, 3),
            "slow": item.get_closest_marker("slow") is not None,
        }

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        total = _cpu() - self.start
        terminalreporter.write_line(f"suite CPU time: {total:.1f} s ({len(self.tests)} tests)")
        path = os.environ.get(_ON)
        if path:
            report = {"cpu": round(total, 3), "tests": self.tests}
            Path(path).write_text(json.dumps(report, indent=1), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Timing(), "gspolicy-timing")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection loaded (modules, the bundled policy set, strategies) lives to the end of the
    run: move it out of the cyclic collector's sight, so that each full collection does not walk
    it again (about a fifth of the suite's CPU time went there)."""
    gc.collect()
    gc.freeze()
