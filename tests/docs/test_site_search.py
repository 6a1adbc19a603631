"""The built site's search finds Chinese words: the theme's search plugin cuts Chinese text into
words (with jieba, from the docs extra) and joins them with zero-width spaces, which the search
separator of mkdocs.yml splits on.  These tests read ``search/search_index.json`` of the site
``GSPOLICY_SITE`` names and search it as the theme's search does in the browser (its tokenizer, its
segmentation of a Chinese query by the words of the index, a trailing wildcard on every term)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@cache
def _site() -> Path:
    site = Path(os.environ["GSPOLICY_SITE"])
    assert (site / "search" / "search_index.json").is_file(), f"no built site at {site} (run mkdocs build)"
    return site


@cache
def _index() -> dict[str, Any]:
    index: dict[str, Any] = json.loads((_site() / "search" / "search_index.json").read_text(encoding="utf-8"))
    return index


def _sections(html: str) -> Iterator[str]:
    """The text between the tags of a field, as the theme's `extract` gives it."""
    yield from (part for part in re.split(r"<[^>]*>", html) if part)


def _tokens(text: str, separator: re.Pattern[str]) -> list[str]:
    """The theme's `tokenize`: each text section split on the separator, lower-cased (the English
    pipeline keeps only its stop-word filter, which leaves Chinese words alone)."""
    return [t.lower() for section in _sections(text) for t in separator.split(section) if t]


@cache
def _documents() -> tuple[tuple[str, frozenset[str]], ...]:
    separator = re.compile(_index()["config"]["separator"])
    return tuple(
        (
            doc["location"],
            frozenset(_tokens(doc.get("title", ""), separator) + _tokens(doc["text"], separator)),
        )
        for doc in _index()["docs"]
    )


@cache
def _terms() -> frozenset[str]:
    return frozenset(t for _, tokens in _documents() for t in tokens)


def _segment(query: str, index: frozenset[str]) -> list[str]:
    """The theme's `segment` of a run of Chinese characters: greedily cut by the words of the
    index (a port of its code, which looks only at cuts shorter than the whole query)."""
    n = len(query)
    cuts = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if query[i:j] in index:
                cuts[i] = j - i
    found: dict[str, None] = {}
    stack = [0]
    while stack:
        p = stack.pop()
        for q in range(1, cuts[p]):
            if cuts[p + q] > cuts[p] - q:
                found[query[p : p + q]] = None
                stack.append(p + q)
        q = p + cuts[p]
        if q < n - 1 and cuts[q]:
            stack.append(q)
        found[query[p:q]] = None
    return [query] if "" in found else list(found)


def _search(query: str) -> list[str]:
    """The locations whose title or text has a token starting with every term of `query`."""
    terms: list[str] = []
    for part in query.split():
        terms.extend(_segment(part, _terms()) if HAN.fullmatch(part) else [part.lower()])
    return [
        location
        for location, tokens in _documents()
        if all(any(token.startswith(term) for token in tokens) for term in terms)
    ]


def _pages(locations: Iterable[str]) -> set[str]:
    return {location.split("#")[0] for location in locations}


def test_chinese_text_is_cut_into_words() -> None:
    """The guide's text reaches the index cut into words: without jieba it would be one token per
    run of characters between punctuation, and no word inside a sentence could be found."""
    config = _index()["config"]
    assert re.fullmatch(config["separator"], "\u200b"), "the search separator must split on zero-width spaces"
    guide = [doc for doc in _index()["docs"] if doc["location"].startswith("zh/")]
    assert guide, "the Chinese guide (docs/zh/) is not in the site"
    assert all("\u200b" in doc["text"] for doc in guide if HAN.search(doc["text"]))


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("退出", "zh/"),  # the word inside longer phrases (贫困户退出收入标准, 退出验收) on the first page
        ("收入标准", "zh/change-a-value/"),
        ("结构变化", "zh/diff/"),
    ],
)
def test_search_finds_chinese_words_in_the_guide(query: str, page: str) -> None:
    found = _pages(_search(query))
    assert page in found, f"a search for {query} finds {sorted(found)[:10]}"


def test_a_word_absent_from_the_site_finds_nothing() -> None:
    assert _search("拖拉机") == []
