"""Checking a pack text sent to the server, in a worker process with a CPU allowance.

A pack is checked as `gspolicy validate` checks one (`gspolicy.pack.load.check_texts`: read,
names resolved, expressions typed against the household schema, its parameter imports resolved
against the ``kind: parameters`` packs of the served set).  The text comes from a client, so the
check runs in a separate process whose CPU time is capped (``RLIMIT_CPU``): a text that would
take longer gets its process ended by the kernel, and the server answers with
``serve/validate-cpu`` instead of spending a core on it.  The worker is started on first use and
again after it was ended.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gspolicy._i18n import LANGS
from gspolicy.errors import Diagnostic, render_diagnostics, sort_and_cap
from gspolicy.pack.load import check_texts, load_policies
from gspolicy.pack.policy_set import PolicySet

__all__ = ["PACK_LIMIT", "Checking", "check_in_process"]

PACK_LIMIT = 512 * 1024
"""The largest pack text the server checks, in bytes."""

_loaded: dict[tuple[str, ...], PolicySet] = {}  # the worker's policy set, by its roots


def _policy_set(roots: tuple[str, ...], expected: str) -> PolicySet | None:
    found = _loaded.get(roots)
    if found is None or found.content_hash != expected:
        found, _ = load_policies([Path(r) for r in roots])
        if found is None:
            return None
        _loaded[roots] = found
    return found


def _limit_cpu(seconds: float) -> None:
    """Let this process spend at most `seconds` more CPU-seconds: a profiling timer ends it then
    (SIGPROF, not handled: the process ends), and ``RLIMIT_CPU`` one second later as a backstop
    the process cannot catch.  `seconds` 0 lifts the timer."""
    try:
        import resource  # noqa: PLC0415  # POSIX only
        import signal  # noqa: PLC0415
    except ImportError:  # pragma: no cover  # no CPU limit where the platform has none
        return
    signal.setitimer(signal.ITIMER_PROF, seconds)
    if seconds <= 0:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 2
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def check_in_process(
    roots: Sequence[str], expected: str, name: str, text: str, cpu_seconds: float
) -> dict[str, Any]:
    """Check one pack text against the set loaded from `roots` (whose content hash the server
    holds as `expected`): its problems as plain data in both languages (run in the worker)."""
    policy_set = _policy_set(tuple(roots), expected)
    problems: list[Diagnostic] = []
    checked = None
    if policy_set is not None:
        providers = [
            (p.pack.source.name, p.pack.source.text) for p in policy_set.packs if p.kind == "parameters"
        ]
        _limit_cpu(cpu_seconds)
        try:
            found, problems = check_texts([*providers, (name, text)], policy_set.schema)
        finally:
            _limit_cpu(0)
        checked = found[-1] if found else None
    kept, omitted = sort_and_cap(problems)
    return {
        "valid": checked is not None and not any(d.is_error for d in kept),
        "pack": None
        if checked is None
        else {
            "id": checked.id,
            "version": checked.pack.version,
            "key": checked.key,
            "kind": checked.kind,
            "content_hash": checked.content_hash,
        },
        "omitted": omitted,
        "errors": sum(d.is_error for d in kept),
        "diagnostics": {lang: [d.to_json(lang) for d in kept] for lang in LANGS},
        "text": {lang: render_diagnostics(kept, lang, omitted=omitted) for lang in LANGS},
        "set_loaded": policy_set is not None,
    }


class Checking:
    """The worker process that checks pack texts, one at a time, started on first use."""

    def __init__(self, cpu_seconds: float = 10) -> None:
        self.cpu_seconds = cpu_seconds
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")  # never fork a threaded server
                self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
            return self._pool

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def check(
        self, roots: Sequence[Path], expected: str, name: str, text: str
    ) -> dict[str, Any] | None:
        """The result of checking `text` (`check_in_process`), or None when the worker was ended
        for spending more than its CPU allowance."""
        pool = self._executor()
        loop = asyncio.get_running_loop()
        args = ([str(r) for r in roots], expected, name, text, self.cpu_seconds)
        try:
            return await loop.run_in_executor(pool, check_in_process, *args)
        except concurrent.futures.process.BrokenProcessPool:
            self._discard(pool)
            return None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
