"""Safe YAML with positions: values, spans inside scalars, duplicate keys, tags, limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gspolicy._location import Source
from gspolicy._yaml import Limits, YMap, YScalar, YSeq, describe, load_yaml, walk
from gspolicy.errors import Diagnostic


def load(text: str, limits: Limits | None = None) -> tuple[object, list[Diagnostic]]:
    source = Source("t.yaml", text)
    return load_yaml(source) if limits is None else load_yaml(source, limits)


def tree(text: str) -> YMap:
    node, diagnostics = load(text)
    assert diagnostics == []
    assert isinstance(node, YMap)
    return node


def scalar(text: str, key: str = "e") -> YScalar:
    node = tree(text).get(key)
    assert isinstance(node, YScalar)
    return node


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, [d.render() for d in diagnostics]
    return diagnostics[0]


def mapped(node: YScalar, needle: str) -> str:
    """The file text that characters `needle` of the scalar's value map to."""
    start = node.text.index(needle)
    span = node.value_span(start, start + len(needle))
    return span.text


def position(node: YScalar, index: int) -> tuple[int, int]:
    span = node.value_span(index, index + 1)
    return span.line, span.col


# -- values ---------------------------------------------------------------------------------------


def test_floats_are_decimals() -> None:
    doc = tree("a: 0.1\nb: -2.50\nc: 1_000.5\nd: 3\n")
    values = {k.value: v.value for k, v in doc.items}  # type: ignore[attr-defined]
    assert values == {"a": Decimal("0.1"), "b": Decimal("-2.50"), "c": Decimal("1000.5"), "d": 3}
    assert isinstance(values["a"], Decimal)
    assert not any(isinstance(v, float) for v in values.values())


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", ".NaN"])
def test_infinities_and_nan_stay_text(text: str) -> None:
    assert scalar(f"e: {text}\n").value == text


def test_dates_and_timestamps() -> None:
    doc = tree("d: 2018-09-30\nt: 2018-09-30 10:30:00\nq: '2018-09-30'\n")
    assert doc.get("d").value == dt.date(2018, 9, 30)  # type: ignore[union-attr]
    assert doc.get("t").value == dt.datetime(2018, 9, 30, 10, 30)  # type: ignore[union-attr]
    assert doc.get("q").value == "2018-09-30"  # type: ignore[union-attr]


def test_plain_types() -> None:
    doc = tree("b: true\nn: ~\ni: 12\ns: 县\nq: '12'\n")
    assert doc.keys() == ["b", "n", "i", "s", "q"]
    assert [v.value for _, v in doc.items] == [True, None, 12, "县", "12"]  # type: ignore[attr-defined]
    quoted = doc.get("q")
    assert isinstance(quoted, YScalar)
    assert (quoted.style, quoted.text, quoted.tag) == ("'", "12", "tag:yaml.org,2002:str")


def test_invalid_date_stays_text() -> None:
    node = scalar("e: 2018-02-30\n")
    assert node.value == "2018-02-30"


def test_nodes_keep_spans() -> None:
    doc = tree("top:\n  list: [1, 二]\n  名称: 张三\n")
    inner = doc.get("top")
    assert isinstance(inner, YMap)
    items = inner.get("list")
    assert isinstance(items, YSeq)
    assert [(i.span.text, i.span.line, i.span.col) for i in items.items] == [("1", 2, 10), ("二", 2, 13)]
    key = inner.key_node("名称")
    assert key is not None
    assert (key.span.line, key.span.col, key.span.text) == (3, 3, "名称")
    assert inner.get("名称").span.header() == "t.yaml:3:7"  # type: ignore[union-attr]
    assert inner.get("missing") is None
    assert inner.key_node("missing") is None


def test_walk_visits_every_node_in_order() -> None:
    doc = tree("a: [1, 2]\nb: {c: 3}\n")
    texts = [n.span.text for n in walk(doc) if isinstance(n, YScalar)]
    assert texts == ["a", "1", "2", "b", "c", "3"]


def test_describe() -> None:
    doc = tree("m: {}\nl: []\nn: ~\nb: false\ni: 3\nd: 2018-01-01\ns: x\n")
    shown = {k.value: describe(v).en for k, v in doc.items}
    assert shown == {
        "m": "a mapping",
        "l": "a list",
        "n": "an empty value",
        "b": "the boolean `false`",
        "i": "the number `3`",
        "d": "the date `2018-01-01`",
        "s": "the text `x`",
    }
    assert describe(None).zh == "空"
    assert describe(doc.get("s")).zh == "文本 `x`"


