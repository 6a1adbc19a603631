"""Reading what the command line writes: the policy-set line every run starts stderr with."""

from __future__ import annotations

import re

__all__ = ["HEADER", "split_header"]

HEADER = re.compile(
    r"^(policy set: .+ \(.+\) (sha256:[0-9a-f]{12}|\?)|政策集：.+（.+）(sha256:[0-9a-f]{12}|\?))$"
)


def split_header(err: str) -> tuple[str, str]:
    """The first line of `err` (which must name the policy set) and the rest (a warning that the
    local set differs from the bundled one is part of the header)."""
    lines = err.splitlines(keepends=True)
    assert lines, "the run wrote no policy-set line"
    first = lines[0].rstrip("\n")
    assert HEADER.match(first), f"not a policy-set line: {first!r}"
    rest = lines[1:]
    if rest and (
        rest[0].startswith("warning: the local policy set") or rest[0].startswith("警告：当前文件夹")
    ):
        rest = rest[1:]
    return first, "".join(rest)
