"""The command line sets Polars' allocator to keep freed pages a while (`cli._ALLOCATOR`) before
Polars loads, and leaves a value the environment gives alone.  (Polars puts its own defaults
before the value when it loads; the allocator reads the settings in order, the last one wins.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gspolicy.cli import _ALLOCATOR

_PROBE = """
import os, sys
from gspolicy.cli import entry
sys.argv = ["gspolicy", "--version"]
try:
    entry()
except SystemExit:
    pass
print(os.environ.get("_RJEM_MALLOC_CONF", "<unset>"))
"""


@pytest.mark.parametrize("given", [None, "dirty_decay_ms:0"])
def test_the_command_line_sets_the_allocator_unless_the_environment_does(given: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != _ALLOCATOR[0]}
    if given is not None:
        env[_ALLOCATOR[0]] = given
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == (given if given is not None else _ALLOCATOR[1])
