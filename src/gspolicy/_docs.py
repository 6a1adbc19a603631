"""Generated reference pages: the diagnostics catalogue.

``python -m gspolicy._docs`` rewrites ``docs/reference/diagnostics.md``; a test fails when the
committed page differs from what the catalogue says.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gspolicy._messages import CATALOGUE, SEVERITY_WORDS

__all__ = ["render_catalogue"]

_HEADER = """# Diagnostics catalogue

Every problem gspolicy reports has a **stable code** (tools and tests may match on it), a severity, a
message and usually a help line, each in Chinese and English. Messages follow one grammar: a
lowercase sentence without a final period, user-supplied names in backticks, context first
(``in rule `exit.income` of pack `exit_criteria.household`: …``), the fix in the help line with
"did you mean" suggestions.

Rendered, a diagnostic reads `file:line:col: code: message`, then the source line with the problem
underlined, then `help: …`. Problems inside household records name the data path
(`households.jsonl:17: members[2].age: …`). Warnings and notes carry their severity after the code.

This page is generated from the catalogue (`python -m gspolicy._docs`); do not edit it by hand.

"""


def render_catalogue() -> str:
    groups: dict[str, list[str]] = {}
    for code in sorted(CATALOGUE):
        groups.setdefault(code.split("/")[0], []).append(code)
    out = [_HEADER]
    for group, codes in groups.items():
        out.append(f"## `{group}/…`\n")
        out.append("| code | severity | message (en) | message (zh) | help |")
        out.append("|---|---|---|---|---|")
        for code in codes:
            entry = CATALOGUE[code]
            helptext = "" if entry.help is None else f"{entry.help.en}<br>{entry.help.zh}"
            severity = SEVERITY_WORDS[entry.severity].en
            row = [f"`{code}`", severity, entry.message.en, entry.message.zh, helptext]
            out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit("usage: python -m gspolicy._docs [OUTPUT.md]  (default: docs/reference/diagnostics.md)")
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/reference/diagnostics.md")
    target.write_text(render_catalogue(), encoding="utf-8")
    print(f"wrote {target}")
