"""The decision service's guards, around every request: the bearer token (when one is set) and
the access log, which names method, path, status, size and time — never a query or a body —
and adds the policy-set header to answers that lack it."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable

from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gspolicy.serve.state import Loaded

__all__ = ["HASH_HEADER", "AccessLog", "Bearer"]

HASH_HEADER = "Gspolicy-Policy-Set"
"""The answer header naming the content hash of the policy set that answered."""

_access = logging.getLogger("gspolicy.serve.access")


class Bearer:
    """Refuses (401) every request without ``Authorization: Bearer TOKEN`` when a token is set;
    the token is compared in constant time.  The playground's page and its static files
    (``GET /playground/…``: they carry no data) are open, so that a browser can load the page,
    which then sends the token with every request to the API."""

    def __init__(self, app: ASGIApp, *, token: str, answer: Callable[[Scope], Response]) -> None:
        self.app = app
        self.token = token.encode("utf-8")
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in ("GET", "HEAD")
            and (scope["path"] == "/playground" or scope["path"].startswith("/playground/"))
        ):
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, rest = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = rest.strip()
        if hmac.compare_digest(given, self.token):
            await self.app(scope, receive, send)
            return
        await self.answer(scope)(scope, receive, send)


class AccessLog:
    """One log line per request — method, path, status, size, time — and never the query or the
    body (records are personal data); adds the policy-set header to answers that lack it."""

    def __init__(self, app: ASGIApp, *, current: Callable[[], Loaded]) -> None:
        self.app = app
        self.current = current

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        size = 0

        async def sending(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if HASH_HEADER.lower() not in headers:
                    headers[HASH_HEADER] = self.current().set_hash
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _access.info(
                "%s %s %d %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                size,
                (time.perf_counter() - started) * 1000,
            )
