"""Ways to break inputs: random texts, text edits of valid documents, structural edits of their data."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

YAML_BITS = st.sampled_from(
    [
        ":", "- ", "  ", "\n", "\t", "&a ", "*a", "!!python/object:os.system ", "!!set ", "!x ",
        "? ", "{", "}", "[", "]", ",", "'", '"', "|", ">", "#", "---\n", "...\n", "%YAML 1.1\n",
        "\\", "0.1", "2018-02-30", "~", "县", "\ufeff", "<<: *a", "1e3", ".inf", "\ud800", "\x00",
        "0x" + "f" * 50, "1" * 45, "!!timestamp x", "!!int ''", "__import__('os')", "eval(", "lambda: 1",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(YAML_BITS, st.text(max_size=5)), max_size=40).map("".join),
)


@st.composite
def mutated_text(draw: st.DrawFn, base: str) -> str:
    """`base` with a few random edits: deletions, insertions, duplicated or swapped lines."""
    text = base
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "indent"]))
        lines = text.split("\n")
        if kind == "delete" and text:
            start = draw(st.integers(0, len(text) - 1))
            text = text[:start] + text[start + draw(st.integers(1, 12)) :]
        elif kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.one_of(YAML_BITS, st.text(max_size=4))) + text[at:]
        elif kind == "duplicate":
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif kind == "swap" and len(lines) > 1:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "indent":
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[i].lstrip(" ")
            text = "\n".join(lines)
    return text


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**45), 10**45),
    st.sampled_from(["", " ", "县", "2018-02-30", "2018-12-31", "1e999", "x" * 300, "\x00", "NaN", "3500"]),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["value", "source", "zh", "en", "id"]), st.integers(0, 5), max_size=2),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_data(draw: st.DrawFn, base: Any) -> Any:
    """`base` (plain data) with one to three structural edits: a value replaced by an odd one, a
    key removed, renamed or added, a list item duplicated or removed, a mapping made a list."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            return draw(ODD_VALUES)
        path = draw(st.sampled_from(paths))
        parent, last = _parent(data, path), path[-1]
        kind = draw(st.sampled_from(["replace", "remove", "rename", "add", "duplicate", "wrap"]))
        if kind == "replace":
            parent[last] = draw(ODD_VALUES)
        elif kind == "remove":
            del parent[last]
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "titel", "valid_form", "require", "当前"]))] = parent.pop(last)
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "note", "values", "cite", "given"]))] = draw(ODD_VALUES)
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif kind == "wrap":
            parent[last] = [parent[last]]
    return data
