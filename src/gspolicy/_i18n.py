"""The two languages every user-visible text comes in: Chinese (``zh``) and English (``en``)."""

from __future__ import annotations

import os
from typing import Literal

import attrs

__all__ = ["LANGS", "Lang", "Text", "default_lang", "parse_lang"]

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


@attrs.frozen
class Text:
    """A text in both languages."""

    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def format(self, **args: object) -> Text:
        return Text(self.zh.format(**args), self.en.format(**args))

    def __add__(self, other: Text | str) -> Text:
        if isinstance(other, Text):
            return Text(self.zh + other.zh, self.en + other.en)
        return Text(self.zh + other, self.en + other)


def parse_lang(value: str) -> Lang | None:
    """Return ``zh`` or ``en`` for a language tag such as ``zh_CN.UTF-8``, else None."""
    tag = value.strip().lower().replace("-", "_")
    if tag.startswith("zh"):
        return "zh"
    if tag.startswith("en") or tag in ("c", "posix", "c.utf_8", "c.utf8"):
        return "en"
    return None


def default_lang() -> Lang:
    """The language from ``GSPOLICY_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

    Officers read Chinese, so a Chinese locale gives ``zh``; anything else gives ``en``.
    """
    for name in ("GSPOLICY_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            lang = parse_lang(value)
            if lang is not None:
                return lang
    return "en"
