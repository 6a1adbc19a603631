"""The legend of the notation explanations use, in Chinese or English, printed after explanations.

✓ ✗ ?, ranges, lists read whole, data paths, parameters, confidences, quotations, hashes."""

from __future__ import annotations

import re
import unicodedata

from gspolicy._i18n import Lang, Text

__all__ = ["legend"]


_LEGEND: tuple[tuple[Text, Text], ...] = (
    (
        Text("✓ ✗ ?", "✓ ✗ ?"),
        Text("通过、不通过、待定（标准的判定）", "pass, fail, undetermined (a criterion's verdict)"),
    ),
    (
        Text("[36, 37]", "[36, 37]"),
        Text(
            "区间：只知道取值在两端之间（来源只给出范围的参数，或含待定对象的合计）；“差 68 至 665.38”同理",
            "a range: the value is known only to lie between the two bounds (a parameter its sources "
            "give only as a range, or a total over undetermined items); “short by 68 to 665.38” likewise",
        ),
    ),
    (
        Text("(4)", "(4)"),
        Text(
            "整个列表被读取：列表中的项数（members = (4)：4 名成员）",
            "a list read as a whole: how many items it holds (members = (4): four members)",
        ),
    ),
    (
        Text("（已填写）", "(given)"),
        Text(
            "只检查了该字段是否已填写，未用到其取值",
            "the field was only checked for being filled in; its value was not needed",
        ),
    ),
    (Text("缺失", "missing"), Text("记录中没有该字段的值", "the record has no value for the field")),
    (
        Text("members[2].age", "members[2].age"),
        Text(
            "数据路径：第 3 名成员（从 0 起数）的 age 字段",
            "a data path: the field age of the third member (counting from 0)",
        ),
    ),
    (
        Text("param:<name>", "param:<name>"),
        Text(
            "一个参数：来源确定其取值后即可判定",
            "a parameter: once its sources fix its value, the verdict is settled",
        ),
    ),
    (
        Text("H  M-H  M  L-M  L", "H  M-H  M  L-M  L"),
        Text(
            "来源的可信度（可信度 H）：高、中高、中、中低、低",
            "the confidence of a source (confidence H): high, medium-high, medium, low-medium, low",
        ),
    ),
    (
        Text("“…”", "“…”"),
        Text("引号内为来源原文", "a clause quoted from the source, word for word"),
    ),
    (
        Text("大意：", "paraphrased:"),
        Text("来源的意思，用其他话转述（不是原文）", "the source's sense in other words (not its text)"),
    ),
    (
        Text("推断自", "inferred from"),
        Text(
            "政策包据该来源推断，来源没有明说",
            "the pack infers it from the source; the source does not say it",
        ),
    ),
    (Text("code（标签）", "code (Label)"), Text("枚举代码及其名称", "an enum code with its label")),
    (
        Text("file.yaml:123", "file.yaml:123"),
        Text(
            "规则或取值在政策包文件中的位置（行号）",
            "where the rule or value is written in its pack file (line)",
        ),
    ),
    (
        Text("sha256:2bf1120748bf…", "sha256:2bf1120748bf…"),
        Text("政策包版本内容的哈希（前 12 位）", "the content hash of a pack version (its first 12 digits)"),
    ),
    (Text("→", "→"), Text("规则适用时给予的帮扶措施", "the measures a rule grants when it applies")),
)

_LEGEND_WIDTH = 110
"""The columns a line of the legend takes at most."""


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns: broken at spaces, or between Chinese
    characters."""
    tokens: list[str] = []
    for word_ in re.findall(r"\S+\s*", text):
        # a Chinese character stands alone; a run of other characters (a number) stays whole
        pieces = re.findall(r"[\u2e80-\uffff]|[^\u2e80-\uffff]+", word_)
        tokens.extend(pieces if _columns(word_) > len(word_) else [word_])
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and _columns(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def legend(lang: Lang = "en") -> str:
    """The notation explanations use, explained once, in `lang` (printed after explanations),
    in lines of at most 110 columns."""
    zh = lang == "zh"
    marks = [(mark.get(lang), meaning.get(lang)) for mark, meaning in _LEGEND]
    width = max(_columns(mark) for mark, _ in marks)
    out = ["说明中的符号：" if zh else "Notation in the explanations:"]
    for mark, meaning in marks:
        pad = " " * (width - _columns(mark))
        parts = _wrapped(meaning, _LEGEND_WIDTH - width - 4)
        out.append(f"  {mark}{pad}  {parts[0]}")
        out.extend(" " * (width + 4) + part for part in parts[1:])
    return "\n".join(out) + "\n"
