"""The API tests' server: the bundled policy set (the session's shared copy) served once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from unit.serve._server import Client, needs_serve_extra, running

from support.bundled import shared_policies

VALIDATE_CPU = 0.5
"""The test server's CPU allowance for checking one pack: ample for a real pack (about 0.05 s),
short of the padded one of `test_api.test_a_pack_over_its_cpu_allowance_is_stopped`."""


@pytest.fixture(scope="session")
def server() -> Iterator[Client]:
    needs_serve_extra()
    from gspolicy._resources import bundled_policies
    from gspolicy.pack.workspace import choose
    from gspolicy.serve.app import create_app
    from gspolicy.serve.state import Holder, Loaded

    holder = Holder(choose([bundled_policies()]), Loaded.of(shared_policies().policy_set))
    with running(create_app(holder, validate_cpu=VALIDATE_CPU)) as client:
        yield client
