"""`gspolicy fmt` changes the layout, never the policy: every bundled pack and case file reads the
same before and after, `fmt` is idempotent, and variations of a file — keys shuffled, flow and
block swapped, indentation changed, comments added — format to the same canonical text."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy._location import Source
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.api import Policies
from gspolicy.pack import fmt, fmt_notes
from gspolicy.pack.hash import canonical
from gspolicy.pack.load import check_texts
from gspolicy.testing.cases import cases_from_source

REPO = Path(__file__).resolve().parents[2]
FILES = tuple(sorted(p.relative_to(REPO) for p in (REPO / "policies").rglob("*.yaml")))
PACKS = tuple(p for p in FILES if "tests" not in p.parts and p.parts[1] != "schema")
CASES = tuple(p for p in FILES if "tests" in p.parts)


@cache
def original(path: Path) -> str:
    return (REPO / path).read_text(encoding="utf-8")


@cache
def formatted(path: Path) -> str:
    return fmt.format_text(original(path), path=path)


def plain(node: YNode | None) -> Any:
    if isinstance(node, YMap):
        return {k.value: plain(v) for k, v in node.items}
    if isinstance(node, YSeq):
        return [plain(item) for item in node.items]
    assert isinstance(node, YScalar)
    return (node.value, type(node.value).__name__)


def data(text: str, name: str) -> Any:
    tree, problems = load_yaml(Source(name, text))
    assert not [d for d in problems if d.is_error]
    return plain(tree)


def read_packs(items: list[tuple[str, str]], bundled: Policies) -> dict[tuple[str, str], object]:
    checked, problems = check_texts(items, bundled.policy_set.schema)
    assert checked is not None, [d.render() for d in problems if d.is_error]
    return {(p.id, str(p.pack.version)): canonical(p.pack) for p in checked}


def read_cases(text: str, name: str, bundled: Policies) -> list[object]:
    cases, problems = cases_from_source(Source(name, text), bundled.policy_set)
    assert not [d for d in problems if d.is_error]
    return list(cases)


# --- every bundled file ------------------------------------------------------------------------
#
# Each file is also written in another layout (`elsewhere`: four spaces, every collection a block,
# the known keys of every nested mapping in reverse order, comments kept), so that the properties
# say something about `fmt` whether or not the bundled files are already in the canonical layout.


@cache
def elsewhere(path: Path) -> str:
    writer = partial(fmt._Writer, step=4, flow=False, reverse=True)
    text, problems = fmt._layout(Source(str(path), original(path)), writer)
    assert text is not None, problems
    return text


@pytest.mark.slow  # every bundled pack checked twice: full suite
def test_every_bundled_pack_is_the_same_pack_in_any_layout(bundled: Policies) -> None:
    before = {(p.id, str(p.pack.version)): canonical(p.pack) for p in bundled.policy_set.packs}
    assert read_packs([(str(p), elsewhere(p)) for p in PACKS], bundled) == before
    if any(formatted(p) != original(p) for p in PACKS):  # the canonical text, where it differs
        assert read_packs([(str(p), formatted(p)) for p in PACKS], bundled) == before


@pytest.mark.parametrize("path", CASES, ids=str)
def test_every_bundled_case_file_is_the_same_cases_in_any_layout(path: Path, bundled: Policies) -> None:
    cases = read_cases(original(path), str(path), bundled)
    assert read_cases(elsewhere(path), str(path), bundled) == cases
    if formatted(path) != original(path):
        assert read_cases(formatted(path), str(path), bundled) == cases


def test_the_schema_holds_the_same_data_in_any_layout() -> None:
    path = Path("policies/schema/household.yaml")
    want = data(original(path), str(path))
    assert data(elsewhere(path), str(path)) == want
    assert data(formatted(path), str(path)) == want


@pytest.mark.parametrize("path", FILES, ids=str)
def test_every_bundled_file_formats_to_one_text_from_another_layout(path: Path) -> None:
    assert elsewhere(path) != original(path)
    assert fmt.format_text(elsewhere(path), path=path) == formatted(path)
    assert sorted(_comments(formatted(path))) == sorted(_comments(original(path)))
    assert sorted(_comments(elsewhere(path))) == sorted(_comments(original(path)))


def _comments(text: str) -> list[str]:
    """The comments of a bundled file (none of them has a `#` inside a text before it)."""
    out = []
    for line in text.splitlines():
        at = line.find(" #") + 1 if not line.lstrip().startswith("#") else line.find("#")
        if at > 0 or line.lstrip().startswith("#"):
            out.append(line[at:].rstrip())
    return out


# --- variations --------------------------------------------------------------------------------


def _flowable(node: YNode) -> bool:
    if isinstance(node, YScalar):
        raw = fmt_notes.strip_props(node.span.text)
        return (
            bool(raw) and "\n" not in raw and (node.style is not None or not any(c in raw for c in ",[]{}"))
        )
    if isinstance(node, YMap):
        return all(_flowable(k) and _flowable(v) for k, v in node.items)
    assert isinstance(node, YSeq)
    return all(_flowable(item) for item in node.items)


class Scrambler:
    """Write a file's data again with the layout chosen by `rnd`: known keys shuffled among the
    others (whose relative order is kept), each collection flow or block where YAML allows, any
    indentation.  Without `rnd`: block style, keys as read, two spaces."""

    def __init__(self, text: str, name: str, rnd: random.Random | None) -> None:
        self.source = Source(name, text)
        tree, _ = load_yaml(self.source)
        assert tree is not None
        self.tree = tree
        self.spec = fmt._spec_for(tree, name)
        self.rnd = rnd
        self.step = rnd.choice([2, 3, 4]) if rnd else 2
        self.writer = fmt._Writer(self.source, fmt_notes.Notes())

    def text(self) -> str:
        assert self.spec is not None
        return "\n".join(self.block(self.tree, self.spec, 0)) + "\n"

    def order(self, node: YMap, spec: Any) -> list[tuple[YScalar, YNode]]:
        items = list(node.items)
        if self.rnd is None:
            return items
        known = [kv for kv in items if kv[0].value in spec.order]
        other = [kv for kv in items if kv[0].value not in spec.order]
        self.rnd.shuffle(known)
        out = []
        while known or other:
            pick = known if (known and (not other or self.rnd.random() < 0.5)) else other
            out.append(pick.pop(0))
        return out

    def flow_text(self, node: YNode, spec: Any) -> str:
        if isinstance(node, YScalar):
            return fmt_notes.strip_props(node.span.text)
        if isinstance(node, YMap):
            inner = [
                f"{self.flow_text(k, fmt._GENERIC)}: {self.flow_text(v, fmt._child(spec, k))}"
                for k, v in self.order(node, spec)
            ]
            return "{" + ", ".join(inner) + "}"
        assert isinstance(node, YSeq)
        return "[" + ", ".join(self.flow_text(i, fmt._item(spec)) for i in node.items) + "]"

    def value(self, head: str, node: YNode, spec: Any, indent: int) -> list[str]:
        if isinstance(node, YScalar):
            lines = self.writer.scalar_lines(node, indent)
            return [f"{head} {lines[0]}".rstrip(), *lines[1:]]
        empty = not node.items if isinstance(node, YMap | YSeq) else False
        if empty or (self.rnd is not None and _flowable(node) and self.rnd.random() < 0.5):
            return [f"{head} {self.flow_text(node, spec)}"]
        child = indent + self.step
        body = self.block(node, spec, child)
        if head.lstrip() == "-":
            return [" " * indent + "-" + body[0][indent + 1 :], *body[1:]]
        if isinstance(node, YSeq) and self.rnd is not None and self.rnd.random() < 0.5:
            body = self.block(node, spec, indent)  # a list at its key's indentation
        return [head, *body]

    def block(self, node: YNode, spec: Any, indent: int) -> list[str]:
        pad = " " * indent
        out: list[str] = []
        if isinstance(node, YMap):
            for key, value in self.order(node, spec):
                out.extend(
                    self.value(
                        pad + self.flow_text(key, fmt._GENERIC) + ":", value, fmt._child(spec, key), indent
                    )
                )
        else:
            assert isinstance(node, YSeq)
            for item in node.items:
                out.extend(self.value(pad + "-", item, fmt._item(spec), indent))
        return out


@cache
def canonical_without_comments(path: Path) -> str:
    return fmt.format_text(Scrambler(formatted(path), str(path), None).text(), path=path)


FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(path=st.sampled_from(FILES), seed=st.integers(0, 2**32 - 1))
def test_any_layout_of_a_file_formats_to_the_one_canonical_text(path: Path, seed: int) -> None:
    variant = Scrambler(formatted(path), str(path), random.Random(seed)).text()
    assert data(variant, str(path)) == data(canonical_without_comments(path), str(path))
    out = fmt.format_text(variant, path=path)
    assert out == canonical_without_comments(path)
    assert fmt.format_text(out, path=path) == out


@FAST
@given(path=st.sampled_from(PACKS), seed=st.integers(0, 2**32 - 1))
def test_a_shuffled_pack_reads_as_the_same_pack(path: Path, seed: int, bundled: Policies) -> None:
    variant = Scrambler(formatted(path), str(path), random.Random(seed)).text()
    providers = [(str(p), formatted(p)) for p in PACKS if p.parts[1] == "parameters" and p != path]
    items = [(str(path), variant), *providers]
    want = read_packs([(str(path), formatted(path)), *providers], bundled)
    assert read_packs(items, bundled) == want


def _entry_lines(text: str, name: str) -> tuple[list[int], set[int]]:
    """The lines where an entry starts (a comment may go above them), and those of them a comment
    may end (no scalar on them runs on to the next line)."""
    source = Source(name, text)
    tree, _ = load_yaml(source)
    assert tree is not None
    starts: set[int] = set()
    running: set[int] = set()
    stack: list[YNode] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            for k, v in node.items:
                starts.add(source.line_col(k.span.start)[0])
                stack.append(v)
        elif isinstance(node, YSeq):
            for item in node.items:
                starts.add(source.line_col(item.span.start)[0])
                stack.append(item)
        first, last = source.line_col(node.span.start)[0], source.line_col(max(node.span.end - 1, 0))[0]
        if isinstance(node, YScalar) and last > first:
            running.add(first)
    return sorted(starts), starts - running


comments_at: Callable[..., Any] = st.lists(
    st.tuples(st.booleans(), st.integers(0, 10_000)), min_size=1, max_size=6
)


@FAST
@given(path=st.sampled_from(FILES), where=comments_at)
def test_added_comments_are_kept_once_and_change_no_value(path: Path, where: list[tuple[bool, int]]) -> None:
    text = formatted(path)
    starts, endable = _entry_lines(text, str(path))
    lines = text.split("\n")
    added = []
    for n, (own_line, pick) in enumerate(where):
        line = starts[pick % len(starts)]
        if own_line:
            comment = f"# added {n}"
            indent = len(lines[line - 1]) - len(lines[line - 1].lstrip(" -"))
            lines[line - 1] = " " * indent + comment + "\n" + lines[line - 1]
        elif line in endable and "#" not in lines[line - 1]:
            comment = f"# added {n}"
            lines[line - 1] += "  " + comment
        else:
            continue
        added.append(comment)
    variant = "\n".join(lines)
    out = fmt.format_text(variant, path=path)
    for comment in added:
        assert out.count(comment) == 1, comment
    assert data(out, str(path)) == data(text, str(path))
    assert fmt.format_text(out, path=path) == out
