"""What ``gspolicy evaluate`` prints beside the households' summary: areas, legend, refusals.

The villages' and counties' report of ``--level village|county``, the legend said once after
explanations, and the records refused or skipped."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence

from gspolicy._i18n import Lang, Text
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from gspolicy.errors import Diagnostic, render_grouped, suggest
from gspolicy.explain.areas import AreaDecision, AreaResult
from gspolicy.explain.legend import legend
from gspolicy.explain.summary import VERDICT_WORDS
from gspolicy.schema.records import Refused

__all__ = ["area_summary", "print_legend", "refuse_run", "report_areas", "report_skipped"]


def refuse_run(
    problems: list[Diagnostic], refused: list[Refused], valid: int, unreadable: int, lang: Lang
) -> int:
    """Nothing decided: every problem listed (the first 50 in full), and how many records had one."""
    everything = [*problems]
    read = valid + len(refused)
    files = (
        Text(zh=f"，另有 {unreadable} 个文件无法读取", en=f", and {unreadable} file(s) could not be read")
        if unreadable
        else Text(zh="", en="")
    )
    everything.append(
        Diagnostic("record/not-decided", None, {"count": read, "invalid": len(refused), "files": files})
    )
    sys.stderr.write(render_grouped(everything, lang) + "\n")
    return EXIT_PROBLEMS


def report_skipped(problems: list[Diagnostic], refused: list[Refused], decided: int, lang: Lang) -> None:
    if problems:
        sys.stderr.write(render_grouped(problems, lang) + "\n")
    if refused:
        total = decided + len(refused)
        sys.stderr.write(
            f"已跳过 {len(refused)} 条有问题的记录（共 {total} 条），判定其余 {decided} 户\n"
            if lang == "zh"
            else f"skipped {len(refused)} of {total} records with problems; deciding the other {decided}\n"
        )


def print_legend(args: argparse.Namespace, lang: Lang, explained: bool) -> None:
    """The notation of the explanations printed, said once after them (`--detail full` prints
    the explanations alone)."""
    if explained and args.detail != "full":
        sys.stdout.write("\n" + legend(lang))


def report_areas(
    result: AreaResult,
    args: argparse.Namespace,
    lang: Lang,
    explained: Callable[[str, Sequence[str]], dict[str, AreaDecision]],
) -> int:
    """The areas of `--level`: as JSON every explained decision; as a table the summary, then
    the areas `--area` names or `--explain N` picks (the first of each verdict, then the first
    N), explained by `explained(level, codes)`."""
    level = args.level
    if args.format in ("json", "jsonl"):
        areas = list(result.villages if level == "village" else result.counties)
        if args.format == "json":
            data = [a.to_json(detail=args.detail) for a in areas]
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            for a in areas:
                sys.stdout.write(json.dumps(a.to_json(detail=args.detail), ensure_ascii=False) + "\n")
        return EXIT_OK
    outcomes = result.outcomes.get(level, ())
    codes = [a.code for a in outcomes]
    unknown = [code for code in args.area or () if code not in codes]
    if unknown:
        for code in unknown:
            hint = suggest(code, codes)
            noun = ("村", "village") if level == "village" else ("县", "county")
            sys.stderr.write(
                (
                    f"gspolicy evaluate：没有代码为 {code} 的{noun[0]}"
                    + (f"；是否指 {hint[0]}？" if hint else "")
                    if lang == "zh"
                    else f"gspolicy evaluate: no {noun[1]} {code}"
                    + (f"; did you mean {hint[0]}?" if hint else "")
                )
                + "\n"
            )
        return EXIT_USAGE
    sys.stdout.write(area_summary(result, lang, only=level, listing=args.list))
    picked: list[str] = list(dict.fromkeys(args.area or ()))
    if args.explain > 0 and not picked:
        for verdict in ("fail", "undetermined", "pass", "not_applicable"):
            found = next((a for a in outcomes if a.verdict == verdict), None)
            if found is not None:
                picked.append(found.code)
        picked = list(dict.fromkeys([*picked, *codes]))[: args.explain]
    if picked:
        decisions = explained(level, picked)
        for code in picked:
            sys.stdout.write("\n" + decisions[code].render(lang, detail=args.detail))
    print_legend(args, lang, bool(picked))
    return EXIT_OK


def area_summary(result: AreaResult, lang: Lang, *, only: str | None = None, listing: bool = False) -> str:
    """Village and county verdicts: counts, failing criteria, per county its villages, and (with
    `listing`) one line per area."""
    zh = lang == "zh"
    lines: list[str] = []
    for problem in result.problems:
        lines.append(("问题：" if zh else "problem: ") + problem.get(lang))
    for what, ids in result.orphans.items():
        item, holder = what.split("/")
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        lines.append(
            f"注意：{len(ids)} 条 {item} 记录不属于给出的任何 {holder}，未计入：{shown}"
            if zh
            else f"note: {len(ids)} {item} records belong to no {holder} given and are not counted: {shown}"
        )
    groups = [(level, result.outcomes.get(level, ())) for level in ("village", "county")]
    for level, areas in groups:
        if not areas or (only is not None and level != only):
            continue
        versions = sorted({f"{p.id}@{p.version}" for a in areas for p in a.outcome.packs})
        noun = ("村", "villages") if level == "village" else ("县", "counties")
        lines.append(
            f"截至 {result.as_of} 判定 {len(areas)} 个{noun[0]}；政策包：{', '.join(versions) or '无'}"
            if zh
            else f"{len(areas)} {noun[1]} decided as of {result.as_of}; packs: {', '.join(versions) or 'none'}"
        )
        counts: Counter[str | None] = Counter(a.verdict for a in areas)
        for verdict, (w_zh, w_en) in VERDICT_WORDS.items():
            if counts.get(verdict):
                lines.append(f"  {w_zh if zh else w_en}: {counts[verdict]}")
        failing: Counter[str] = Counter(
            c.id for a in areas for c in a.criteria if c.verdict == "fail" and a.verdict != "not_applicable"
        )
        if failing:
            lines.append("  未通过的指标：" if zh else "  failing criteria:")
            lines.extend(f"    {cid}: {n}" for cid, n in sorted(failing.items()))
        others: Counter[tuple[str, str | None]] = Counter(o for a in areas for o in a.others)
        if others:
            lines.append("  其他标准：" if zh else "  other standards:")
            for (pid, verdict), n in sorted(others.items(), key=lambda x: (x[0][0], str(x[0][1]))):
                lines.append(f"    {pid} {VERDICT_WORDS[verdict][0 if zh else 1]}: {n}")
        villages = result.outcomes.get("village", ())
        if level == "village" and result.outcomes.get("county") and only is None:
            continue
        if level == "county" and villages:
            lines.append("  各县贫困村：" if zh else "  villages per county:")
            verdicts = {v.code: v.verdict for v in villages}
            for a in areas:
                c = Counter(verdicts[code] for code in a.gathered.get("villages", ()) if code in verdicts)
                parts = ", ".join(
                    f"{VERDICT_WORDS[k][0 if zh else 1]} {n}"
                    for k, n in sorted(c.items(), key=lambda x: str(x[0]))
                )
                word = VERDICT_WORDS[a.verdict][0 if zh else 1]
                lines.append(f"    {a.code} {a.name or ''}: {word}; " + (parts or "-"))
        if listing:
            lines.append(
                "  代码 / 结论 / 未通过 / 待定" if zh else "  code / verdict / failing / undetermined"
            )
            for a in areas:
                fails = ",".join(c.id for c in a.criteria if c.verdict == "fail") or "-"
                unsure = ",".join(c.id for c in a.criteria if c.verdict == "undetermined") or "-"
                word = VERDICT_WORDS[a.verdict][0 if zh else 1]
                lines.append(f"    {a.code}  {word}  {fails}  {unsure}")
    return "\n".join(lines) + "\n"
