"""The engine's own words in Chinese and English, from the one glossary (``glossary.yaml``).

Verdicts, a rule's answer, true and false, the roles and parts of a pack, loan term units: every
word the library says of its own is read here, from the data file shipped in the package, loaded
once per process on first use. What the policies say (titles, enum labels, units) comes from the
packs and the schema instead.

>>> word("verdict", "not_applicable", "zh")
'不适用'
>>> word("answer", "no", "zh")
'否'
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal, get_args

import yaml

from gspolicy._i18n import LANGS, Lang, Text

__all__ = ["GROUPS", "Group", "group", "text", "word"]

Group = Literal[
    "verdict",
    "applicability",
    "answer",
    "truth",
    "reading",
    "buffer",
    "finding_kind",
    "finding_status",
    "holding",
    "amount",
    "role",
    "form",
    "term_unit",
    "part",
    "change",
    "area_level",
    "area_items",
]
GROUPS: tuple[Group, ...] = get_args(Group)
"""The glossary's groups, as the file lists them."""

FILE = "glossary.yaml"


@cache
def _glossary() -> Mapping[str, Mapping[str, Text]]:
    """The glossary, read once: group → key → text (in the file's order)."""
    raw = resources.files("gspolicy").joinpath(FILE).read_text(encoding="utf-8")
    data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ValueError(f"{FILE}: a mapping of groups expected")
    out: dict[str, dict[str, Text]] = {}
    for name, entries in data.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{FILE}: group `{name}` is not a mapping")
        words: dict[str, Text] = {}
        for key, pair in entries.items():
            if not isinstance(key, str) or not isinstance(pair, dict) or set(pair) != set(LANGS):
                raise ValueError(f"{FILE}: `{name}.{key}` needs a text key and exactly `zh` and `en`")
            if not all(isinstance(pair[lang], str) and pair[lang] for lang in LANGS):
                raise ValueError(f"{FILE}: `{name}.{key}` has an empty or non-text word")
            words[key] = Text(zh=pair["zh"], en=pair["en"])
        out[str(name)] = words
    return out


def group(name: Group) -> Mapping[str, Text]:
    """Every word of a group, by key, in the glossary's order."""
    return _glossary()[name]


def text(name: Group, key: str) -> Text:
    """One word in both languages (a `KeyError` names a key the glossary lacks)."""
    try:
        return _glossary()[name][key]
    except KeyError:
        raise KeyError(f"the glossary has no word `{name}.{key}`") from None


def word(name: Group, key: str, lang: Lang) -> str:
    """One word in `lang`."""
    return text(name, key).get(lang)