# -- spans inside scalars -------------------------------------------------------------------------

LITERAL = "e: |\n  income >= 4000\n  and size > 2\n  and 县 == 1\n"


def test_literal_block_maps_exactly() -> None:
    node = scalar(LITERAL)
    assert node.style == "|"
    assert node.text == "income >= 4000\nand size > 2\nand 县 == 1\n"
    for index, char in enumerate(node.text):
        span = node.value_span(index, index + 1)
        assert span.text == char, (index, char)
    start = node.text.index("size > 2")
    span = node.value_span(start, start + len("size > 2"))
    assert (span.line, span.col, span.text) == (3, 7, "size > 2")
    assert mapped(node, "县 == 1") == "县 == 1"


def test_literal_block_maps_more_indented_lines_exactly() -> None:
    # the value is "a\n  b\n": its two spaces are the ones after the block's indentation
    node = scalar("e: |\n  a\n    b\n")
    assert node.text == "a\n  b\n"
    assert [position(node, i) for i in range(len(node.text))] == [
        (2, 3),
        (2, 4),
        (3, 3),
        (3, 4),
        (3, 5),
        (3, 6),
    ]


def test_literal_block_with_indicator_comment_and_blank_line() -> None:
    node = scalar("e: |-  # a comment\n    x = 1\n\n    y\n")
    assert node.text == "x = 1\n\ny"
    assert position(node, node.text.index("y")) == (4, 5)
    assert mapped(node, "x = 1") == "x = 1"


def test_folded_block_maps_characters_and_breaks() -> None:
    node = scalar("e: >\n  income >= 4000\n  and size > 2\n  and 县\n")
    assert node.text == "income >= 4000 and size > 2 and 县\n"
    assert mapped(node, "size > 2") == "size > 2"
    assert position(node, node.text.index("size")) == (3, 7)
    # the folded line break (a space in the value) maps to the line break it came from
    assert position(node, node.text.index(" and size")) == (2, 17)
    assert node.span.source.text[node.value_span(14, 15).start] == "\n"
    assert mapped(node, "县") == "县"


def test_plain_multiline_scalar() -> None:
    node = scalar("e: income >= 4000\n  and size > 2\n  and 县\n")
    assert node.style is None
    assert node.text == "income >= 4000 and size > 2 and 县"
    assert position(node, node.text.index("size")) == (2, 7)
    assert position(node, node.text.index("县")) == (3, 7)
    assert mapped(node, "4000 and") == "4000\n  and"


def test_single_quoted_scalar_with_doubled_quote() -> None:
    node = scalar("e: 'it''s 县 here'\n")
    assert node.text == "it's 县 here"
    assert position(node, node.text.index("县")) == (1, 11)
    assert mapped(node, "县 here") == "县 here"


def test_double_quoted_multiline_scalar() -> None:
    node = scalar('e: "one\n  two\n  three"\n')
    assert node.text == "one two three"
    assert position(node, node.text.index("two")) == (2, 3)
    assert mapped(node, "three") == "three"


def test_double_quoted_escape_maps_to_its_backslash() -> None:
    # e: "\x41A" is the value "AA": the first A comes from the escape at column 5, the second
    # is the letter at column 9 (the module doc: "an escape sequence maps to the backslash")
    node = scalar('e: "\\x41A"\n')
    assert node.text == "AA"
    assert [position(node, 0), position(node, 1)] == [(1, 5), (1, 9)]


def test_double_quoted_escaped_quote_maps_to_its_backslash() -> None:
    node = scalar('e: "say \\"hi\\" now"\n')
    assert node.text == 'say "hi" now'
    assert position(node, node.text.index('"')) == (1, 9)
    assert mapped(node, "now") == "now"


def test_value_span_is_clamped() -> None:
    node = scalar("e: abc\n")
    assert node.value_span(-5, 99).text == "abc"
    assert node.value_span(10, 20).text == "c"
    empty = scalar("e: ''\n")
    assert empty.value_span(0, 1) == empty.span


# -- duplicate keys, tags, complex keys ---------------------------------------------------------


def test_duplicate_key_reported_at_second_with_first_line() -> None:
    node, diagnostics = load("a: 1\nb: 2\n\na: 3\n")
    d = only(diagnostics)
    assert d.code == "yaml/duplicate-key"
    assert d.message() == "duplicate key `a` (first at line 1)"
    assert d.message("zh") == "重复的键 `a`（首次出现在第 1 行）"
    assert d.location.header() == "t.yaml:4:1"  # type: ignore[union-attr]
    assert isinstance(node, YMap)
    assert node.keys() == ["a", "b"]
    assert node.get("a").value == 1  # type: ignore[union-attr]  # the first entry is kept


