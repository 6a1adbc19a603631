"""`--prove` of ``check`` and ``diff``: the solver's questions about packs, imported only when
asked (the `analysis` extra); docs/how-to/prove-a-pack.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from gspolicy._i18n import Lang, Text
from gspolicy.analysis.diff_sides import in_context
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, WholeNumber, option, print_problems
from gspolicy.errors import Diagnostic
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.workspace import choose

__all__ = ["proof_options", "prove_check", "prove_diff"]

_TIMEOUT_HELP = Text(
    zh="每个问题的求解时限（毫秒，默认 2000）；超时为“未证明”",
    en="time allowed per question, in milliseconds (default 2000); a timeout reads “not proved”",
)
_BOUND_HELP = Text(
    zh="证明中名单（家庭成员、帮扶记录）最多几项（默认 8）",
    en="the most items a list (members, support) holds in a proof (default 8)",
)

_FREE_HELP = Text(
    zh="证明中把未确定（或只知范围）的参数当作任意确定值（在范围内）；发现注明所用的参数值"
    "（默认：按引擎的读法，范围为区间，未确定为未知）",
    en="in proofs, read a parameter not established (or known only within bounds) as any exact value (within "
    "them); a finding names the values it used (default: as the engine reads them, a range an interval, "
    "a value not established unknown)",
)


def proof_options(prove_help: Text, *, free: bool = False) -> Callable[[Any], Any]:
    """The options `--prove`, `--timeout MS` and `--bound N` of a command (and, with `free`,
    `--free-parameters`)."""
    options = (
        option("--prove", is_flag=True, help=prove_help),
        option("--timeout", type=WholeNumber(1, 3_600_000), default=2_000, metavar="MS", help=_TIMEOUT_HELP),
        option("--bound", type=WholeNumber(1, 64), default=8, metavar="N", help=_BOUND_HELP),
        *([option("--free-parameters", is_flag=True, help=_FREE_HELP)] if free else []),
    )

    def decorate(f: Any) -> Any:
        for add in reversed(options):
            f = add(f)
        return f

    return decorate


def prove_diff(args: argparse.Namespace, old: PolicySet, new: PolicySet, lang: Lang) -> int:
    """`diff --prove`: each pack both sides hold, compared household by household by the solver."""
    try:
        from gspolicy.analysis.prove_diff import compare_sets  # noqa: PLC0415  (the optional solver)
        from gspolicy.analysis.prove_report import render_comparisons  # noqa: PLC0415
    except ImportError:
        print_problems([Diagnostic("check/no-solver", None, {"extra": "analysis"})], lang, sys.stderr)
        return EXIT_PROBLEMS
    ids = [p.id for p in old.packs if p.id in {q.id for q in new.packs}]
    full_old, _, _ = in_context(old, args.old)
    full_new, _, _ = in_context(new, args.new)
    seconds = args.timeout / 1000
    found = compare_sets(full_old, full_new, list(dict.fromkeys(ids)), bound=args.bound, timeout=seconds)
    sys.stdout.write(render_comparisons(found, lang))
    return EXIT_OK


def prove_check(args: argparse.Namespace, lang: Lang) -> int:
    """`check --prove`: 2 (review) when a proof finds a defect, 1 when the packs do not load."""
    try:
        from gspolicy.analysis.prove import prove_set  # noqa: PLC0415  (the optional solver)
        from gspolicy.analysis.prove_across import prove_across  # noqa: PLC0415
        from gspolicy.analysis.prove_report import render_proofs  # noqa: PLC0415
    except ImportError:
        print_problems([Diagnostic("check/no-solver", None, {"extra": "analysis"})], lang, sys.stderr)
        return EXIT_PROBLEMS
    policy_set, problems = load_policies(list(choose(args.paths or None).roots))
    if policy_set is None:
        print_problems([d for d in problems if d.is_error], lang, sys.stderr)
        return EXIT_PROBLEMS
    seconds = args.timeout / 1000
    free = bool(args.free_parameters)
    proofs = prove_set(policy_set, bound=args.bound, timeout=seconds, free_parameters=free)
    across = prove_across(policy_set, bound=args.bound, timeout=seconds)
    sys.stdout.write(render_proofs(proofs, lang, timeout=seconds, across=across))
    return 2 if across.findings or any(p.findings for p in proofs) else EXIT_OK
