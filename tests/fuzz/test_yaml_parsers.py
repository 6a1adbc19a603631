"""libyaml and PyYAML's pure-Python parser give the same tree with the same spans.

`load_yaml` parses with libyaml when PyYAML has it and with the pure-Python parser otherwise; a
pack, a case file or a record file must read the same either way: the same nodes, values, texts,
styles, tags and spans (so every diagnostic points at the same place), and the same diagnostics.
Checked on every YAML file of the repository and on generated documents with Chinese text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy._location import Source
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml

REPO = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(
    p
    for folder in ("policies", "tests", "examples", "docs")
    for p in (REPO / folder).rglob("*.y*ml")
    if p.suffix in (".yaml", ".yml")
)

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")


def dump(node: YNode | None) -> object:
    """Everything a reader of the tree can see, spans included."""
    if node is None:
        return None
    where: tuple[int, int] | None = (node.span.start, node.span.end)
    if isinstance(node, YScalar) and node.text == "" and node.style is None and "? " in node.span.source.text:
        # an empty key after `?` in a flow collection stands at the `?` for one parser and after
        # it for the other: the only place the two put an empty value differently
        where = None
    if isinstance(node, YScalar):
        return ("scalar", where, repr(node.value), node.text, node.style, node.tag)
    if isinstance(node, YSeq):
        return ("seq", where, [dump(i) for i in node.items])
    assert isinstance(node, YMap)
    return (
        "map",
        where,
        [(dump(k), dump(v)) for k, v in node.items],
        [dump(k) for k in node.duplicates],
    )


def both(text: str) -> tuple[object, object]:
    out = []
    for parser in ("python", "c"):
        tree, diagnostics = load_yaml(Source("t.yaml", text), parser=parser)
        out.append((dump(tree), [d.render("en") for d in diagnostics]))
    return out[0], out[1]


def test_there_are_yaml_files_to_compare() -> None:
    assert len(YAML_FILES) > 50


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_of_the_repository_reads_the_same(path: Path) -> None:
    python, c = both(path.read_text(encoding="utf-8-sig").replace("\r\n", "\n"))
    assert python == c


KEYS = st.sampled_from(["a", "名称", "收入", "b_c", "县", "x1"])
PLAIN = st.sampled_from(
    ["1", "0.5", "3500", "2018-09-30", "是", "true", "~", "贫困户", "income >= 3500", "a b", "退出 验收"]
)
TEXT = st.text(alphabet=st.sampled_from("abc 县乡村户人口收入，。:-#'\"\\é😀\n"), max_size=12)


def scalar(text: str, style: str) -> str:
    if style == "single":
        return "'" + text.replace("'", "''").replace("\n", "\n\n") + "'"
    if style == "double":
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped + '"'
    return text


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """A block mapping of scalars, flow lists, literal and folded blocks and nested mappings."""
    lines: list[str] = []
    indent = "  " * depth
    for key in draw(st.lists(KEYS, min_size=1, max_size=5, unique=True)):
        kind = draw(st.sampled_from(["plain", "single", "double", "flow", "literal", "folded", "nested"]))
        if kind == "plain":
            lines.append(f"{indent}{key}: {draw(PLAIN)}")
        elif kind in ("single", "double"):
            lines.append(f"{indent}{key}: {scalar(draw(TEXT), kind)}")
        elif kind == "flow":
            items = draw(st.lists(PLAIN | TEXT.map(lambda t: scalar(t, "double")), max_size=4))
            lines.append(f"{indent}{key}: [{', '.join(items)}]")
        elif kind in ("literal", "folded"):
            body = draw(st.lists(st.sampled_from(["收入 >= 3500", "and 县 == 1", "", "x  y"]), min_size=1))
            lines.append(f"{indent}{key}: {'|' if kind == 'literal' else '>'}")
            lines.extend(f"{indent}  {b}" if b else "" for b in body)
        elif depth < 3:
            lines.append(f"{indent}{key}:")
            lines.append(draw(documents(depth + 1)))
        else:
            lines.append(f"{indent}{key}: {draw(PLAIN)}")
    return "\n".join(lines) + ("\n" if depth == 0 else "")


@given(documents())
def test_generated_documents_read_the_same(text: str) -> None:
    python, c = both(text)
    assert python == c


DAMAGE = st.sampled_from(["", ":", "- ", "\t", "'", '"', "县", "[", "]", "&a ", "*a", "#", "? ", "{", "|"])


@settings(max_examples=300)
@given(documents(), st.lists(st.tuples(st.integers(0, 10_000), DAMAGE), min_size=1, max_size=3))
def test_damaged_documents_read_the_same_where_both_parsers_read_them(
    text: str, edits: list[tuple[int, str]]
) -> None:
    for position, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    python, c = both(text)
    if python[0] is not None and c[0] is not None:
        assert python == c
    # the parsers differ in what they accept only in broken corners of YAML (a tab between a key
    # and its colon, `[1:]`, `|#`); where one refuses, it says where
    for tree, diagnostics in (python, c):
        assert tree is not None or diagnostics
