"""Running the service: a socket bound, uvicorn started, SIGHUP reloading the policy set.

`serve` is what ``gspolicy serve`` calls.  It binds the socket itself (port 0 picks a free one,
named on the first line it prints), turns uvicorn's own access log off (`gspolicy.serve.app`
logs each request without its data) and reloads the policy set on SIGHUP in a thread, so that
requests go on being answered with the old set until the new one is swapped in whole.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

import uvicorn

from gspolicy._i18n import Lang
from gspolicy.errors import Diagnostic, render_diagnostics
from gspolicy.serve.app import MAX_BODY, create_app
from gspolicy.serve.state import Holder

__all__ = ["bind", "reload_logged", "serve"]

_log = logging.getLogger("gspolicy.serve")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def reload_logged(holder: Holder, lang: Lang) -> bool:
    """Reload the set (`Holder.reload`) and log the outcome: the new content hash, or the
    located problems and the hash of the set kept.  True when the new set is in use."""
    before = holder.current().set_hash
    loaded, problems = holder.reload()
    errors = [d for d in problems if d.is_error]
    if errors:
        roots = ", ".join(str(r) for r in holder.choice.roots)
        kept = Diagnostic("serve/reload-failed", None, {"roots": roots, "kept": before})
        _log.error("%s\n%s", render_diagnostics(errors, lang), kept.render(lang))
        return False
    _log.info(
        "policy set reloaded: %s (was %s), %d pack versions", loaded.set_hash, before, len(loaded.hashes)
    )
    return True


def _configure_logging(out: TextIO) -> None:
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("gspolicy.serve", "uvicorn"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(
    holder: Holder,
    *,
    sock: socket.socket,
    lang: Lang = "en",
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    max_body: int = MAX_BODY,
    validate_cpu: float = 10,
    out: TextIO = sys.stderr,
) -> None:
    """Serve `holder`'s set on the listening socket `sock` (`bind`) until interrupted (SIGINT or
    SIGTERM)."""
    _configure_logging(out)
    app = create_app(
        holder,
        lang=lang,
        token=token,
        cors_origins=cors_origins,
        max_body=max_body,
        validate_cpu=validate_cpu,
    )
    host = sock.getsockname()[0]
    shown_host = f"[{host}]" if ":" in host else host
    address = f"http://{shown_host}:{sock.getsockname()[1]}"
    out.write(
        f"正在服务 {address}，政策集 {holder.current().set_hash}\n"
        if lang == "zh"
        else f"serving {address} with policy set {holder.current().set_hash}\n"
    )
    out.flush()

    def reload_on_signal(_signum: int, _frame: object) -> None:
        threading.Thread(
            target=reload_logged, args=(holder, lang), name="gspolicy-reload", daemon=True
        ).start()

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload_on_signal)
    config = uvicorn.Config(
        app,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[sock])