def test_duplicate_keys_in_nested_flow_mapping() -> None:
    _, diagnostics = load("outer:\n  inner: {x: 1, y: 2, x: 3}\n")
    d = only(diagnostics)
    assert d.args == (("first_line", "2"), ("key", "x"))
    assert d.location.header() == "t.yaml:2:23"  # type: ignore[union-attr]


def test_keys_of_different_types_are_not_duplicates() -> None:
    node = tree("1: a\n'1': b\ntrue: c\n'true': d\n")
    assert len(node.items) == 4


@pytest.mark.parametrize(
    ("text", "tag", "col"),
    [
        ("a: !!python/object:os.system x\n", "!!python/object:os.system", 4),
        ("a: !!python/object/apply:os.system [ls]\n", "!!python/object/apply:os.system", 4),
        ("a: !!set {x: null}\n", "!!set", 4),
        ("a: !!binary aGVsbG8=\n", "!!binary", 4),
        ("a: !custom 1\n", "!custom", 4),
        ("!!omap [a: 1]\n", "!!omap", 1),
    ],
)
def test_tags_are_refused(text: str, tag: str, col: int) -> None:
    _, diagnostics = load(text)
    d = only(diagnostics)
    assert d.code == "yaml/tag"
    assert dict(d.args)["tag"] == tag
    assert d.location.col == col  # type: ignore[union-attr]
    assert d.help() == "remove the tag; only plain YAML values are read"


def test_plain_tags_are_allowed() -> None:
    node = tree("a: !!str 12\nb: !!int '7'\n")
    assert node.get("a").value == "12"  # type: ignore[union-attr]
    assert node.get("b").value == 7  # type: ignore[union-attr]


def test_complex_key() -> None:
    _, diagnostics = load("? [a, b]\n: 1\n")
    assert only(diagnostics).code == "yaml/complex-key"


# -- whole-file problems ----------------------------------------------------------------------


def test_multiple_documents() -> None:
    node, diagnostics = load("a: 1\n---\nb: 2\n")
    d = only(diagnostics)
    assert node is None
    assert d.code == "yaml/multiple-documents"
    assert d.location.header() == "t.yaml:2:1"  # type: ignore[union-attr]


def test_single_document_with_markers_is_fine() -> None:
    assert tree("---\na: 1\n...\n").keys() == ["a"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    node, diagnostics = load(text)
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/empty"
    assert d.message() == "the file is empty"


@pytest.mark.parametrize("parser", ["python", "c"])
@pytest.mark.parametrize(
    ("text", "line", "col", "problem", "zh"),
    [
        ("a: [1, 2\nb: 3\n", 2, 2, "expected `,` or `]`: a list `[…]` or mapping", "缺少 `,` 或 `]`"),
        ("a:\n  b: c\n   d: e\n", 3, 5, "a `key: value` pair is not allowed here", "此处不能出现"),
        ("a: 1\n\tb: 2\n", 2, 1, "a tab cannot indent YAML: indent with spaces", "不能用制表符缩进"),
        ("a: *nope\n", 1, 4, "the alias `*nope` names no anchor `&nope` before it", "别名 `*nope`"),
        ("a: &x 1\nb: &x 2\n", 2, 4, "the anchor `&x` is defined twice", "锚点 `&x` 定义了两次"),
        ('a: "\\q"\n', 1, 5, "unknown escape sequence in a double-quoted text", "未知的转义序列"),
        ("- a\nb: c\n", 2, 1, "this line does not fit the structure above it", "此行与上方的结构不符"),
    ],
)
def test_syntax_errors_are_located_in_one_wording_whichever_parser_runs(
    parser: str, text: str, line: int, col: int, problem: str, zh: str
) -> None:
    node, diagnostics = load_yaml(Source("t.yaml", text), parser=parser)
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/syntax"
    assert (d.location.line, d.location.col) == (line, col)  # type: ignore[union-attr]
    assert d.message().startswith(f"invalid YAML: {problem}")
    assert zh in d.message("zh")
    assert d.render().startswith(f"t.yaml:{line}:{col}: yaml/syntax: invalid YAML: ")
    assert "help: check the indentation" in d.render()


@pytest.mark.parametrize("parser", ["python", "c"])
@pytest.mark.parametrize(
    ("text", "col", "code"),
    [("a: b\x00c\n", 5, "U+0000"), ("a: '\ud800'\n", 5, "U+D800"), ("a: 县\x07\n", 5, "U+0007")],
)
def test_characters_yaml_forbids_are_refused_located(parser: str, text: str, col: int, code: str) -> None:
    node, diagnostics = load_yaml(Source("t.yaml", text), parser=parser)
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/bad-character"
    assert d.location.col == col  # type: ignore[union-attr]
    assert code in d.message()
    assert code in d.message("zh")


@pytest.mark.parametrize("parser", ["python", "c"])
@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!timestamp x\n", "!!timestamp"),
        ("a: !!bool x\n", "!!bool"),
        ('a: !!int ""\n', "!!int"),
        ("a: !!int x\n", "!!int"),
        ("a: !!float x\n", "!!float"),
        ("a: !!null x\n", "!!null"),
        ("a: !!timestamp 2018-02-30\n", "!!timestamp"),
        ("a: !!timestamp 0003-01-01 99:99:99\n", "!!timestamp"),
    ],
)
def test_a_tagged_value_that_does_not_fit_its_tag_is_located(parser: str, text: str, tag: str) -> None:
    node, diagnostics = load_yaml(Source("t.yaml", text), parser=parser)
    d = only(diagnostics)
    assert d.code == "yaml/bad-value"
    assert dict(d.args)["tag"] == tag
    assert d.location.header() == "t.yaml:1:4"  # type: ignore[union-attr]
    assert isinstance(node, YMap)


