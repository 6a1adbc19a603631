"""SIGHUP swaps the policy set of a running server whole: a server in its own process (`gspolicy
serve`) answers with the new set's hashes once a pack file changed and the signal came, and keeps
the old set — logging the located problems — when the files on disk no longer load."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gspolicy._resources import bundled_policies
from unit.serve._server import Client, needs_serve_extra

pytestmark = pytest.mark.slow  # a server process reloading its set: full suite

PACK = Path("exit_criteria") / "household" / "2018.1.yaml"
KEY = "exit_criteria.household@2018.1"


def _until(what: Callable[[], object], seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# a server process of its own loading the set three times: about 1 CPU-s (its CPU is counted, the
# process being waited for)
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is POSIX")
def test_sighup_swaps_the_set_and_a_broken_set_keeps_the_old_one(tmp_path: Path) -> None:
    needs_serve_extra()
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    env = {**os.environ, "GSPOLICY_LANG": "en", "GSPOLICY_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "gspolicy", "serve", "--policies", str(root), "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
    reader.start()
    try:
        serving = str(_until(lambda: next((x for x in lines if x.startswith("serving http://")), None)))
        address = serving.split()[1].removeprefix("http://")
        client = Client(address.rsplit(":", 1)[0], int(address.rsplit(":", 1)[1]))
        before = client.get("/v1/packs").json()
        hashes = {p["key"]: p["content_hash"] for p in before["packs"]}

        text = (root / PACK).read_text("utf-8")
        edited = text.replace(
            "Household exit acceptance (2018 revision)", "Household exit acceptance (2018 revision; edited)"
        )
        assert edited != text
        (root / PACK).write_text(edited, "utf-8")
        process.send_signal(signal.SIGHUP)
        after = _until(
            lambda: (a := client.get("/v1/packs").json())["policy_set"] != before["policy_set"] and a
        )
        assert isinstance(after, dict)
        new = {p["key"]: p["content_hash"] for p in after["packs"]}
        assert new[KEY] != hashes[KEY]
        assert {k: v for k, v in new.items() if k != KEY} == {k: v for k, v in hashes.items() if k != KEY}
        answer = client.get("/v1/packs")
        assert answer.headers["gspolicy-policy-set"] == after["policy_set"]

        (root / PACK).write_text(edited.replace("kind: exit", "kind: exits"), "utf-8")
        process.send_signal(signal.SIGHUP)
        _until(lambda: any("serve/reload-failed" in x for x in lines))
        assert client.get("/v1/packs").json()["policy_set"] == after["policy_set"]
        log = "".join(lines)
        assert f"{PACK.as_posix()}:" in log  # the problem located in the file
        assert f"the server keeps the set {after['policy_set']}" in log
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=5)
        process.stderr.close()
