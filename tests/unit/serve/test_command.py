"""`gspolicy serve` refuses to start, with a located reason in zh or en and exit 1, when its token
file or its address will not do — before a port is opened to anyone."""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy.cli import main
from unit.serve._server import needs_serve_extra


@pytest.mark.parametrize(
    ("content", "lang", "expected"),
    [
        (None, "en", "the token file `{path}` does not exist"),
        ("short", "en", "must hold one token of at least 16 characters and no spaces"),
        ("two tokens-0123456789", "zh", "应只含一个至少 16 个字符、不含空白的令牌"),
    ],
)
def test_a_bad_token_file_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, lang: str, expected: str
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content, "utf-8")
    assert main(["--lang", lang, "serve", "--token-file", str(path), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "serve/bad-token-file" in err
    assert expected.format(path=path) in err


def test_an_address_in_use_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_serve_extra()
    from gspolicy.serve.run import bind

    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        assert main(["--lang", "en", "serve", "--port", str(port)]) == 1
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert f"serve/cannot-bind: cannot listen on 127.0.0.1:{port}" in err
    assert "choose another port with `--port`" in err


def test_the_size_of_a_body_is_read_with_its_unit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "serve", "--max-body", "8 parsecs"]) == 2
    assert "`8 parsecs` is not a size" in capsys.readouterr().err
