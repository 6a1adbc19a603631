"""``gspolicy serve``: the decision service on HTTP (needs the ``serve`` extra; docs/how-to/serve.md)."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import POLICIES
from gspolicy.cli._support import (
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    Parsed,
    WholeNumber,
    command,
    option,
    print_problems,
)
from gspolicy.errors import Diagnostic, render_diagnostics

__all__ = ["serve"]

_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}


def _size(text: str) -> int | Text:
    found = re.fullmatch(r"\s*(\d{1,12})\s*([a-zA-Z]*)\s*", text)
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in _UNITS:
        return Text(
            zh=f"`{text[:40]}` 不是大小：请写字节数或如 `8MiB`、`512KiB`",
            en=f"`{text[:40]}` is not a size: give bytes, or e.g. `8MiB`, `512KiB`",
        )
    size = int(found.group(1)) * _UNITS[unit]
    if not 1024 <= size <= 1024**3:
        return Text(zh="大小应在 1KiB 至 1GiB 之间", en="the size must be from 1KiB to 1GiB")
    return size


@command(
    "serve",
    help=Text(
        zh="以 HTTP 提供判定服务：判定、解释、村县判定、政策包列表与检查（需 serve 扩展）。"
        "政策集只加载一次，收到 SIGHUP 时整体替换；每个应答都注明所用政策集的内容哈希。",
        en="Serve decisions over HTTP: decide, explain, areas, the packs and pack checks (needs the "
        "serve extra). The policy set is loaded once and swapped whole on SIGHUP; every answer names "
        "the content hashes it used.",
    ),
    short=Text(
        zh="以 HTTP 提供判定服务（需 serve 扩展）", en="serve decisions over HTTP (needs the serve extra)"
    ),
)
@POLICIES
@option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=Text(zh="监听地址（默认只监听本机）", en="the address to listen on (default: this machine only)"),
)
@option(
    "--port",
    type=WholeNumber(0, 65535),
    default=8000,
    show_default=True,
    help=Text(
        zh="监听端口；0 表示任选空闲端口（启动时写明）",
        en="the port; 0 picks a free one (named when it starts)",
    ),
)
@option(
    "--token-file",
    type=PATH,
    default=None,
    help=Text(
        zh="持有者令牌文件：给出后每个请求都须带 `Authorization: Bearer 令牌`",
        en="a file holding a bearer token: every request must then send `Authorization: Bearer TOKEN`",
    ),
)
@option(
    "--cors-origin",
    multiple=True,
    metavar="ORIGIN",
    help=Text(
        zh="允许跨域访问的浏览器来源，如 https://app.example（可重复；默认不允许）",
        en="a browser origin allowed cross-origin access, e.g. https://app.example (repeatable; default: none)",
    ),
)
@option(
    "--max-body",
    type=Parsed("SIZE", _size),
    default="8MiB",
    show_default=True,
    help=Text(zh="请求体的最大字节数（如 8MiB）", en="the largest request body (e.g. 8MiB)"),
)
@option(
    "--validate-cpu",
    type=WholeNumber(1, 600),
    default=10,
    show_default=True,
    help=Text(
        zh="检查一个政策包（/v1/validate）最多可用的 CPU 秒数",
        en="the CPU-seconds checking one pack (/v1/validate) may take",
    ),
)
def serve(args: argparse.Namespace, lang: Lang) -> int:
    """Serve decisions over HTTP until interrupted."""
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        print_problems([Diagnostic("serve/needs-extra", None)], lang, sys.stderr)
        return EXIT_PROBLEMS
    token: str | None = None
    if args.token_file is not None:
        found = _token(args.token_file)
        if isinstance(found, Diagnostic):
            print_problems([found], lang, sys.stderr)
            return EXIT_PROBLEMS
        token = found
    from gspolicy.serve.run import bind  # noqa: PLC0415  # FastAPI only when serving
    from gspolicy.serve.run import serve as run  # noqa: PLC0415
    from gspolicy.serve.state import Holder  # noqa: PLC0415

    holder, problems = Holder.load(args.policies)
    if holder is None:
        sys.stderr.write(render_diagnostics(problems, lang) + "\n")
        return EXIT_PROBLEMS
    sys.stderr.write(holder.choice.describe(holder.current().set_hash, differs=None, lang=lang) + "\n")
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        reason = err.strerror or str(err)
        problem = Diagnostic(
            "serve/cannot-bind", None, {"host": args.host, "port": args.port, "reason": reason}
        )
        print_problems([problem], lang, sys.stderr)
        return EXIT_PROBLEMS
    run(
        holder,
        sock=sock,
        lang=lang,
        token=token,
        cors_origins=args.cors_origin or (),
        max_body=args.max_body,
        validate_cpu=args.validate_cpu,
    )
    return EXIT_OK


def _token(path: Path) -> str | Diagnostic:
    def bad(zh: str, en: str) -> Diagnostic:
        return Diagnostic("serve/bad-token-file", None, {"path": str(path), "problem": Text(zh=zh, en=en)})

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return bad("不存在", "does not exist")
    except (OSError, UnicodeDecodeError):
        return bad("无法读取为 UTF-8 文本", "cannot be read as UTF-8 text")
    token = text.strip()
    if len(token) < 16 or any(c.isspace() for c in token):
        return bad(
            "应只含一个至少 16 个字符、不含空白的令牌",
            "must hold one token of at least 16 characters and no spaces",
        )
    return token
