"""A real server on loopback for the API tests: uvicorn in a thread of the test process, on a free
port, and a small HTTP client of the standard library speaking to it.

Without the ``serve`` extra (FastAPI, uvicorn) the tests are skipped, except under CI
(``CI=true``), where they fail: the ``test`` extra installs them."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pytest


def needs_serve_extra() -> None:
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}:
            pytest.fail("CI needs the serve extra (FastAPI, uvicorn): the test extra installs them")
        pytest.skip("needs the serve extra (pip install -e '.[serve]')")


@attrs.frozen
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.frozen
class Client:
    host: str
    port: int

    def call(
        self,
        method: str,
        path: str,
        body: bytes | str | object | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body, ensure_ascii=False)
        data = body.encode("utf-8") if isinstance(body, str) else body
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=dict(headers or {}))
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def post(self, path: str, body: object, **headers: str) -> Answer:
        return self.call("POST", path, body, {k.replace("_", "-"): v for k, v in headers.items()})

    def get(self, path: str, **headers: str) -> Answer:
        return self.call("GET", path, None, {k.replace("_", "-"): v for k, v in headers.items()})


@contextlib.contextmanager
def running(app: Any) -> Iterator[Client]:
    """Serve `app` on a free loopback port in a thread until the block ends."""
    import uvicorn

    from gspolicy.serve.run import bind

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(app, access_log=False, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield Client("127.0.0.1", sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
