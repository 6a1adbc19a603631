"""The library's log (docs/reference/api.md, "Logging"): logger `gspolicy`, silent by default,
one line for a policy set loaded, for a registry run and for a batch of decisions, and nothing
computed for it when it is off."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from pathlib import Path

import pytest

import gspolicy
from gspolicy.api import Policies, load_policies
from gspolicy.columnar.registry import registry_blocks
from gspolicy.explain.build import exit_pack_of
from gspolicy.schema.model import Record

from support.bundled import REGISTRY

AS_OF = dt.date(2018, 12, 31)
SRC = Path(gspolicy.__file__).parent


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_the_package_logger_is_silent_until_configured() -> None:
    """A NullHandler on `gspolicy`, and no module configures logging or touches the root logger."""
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("gspolicy").handlers)
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"basicConfig\(", r"getLogger\(\s*\)", r"logging\.root\b", r"getLogger\(\"root\"\)"):
            if re.search(pattern, text):
                problems.append(f"{path.relative_to(SRC)}: {pattern}")
    assert problems == []


def test_a_loaded_policy_set_is_logged(bundled: Policies, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gspolicy"):
        again = load_policies()
    (message,) = _messages(caplog, "gspolicy.pack.load")
    policy_set = again.policy_set
    assert policy_set.content_hash == bundled.policy_set.content_hash
    assert policy_set.content_hash in message
    assert f"{len(policy_set.ids)} packs ({len(policy_set.packs)} versions)" in message
    # the session already read every file: each one is counted as read in this process
    found = re.search(r"(\d+) read and checked, (\d+) from the cache, (\d+) already read", message)
    assert found is not None
    assert [int(n) for n in found.groups()] == [0, 0, len(policy_set.packs)]
    assert re.search(r"; \d+\.\d{3} s$", message)


def test_a_policy_set_that_fails_is_logged_with_its_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.yaml").write_text("pack: nowhere\nformat: 1\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="gspolicy"), pytest.raises(gspolicy.PolicyError) as err:
        load_policies(tmp_path)
    (message,) = _messages(caplog, "gspolicy.pack.load")
    errors = len(err.value.diagnostics)
    assert message.startswith(f"policy set not loaded from {tmp_path}: {errors} errors")


def _small_registry(tmp_path: Path, n: int) -> Path:
    lines = (REGISTRY / "households.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_registry_run_is_logged_with_its_counts_and_nothing_when_the_log_is_off(
    bundled: Policies, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _small_registry(tmp_path, 40)
    policy_set = bundled.policy_set
    exit_pack = exit_pack_of(policy_set)
    with caplog.at_level(logging.WARNING, logger="gspolicy"):
        (quiet,) = registry_blocks([path], policy_set, AS_OF, exit_pack=exit_pack)
        bundled.evaluate_many(_records(bundled, 1), AS_OF)
    assert [r for r in caplog.records if r.name.startswith("gspolicy")] == []
    with caplog.at_level(logging.INFO, logger="gspolicy"):
        # each block decided before the next is read, as the main job does: the run's line, logged
        # when the last block has been taken, counts them all
        (frame,) = [b.decide() for b in registry_blocks([path], policy_set, AS_OF, exit_pack=exit_pack)]
    assert quiet.valid == frame.height == 40
    (message,) = _messages(caplog, "gspolicy.columnar.registry")
    assert "registry run as of 2018-12-31" in message
    assert "40 households valid and 0 refused in 1 blocks of 1 files" in message
    verdicts = Counter(v or "none" for v in frame["verdict"].to_list())
    shown = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
    assert f"decided 40: {shown};" in message


def _records(bundled: Policies, n: int) -> list[Record]:
    lines = (REGISTRY / "households.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [bundled.household(json.loads(line)) for line in lines]


def test_decisions_in_bulk_are_logged_with_their_verdicts(
    bundled: Policies, caplog: pytest.LogCaptureFixture
) -> None:
    households = _records(bundled, 6)
    with caplog.at_level(logging.DEBUG, logger="gspolicy"):
        decisions = bundled.evaluate_many(households, AS_OF)
        (frame,) = bundled.decide_table(households, AS_OF)
    counts = Counter(d.verdict or "none" for d in decisions)
    shown = ", ".join(f"{v} {n}" for v, n in sorted(counts.items()))
    (one_by_one,) = _messages(caplog, "gspolicy.api")[:1]
    assert one_by_one.startswith(f"evaluated 6 households one by one as of 2018-12-31: {shown}; ")
    by_columns = _messages(caplog, "gspolicy.api")[1]
    assert by_columns.startswith(f"decided 6 households by columns as of 2018-12-31 in 1 chunks: {shown}; ")
    # each chunk of the columnar runner at DEBUG: its records and verdicts
    (chunk,) = _messages(caplog, "gspolicy.columnar.runner")
    assert chunk.startswith(f"decided 6 household records by columns as of 2018-12-31: {shown}; ")
    assert frame.height == 6
