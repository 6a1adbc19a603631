"""A real server on loopback for the playground's tests: uvicorn in a thread of the test process,
serving an app that mounts `playground_router` over the bundled policy set (shared, loaded once)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import uvicorn
from fastapi import FastAPI

from gspolicy.pack.policy_set import PolicySet
from gspolicy.serve.playground import playground_router

from support.bundled import shared_policies

EXIT_PACK = "exit_criteria.household"
THRESHOLD = "require: stable_income > exit_income_line"
RAISED = THRESHOLD + " + 2000"  # the income standard raised by 2,000 yuan


@attrs.frozen
class Served:
    """The shape of the server's `Loaded` that the playground reads: the set and its hashes."""

    policy_set: PolicySet
    hashes: Mapping[str, str]


@attrs.frozen
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.frozen
class Server:
    base: str

    def get(self, path: str, *, lang: str = "en") -> Reply:
        return self._send(urllib.request.Request(self.base + path, headers={"Accept-Language": lang}))

    def post(self, path: str, body: object = None, *, raw: bytes | None = None, lang: str = "en") -> Reply:
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept-Language": lang}
        return self._send(urllib.request.Request(self.base + path, data=data, headers=headers))

    @staticmethod
    def _send(request: urllib.request.Request) -> Reply:
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return Reply(reply.status, reply.read(), dict(reply.headers))
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.read(), dict(error.headers))


@contextmanager
def playground_server() -> Iterator[Server]:
    """Serve the playground on a free loopback port until the block ends."""
    policy_set = shared_policies().policy_set
    served = Served(policy_set, {p.key: p.content_hash for p in policy_set.packs})
    app = FastAPI()
    app.include_router(playground_router(lambda: served))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.01)
        try:
            yield Server(f"http://127.0.0.1:{port}")
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def bundled_text(pack_id: str = EXIT_PACK) -> str:
    """The text of the newest bundled version of a pack."""
    return shared_policies().policy_set.versions(pack_id)[-1].pack.source.text
