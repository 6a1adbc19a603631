"""The text of `gspolicy check --prove`, in Chinese or English: per pack version, how many rules
and criteria were proved, refuted or not proved, then each finding with its confirmed household
as a pack test case, and each question not proved with why."""

from __future__ import annotations

from collections.abc import Sequence

from gspolicy._i18n import Lang, Text
from gspolicy.analysis.prove import Finding, PackProof, case_yaml
from gspolicy.analysis.prove_across import SetProof
from gspolicy.analysis.prove_diff import PackComparison, comparison_case

__all__ = ["render_comparisons", "render_proofs"]


def _findings(findings: Sequence[Finding], bound: int, prefix: str, lang: Lang) -> list[str]:
    """Each finding's line and, below it, its counterexample as a pack case (named `prefix`, the
    finding's kind and names, and its number)."""
    out = []
    for i, f in enumerate(findings, 1):
        out.append("  " + Text(zh="发现：", en="finding: ").get(lang) + _finding_text(f, bound).get(lang))
        case = case_yaml(f, f"{prefix}{f.kind} {' '.join(f.names)} ({i})")
        if case:
            out.append("    " + _case_intro(f).get(lang))
            out.extend("      " + row for row in case.rstrip("\n").splitlines())
    return out


def _finding_text(f: Finding, bound: int) -> Text:
    names = ", ".join(f.names)
    within = Text(
        zh=f"（名单不超过 {bound} 项的农户）", en=f" (households whose lists hold at most {bound} items)"
    )
    if f.kind == "never-true":
        return Text(zh=f"{names} 永远不会成立（通过）", en=f"{names} can never be true (pass)") + within
    if f.kind == "invariant-violated":
        return Text(zh=f"不变式 {names} 可被违反", en=f"the invariant {names} can be violated")
    if f.kind == "no-batch":
        return Text(zh="有建档立卡贫困户不在任何批次中", en="a registered poor household can be in no batch")
    if f.kind == "never-false":
        return Text(zh=f"{names} 永远不会不成立（不通过）", en=f"{names} can never be false (fail)") + within
    return Text(zh=f"互斥规则 {names} 可同时成立", en=f"the exclusive rules {names} can both hold")


def _case_intro(f: Finding) -> Text:
    if f.kind == "exclusive-overlap":
        return Text(
            zh="两条规则都成立的农户（经解释器确认，测试用例格式）：",
            en="a household for which both hold, confirmed by the interpreter (a pack case):",
        )
    return Text(
        zh="它实际取值的一个农户（经解释器确认，测试用例格式）：",
        en="a household showing the value it does take, confirmed by the interpreter (a pack case):",
    )


def render_proofs(
    proofs: Sequence[PackProof], lang: Lang, *, timeout: float, across: SetProof | None = None
) -> str:
    """The report of `check --prove`."""
    out: list[str] = []
    bound = proofs[0].bound if proofs else 0
    head = Text(
        zh=f"证明（SMT 求解器；名单最多 {bound} 项；每个问题至多 {timeout:g} 秒）",
        en=f"proofs (SMT solver; lists of at most {bound} items; at most {timeout:g} s per question)",
    )
    out.append(head.get(lang))
    totals = {"proved": 0, "refuted": 0, "not_proved": 0}
    seconds = 0.0
    for proof in proofs:
        counts = proof.counts()
        for k, v in counts.items():
            totals[k] += v
        seconds += proof.seconds
        n = sum(counts.values())
        line = Text(
            zh=f"{proof.pack}：{n} 条规则和标准，已证明 {counts['proved']}，已驳倒 {counts['refuted']}，"
            f"未证明 {counts['not_proved']}（{proof.seconds:.1f} CPU 秒）",
            en=f"{proof.pack}: {n} rules and criteria: {counts['proved']} proved, {counts['refuted']} refuted, "
            f"{counts['not_proved']} not proved ({proof.seconds:.1f} CPU-s)",
        )
        out.append(line.get(lang))
        for a, b in proof.exclusive_proved:
            out.append("  " + Text(zh=f"已证明互斥：{a}、{b}", en=f"proved exclusive: {a}, {b}").get(lang))
        out.extend(_findings(proof.findings, proof.bound, f"{proof.pack} ", lang))
        for what, why in proof.not_proved:
            out.append("  " + Text(zh=f"未证明 {what}：{why}", en=f"not proved {what}: {why}").get(lang))
    if across is not None:
        seconds += across.seconds
        out.append(Text(zh="跨政策包（不变式、批次）：", en="across packs (invariants, batches):").get(lang))
        for what in across.proved:
            out.append("  " + Text(zh=f"已证明：{what}", en=f"proved: {what}").get(lang))
        out.extend(_findings(across.findings, across.bound, "", lang))
        for what, why in across.not_proved:
            out.append("  " + Text(zh=f"未证明 {what}：{why}", en=f"not proved {what}: {why}").get(lang))
    decided = totals["proved"] + totals["refuted"]
    total = decided + totals["not_proved"]
    share = 100.0 * decided / total if total else 100.0
    out.append(
        Text(
            zh=f"合计：{total} 条规则和标准中判定 {decided} 条（{share:.1f}%），已驳倒 {totals['refuted']}，"
            f"未证明 {totals['not_proved']}；{seconds:.1f} CPU 秒。未证明不等于一致。",
            en=f"total: {decided} of {total} rules and criteria decided ({share:.1f} %), {totals['refuted']} refuted, "
            f"{totals['not_proved']} not proved; {seconds:.1f} CPU-s. Not proved never means consistent.",
        ).get(lang)
    )
    return "\n".join(out) + "\n"


def render_comparisons(found: Sequence[PackComparison], lang: Lang) -> str:
    """The report of `diff --prove`: per pack, each criterion, rule and the verdict."""
    out: list[str] = []
    for pc in found:
        out.append(
            Text(
                zh=f"证明：{pc.old} → {pc.new}（名单最多 {pc.bound} 项；{pc.seconds:.1f} CPU 秒）",
                en=f"proof: {pc.old} → {pc.new} (lists of at most {pc.bound} items; {pc.seconds:.1f} CPU-s)",
            ).get(lang)
        )
        for item in pc.items:
            what = {
                "verdict": Text(zh="结论", en="verdict"),
                "criterion": Text(zh=f"标准 {item.id}", en=f"criterion {item.id}"),
                "rule": Text(zh=f"规则 {item.id}", en=f"rule {item.id}"),
            }[item.what].get(lang)
            if item.result == "equal":
                said = Text(
                    zh=f"对名单不超过 {pc.bound} 项的每一户判定相同",
                    en=f"equal for every household whose lists hold at most {pc.bound} items",
                )
            elif item.result == "differs":
                said = Text(
                    zh=f"不同：{item.old} → {item.new}，区分的农户（经两侧确认，测试用例格式）：",
                    en=f"differs: {item.old} → {item.new}, for this household (confirmed by both; a pack case):",
                )
            else:
                said = Text(zh=f"未证明：{item.answer.reason}", en=f"not proved: {item.answer.reason}")
            out.append(f"  {what}: {said.get(lang)}")
            if item.result == "differs":
                case = comparison_case(item, pc.new)
                out.extend("      " + row for row in case.rstrip("\n").splitlines())
    return "\n".join(out) + "\n"
