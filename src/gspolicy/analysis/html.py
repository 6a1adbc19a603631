"""The diff as one self-contained HTML page: tables and inline SVG bar charts, no external files.

Everything the page needs is inside it (a `<style>` block and `<svg>` elements; no script), so it
can be mailed or archived with the decision it supports.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gspolicy._i18n import Lang
from gspolicy.analysis.diff import Change
from gspolicy.analysis.impact import Impact
from gspolicy.analysis.report import change_line, where, words

__all__ = ["bar_chart", "render_html"]

_STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f4f4f4; padding: 0 0.2em; }
.where { color: #555; font-size: 0.9em; }
svg text { font-size: 12px; }
"""


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, int]],
    *,
    colour: str = "#3b6ea5",
    colours: Sequence[str] | None = None,
) -> str:
    """A horizontal bar chart as inline SVG: one labelled bar per row, its count at its end;
    `colours` (one per row) paints rows apart, e.g. a plan beside what was done."""
    bar, gap, label_width, plot_width = 20, 6, 260, 360
    height = 30 + len(rows) * (bar + gap)
    top = max((n for _, n in rows), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_width + plot_width + 60}" '
        f'height="{height}" viewBox="0 0 {label_width + plot_width + 60} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, count) in enumerate(rows):
        y = 26 + i * (bar + gap)
        width = round(plot_width * count / top)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 6}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{width}" height="{bar}" '
            f'fill="{colours[i] if colours else colour}">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{label_width + width + 6}" y="{y + bar - 6}">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(
    old: str, new: str, changes: Sequence[Change], result: Impact | None, lang: Lang, population: str | None
) -> str:
    """The page: the structural changes with file:line on both sides, then the impact."""
    zh = lang == "zh"
    title = f"{old} → {new}"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if zh else "en"}">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(('政策包变化：' if zh else 'what changes: ') + title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>{escape(('政策包变化：' if zh else 'What changes: ') + title)}</h1>",
        f"<h2>{'结构变化' if zh else 'Structural changes'} ({len(changes)})</h2>",
    ]
    if changes:
        out.append(
            _table(
                ["变化" if zh else "change", "旧" if zh else "old", "新" if zh else "new"],
                [[change_line(c, lang), where(c.old), where(c.new)] for c in changes],
            )
        )
    else:
        out.append(
            f"<p>{'两侧的政策包内容相同' if zh else 'No structural change: the packs have the same content.'}</p>"
        )
    if result is not None:
        out.append(_impact(result, lang, population or ""))
    out.append("</body></html>\n")
    return "\n".join(out)


def _impact(result: Impact, lang: Lang, population: str) -> str:
    zh = lang == "zh"
    examples = "示例户" if zh else "examples"
    households = "户数" if zh else "households"
    parts = [
        f"<h2>{'影响' if zh else 'Impact'}</h2>",
        "<p>"
        + escape(
            f"截至 {result.as_of}，{population} 中 {result.households} 户：{result.verdict_changes} 户退出结论变化"
            if zh
            else f"As of {result.as_of}, {result.households} households ({population}): "
            f"{result.verdict_changes} change exit verdict"
        )
        + "</p>",
    ]
    by_county = result.by_county()
    chart_title = "各县退出结论变化户数" if zh else "Households whose exit verdict changes, by county"
    parts.append(
        f'<figure class="chart">{bar_chart(chart_title, [(k, n) for k, n, _ in by_county])}</figure>'
    )
    reasons = result.by_reason()
    if reasons:
        reason_title = "按原因（结论变化的指标）" if zh else "By reason (criterion whose verdict changed)"
        parts.append(
            f'<figure class="chart">{bar_chart(reason_title, [(words(k, lang), n) for k, n, _ in reasons], colour="#a5553b")}</figure>'
        )
    sections = (
        ("退出结论" if zh else "Exit verdict", result.by_transition()),
        ("县（区）代码" if zh else "County", by_county),
        ("原因" if zh else "Reason", reasons),
        ("批次（规则）" if zh else "Batch (rule membership)", result.by_batch()),
        ("措施" if zh else "Measures", result.by_measure()),
    )
    for heading, rows in sections:
        parts.append(f"<h3>{escape(heading)}</h3>")
        if not rows:
            parts.append(f"<p>{'无' if zh else 'none'}</p>")
            continue
        parts.append(
            _table(
                [heading, households, examples],
                [[words(k, lang), str(n), ", ".join(ex)] for k, n, ex in rows],
                numeric=(1,),
            )
        )
    return "\n".join(parts)