def test_too_large() -> None:
    node, diagnostics = load("a: 123456\n", Limits(max_chars=5))
    assert node is None
    d = only(diagnostics)
    assert d.code == "io/too-large"
    assert dict(d.args) == {"path": "t.yaml", "size": "10", "limit": "5"}


# -- limits ---------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_depth_limit() -> None:
    assert load(nested(64))[1] == []
    node, diagnostics = load(nested(65))
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/too-deep"
    assert d.location.col == 65  # type: ignore[union-attr]
    assert d.message() == "nesting deeper than 64 levels"


def test_depth_limit_counts_block_mappings() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(5)) + "  " * 5 + "v: 1\n"
    assert load(text, Limits(max_depth=6))[1] == []
    assert only(load(text, Limits(max_depth=5))[1]).code == "yaml/too-deep"


def test_alias_limit() -> None:
    text = "a: &a 1\n" + "".join(f"k{i}: *a\n" for i in range(11))
    assert load(text, Limits(max_aliases=11))[1] == []
    node, diagnostics = load(text, Limits(max_aliases=10))
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/too-many-aliases"
    assert d.location.header() == "t.yaml:12:6"  # type: ignore[union-attr]  # the eleventh alias


def test_aliases_within_limits_are_expanded() -> None:
    doc = tree("base: &b {x: 1}\ncopy: *b\n")
    copy = doc.get("copy")
    assert isinstance(copy, YMap)
    assert copy.get("x").value == 1  # type: ignore[union-attr]


def test_value_limit_counts_aliases_each_time() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    # 1 root + a (1 + 3) + b (1 + 3 * 4) = 18 values, and the keys count too
    assert load(text, Limits(max_values=30))[1] == []
    assert only(load(text, Limits(max_values=12))[1]).code == "yaml/too-many-nodes"


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def test_billion_laughs_is_refused_without_expanding() -> None:
    node, diagnostics = load(BILLION_LAUGHS)
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/too-many-nodes"
    assert dict(d.args) == {"limit": "2000000"}
    assert "aliases are counted each time they are used" in d.message()
    assert d.help() == "write the values out instead of repeating them through aliases"


def test_recursive_alias_is_refused() -> None:
    node, diagnostics = load("a: &x [1, *x]\n")
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/too-many-nodes"
    assert d.location.header() == "t.yaml:1:11"  # type: ignore[union-attr]


def test_recursive_mapping_alias_is_refused() -> None:
    node, diagnostics = load("a: &x\n  b: *x\n")
    assert node is None
    assert only(diagnostics).code == "yaml/too-many-nodes"


def test_long_text_aliased_many_times_counts_against_the_text_limit() -> None:
    # one long string used through 99 aliases: few values, but a large document once expanded
    text = "a: &s " + "x" * 10_000 + "\nb: [" + ", ".join(["*s"] * 99) + "]\n"
    assert load(text, Limits(max_chars=2_000_000))[1] == []
    node, diagnostics = load(text, Limits(max_chars=500_000))
    assert node is None
    d = only(diagnostics)
    assert d.code == "yaml/too-much-text"
    assert "aliases are counted each time they are used" in d.message()
