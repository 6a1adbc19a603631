"""Sources, spans (line/col, excerpts with CJK-aware underlines), data paths, record locations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy._location import AROUND, LONG_LINE, DataPath, RecordLocation, Source, Span, display_width

TEXT = "first line\n名称: 张三 # 注释\nlast"


@pytest.fixture
def source() -> Source:
    return Source("f.yaml", TEXT)


def span_of(source: Source, needle: str) -> Span:
    start = source.text.index(needle)
    return Span(source, start, start + len(needle))


# -- Source ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, (1, 1)),
        (5, (1, 6)),
        (10, (1, 11)),  # the line break belongs to its line
        (11, (2, 1)),
        (TEXT.index("张"), (2, 5)),  # columns count characters, not bytes or display width
        (len(TEXT), (3, 5)),  # the end of the text
        (-3, (1, 1)),  # clamped
        (10_000, (3, 5)),
    ],
)
def test_line_col(source: Source, offset: int, expected: tuple[int, int]) -> None:
    assert source.line_col(offset) == expected


def test_line_text_and_count(source: Source) -> None:
    assert source.line_count == 3
    assert [source.line_text(n) for n in (1, 2, 3)] == ["first line", "名称: 张三 # 注释", "last"]


def test_line_text_drops_carriage_return() -> None:
    assert Source("w.yaml", "a: 1\r\nb: 2\r\n").line_text(1) == "a: 1"


@pytest.mark.parametrize("offset", [0, 4, 10, 11, 15, 20, len(TEXT)])
def test_offset_inverts_line_col(source: Source, offset: int) -> None:
    assert source.offset(*source.line_col(offset)) == offset


def test_offset_is_clamped(source: Source) -> None:
    assert source.offset(99, 1) == source.offset(3, 1)
    assert source.offset(3, 99) == len(TEXT)


def test_empty_source() -> None:
    empty = Source("e.yaml", "")
    assert empty.line_count == 1
    assert empty.line_col(0) == (1, 1)
    assert empty.line_text(1) == ""


def test_source_repr_is_short() -> None:
    assert repr(Source("big.yaml", "x" * 10_000)) == "Source('big.yaml', 10000 chars)"


# -- display width ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("张三", 4),
        ("名称: 张三", 10),
        ("ＡＢ", 4),  # full-width Latin letters
        ("e\u0301", 1),  # a combining accent takes no column
        ("，", 2),  # full-width punctuation
    ],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


# -- Span -----------------------------------------------------------------------------------------


def test_span_properties(source: Source) -> None:
    span = span_of(source, "张三")
    assert (span.file, span.line, span.col, span.text) == ("f.yaml", 2, 5, "张三")
    assert span.header() == "f.yaml:2:5"


def test_span_equality_needs_the_same_source_object() -> None:
    a, b = Source("x", "abc"), Source("x", "abc")
    assert Span(a, 0, 1) == Span(a, 0, 1)
    assert hash(Span(a, 0, 1)) == hash(Span(a, 0, 1))
    assert Span(a, 0, 1) != Span(b, 0, 1)
    assert Span(a, 0, 1) != Span(a, 0, 2)
    assert Span(a, 0, 1) != "a"


def test_cover(source: Source) -> None:
    first, second = span_of(source, "名称"), span_of(source, "张三")
    assert second.cover(first).text == "名称: 张三"
    assert first.cover(second) == second.cover(first)


def test_excerpt_ascii(source: Source) -> None:
    assert span_of(source, "line").excerpt() == "   1 | first line\n     |       ^^^^"


def test_excerpt_underlines_cjk_with_double_width(source: Source) -> None:
    # "名称: " is 6 columns wide on a terminal, "张三" 4
    assert span_of(source, "张三").excerpt() == "   2 | 名称: 张三 # 注释\n     |       ^^^^"
    assert span_of(source, "名称").excerpt() == "   2 | 名称: 张三 # 注释\n     | ^^^^"
    assert span_of(source, "注释").excerpt().splitlines()[1] == "     | " + " " * 13 + "^^^^"


def test_excerpt_of_empty_span_has_one_mark(source: Source) -> None:
    start = TEXT.index("line")
    assert Span(source, start, start).excerpt().splitlines()[1] == "     |       ^"


def test_excerpt_at_end_of_text(source: Source) -> None:
    end = len(TEXT)
    assert Span(source, end, end).excerpt() == "   3 | last\n     |     ^"


def test_excerpt_of_multiline_span_underlines_to_end_of_first_line(source: Source) -> None:
    span = Span(source, TEXT.index("line"), TEXT.index("张"))
    assert span.excerpt() == "   1 | first line\n     |       ^^^^"


def test_excerpt_gutter_grows_with_large_line_numbers() -> None:
    text = "\n" * 12_344 + "x: 1"
    span = Span(Source("long.yaml", text), len(text) - 1, len(text))
    assert span.excerpt() == "12345 | x: 1\n      |    ^"


# -- DataPath and RecordLocation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "shown"),
    [
        ((), "(record)"),
        (("size",), "size"),
        (("members", 2, "age"), "members[2].age"),
        ((0, "id"), "[0].id"),
        (("income", "net_per_capita"), "income.net_per_capita"),
        (("成员", 0, "年龄"), "成员[0].年龄"),
    ],
)
def test_data_path_str(parts: tuple[str | int, ...], shown: str) -> None:
    path = DataPath(parts)
    assert str(path) == shown
    assert repr(path) == f"DataPath({shown!r})"


def test_data_path_child_and_tuple_behaviour() -> None:
    path = DataPath().child("members").child(1)
    assert path == DataPath(["members", 1])
    assert isinstance(path, tuple)
    assert path[-1] == 1
    assert not DataPath()


def test_record_location_header() -> None:
    assert RecordLocation("h.jsonl", 17, DataPath(["members", 2, "age"])).header() == "h.jsonl:17"
    assert RecordLocation("h.json", None).header() == "h.json"
    source = Source("h.json", '{\n  "age": 130\n}')
    span = span_of(source, "130")
    located = RecordLocation("h.json", 2, DataPath(["age"]), span)
    assert located.header() == "h.json:2:10"


def test_record_location_equality_ignores_the_span() -> None:
    source = Source("h.json", "{}")
    assert RecordLocation("h.json", 1, DataPath(["a"]), Span(source, 0, 1)) == RecordLocation(
        "h.json", 1, DataPath(["a"])
    )


@settings(max_examples=40, deadline=None)
@given(
    before=st.integers(min_value=0, max_value=1200),
    size=st.integers(min_value=0, max_value=300),
    after=st.integers(min_value=0, max_value=1200),
    wide=st.booleans(),
)
def test_a_long_line_is_shown_around_its_span(before: int, size: int, after: int, wide: bool) -> None:
    # a request body or a JSON Lines record is one long line: the excerpt shows the span (up to
    # `AROUND` characters of it) with `AROUND` either side, and the underline still falls under it
    fill = "字" if wide else "x"
    text = fill * before + "#" * size + fill * after
    shown, marks = Span(Source("f", text), before, before + size).excerpt().split("\n")
    body = shown.split("| ", 1)[1]
    if len(text) <= LONG_LINE:
        assert body == text
    else:
        assert len(body) <= 3 * AROUND + 2
    under = marks.split("| ", 1)[1]
    start = len(under) - len(under.lstrip(" "))
    columns = [display_width(body[:i]) for i in range(len(body) + 1)]
    assert start in columns  # the marks begin where a character begins
    first = columns.index(start)
    if size:
        shown_size = size if len(text) <= LONG_LINE else min(size, AROUND)
        assert body[first : first + shown_size] == "#" * shown_size
        assert under.strip() == "^" * shown_size
