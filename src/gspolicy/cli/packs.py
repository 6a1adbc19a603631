"""The commands on packs: ``validate``, ``check`` (docs/how-to/check-a-pack.md), ``diff``
(docs/how-to/what-changes-for-whom.md), ``test``, ``book`` and ``init``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import click

from gspolicy._i18n import Lang, Text
from gspolicy.analysis.diff import not_in_force, schema_note, structural_diff
from gspolicy.analysis.diff_sides import in_context, load_side, undecidable
from gspolicy.analysis.html import render_html
from gspolicy.analysis.impact import area_impact, impact
from gspolicy.analysis.lint import check_paths
from gspolicy.analysis.report import render_area_impact, render_changes, render_check_summary, render_impact
from gspolicy.cli._options import DETAIL, POLICIES
from gspolicy.cli._prove import proof_options, prove_check, prove_diff
from gspolicy.cli._run import policies as _policies
from gspolicy.cli._support import (
    DATE,
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    WholeNumber,
    argument,
    command,
    option,
    print_problems,
)
from gspolicy.errors import Diagnostic, PolicyError, sort_and_cap
from gspolicy.pack.book import render_book
from gspolicy.pack.load import gaps, load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.workspace import Origin, announce, choose, copy_bundled, load_chosen, root_of
from gspolicy.schema.model import Record
from gspolicy.schema.records import load_records_from
from gspolicy.testing.cases import Case, find_case_files, run_files

__all__ = ["book", "check", "diff", "init", "test", "validate"]

_PACK_PATHS = Text(
    zh="政策包文件或文件夹（默认：所用政策集）", en="pack files or folders (default: the policy set in use)"
)


@command(
    "validate",
    help=Text(
        zh="加载并检查政策包（默认：所用政策集），每个问题报告为 文件:行:列: 代码: 消息，标出位置并附帮助。"
        "范围值、未确定的值和低可信度的现行值列为已知缺口（提示，不是错误）。",
        en="Load and check policy packs (default: the policy set in use) and report every problem "
        "as file:line:col: code: message, underlined, with help. Ranges, values not established and "
        "low-confidence values in force are listed as acknowledged gaps (notes, not errors).",
    ),
)
@argument("paths", nargs=-1, type=PATH, metavar="[PATH]...", help=_PACK_PATHS)
@option(
    "--as-of",
    type=DATE,
    default=None,
    help=Text(zh="列出此日有效的缺口（默认：今天）", en="date for the gaps in force (default: today)"),
)
def validate(args: argparse.Namespace, lang: Lang) -> int:
    """Load and check packs."""
    return _cmd_validate(args, lang)


_CHECK_DESCRIPTION = Text(
    zh="""加载政策包（默认：所用政策集）并报告加载中的问题，再检查每个能加载的版本：未使用的参数、事实、出处、部门和措施；
没有引用的标准或规则；缺少某种语言的文本；条件相同的标准或规则；重复或过晚的参数日期；没有版本覆盖的日期；
恒定的条件。有效的范围值、低可信度和未确定的值列为已知缺口（提示）。见 docs/how-to/check-a-pack.md。""",
    en="""Load the packs (default: the policy set in use) and report the loader's problems, then lint
every version that loads: unused parameters, facts, sources, departments and measures;
criteria and rules without a citation; texts missing a language; criteria or rules with
identical conditions; duplicate or late parameter dates; days no version covers;
conditions that are constant. Ranges, low-confidence and not-established values in force
are listed as acknowledged gaps (notes). See docs/how-to/check-a-pack.md.""",
)

_CHECK_EPILOG = Text(
    zh="""\b
退出码：
  0  没有问题，或只有提示（已知缺口、未使用的声明）
  1  有错误（加载或检查发现）：不要发布
  2  有警告而没有错误：发布前请复核（2 也表示命令行用法错误）""",
    en="""\b
exit codes:
  0  clean, or only notes (acknowledged gaps, unused declarations)
  1  errors (the loader's or lint's): do not publish
  2  warnings and no error: review before publishing (2 is also bad command-line usage)""",
)


@command("check", help=_CHECK_DESCRIPTION, epilog=_CHECK_EPILOG)
@argument(
    "paths",
    nargs=-1,
    type=PATH,
    metavar="[PATH]...",
    help=Text(zh="政策根目录、政策包文件夹或文件", en="policy roots, pack folders or files"),
)
@option(
    "--as-of",
    type=DATE,
    default=None,
    help=Text(
        zh="只列出此日有效的缺口（默认：任一版本任一天有效的缺口）",
        en="list only the gaps in force on this date (default: those in force on any day of any version)",
    ),
)
@option(
    "--strict",
    is_flag=True,
    help=Text(
        zh="把检查提示（未使用的声明）当作警告", en="treat lint notes (unused declarations) as warnings"
    ),
)
@option(
    "--unread-fields",
    is_flag=True,
    help=Text(
        zh="另列出没有任何政策包读取的数据结构字段（提示）",
        en="also list the schema fields no pack checked reads (notes)",
    ),
)
@option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(zh="输出格式：text（默认）或 json", en="output: text (default) or json"),
)
@proof_options(
    Text(
        zh="另用 SMT 求解器证明：永远不成立或永远成立的规则和标准、可同时成立的互斥规则、可被违反的不变式、"
        "不在任何批次的贫困户；每个发现附经确认的农户（需要 analysis 扩展）",
        en="also prove with an SMT solver: rules and criteria that can never be true or never false, exclusive "
        "rules that can both hold, invariants that can be violated, registered households in no batch; each "
        "finding with a confirmed household (needs the analysis extra)",
    ),
    free=True,
)
def check(args: argparse.Namespace, lang: Lang) -> int:
    """Lint packs."""
    return _cmd_check(args, lang)


_SIDE = Text(
    zh="政策根目录、政策包文件夹或政策包版本文件", en="a policy root, a pack folder or a pack version file"
)


@command(
    "diff",
    help=Text(
        zh="比较 OLD 与 NEW（各为政策根目录、政策包文件夹或政策包版本文件），列出新增、删除和修改的内容及两侧的文件:行。"
        "给出 --population 时，按 --as-of 用两侧分别判定每户，统计退出结论（按县、按标准）、批次和措施的变化，并举例。"
        "成功时退出码为 0（无论有无差异），某一侧或农户文件无法读取时为 1。见 docs/how-to/what-changes-for-whom.md。",
        en="Compare OLD and NEW — each a policy root, a pack folder or a pack version file — "
        "and list what was added, removed or changed, with file:line on both sides. With --population, "
        "decide every household with both as of --as-of and count the changes of exit verdict (by county "
        "and by criterion), batch and measures, with example households. Exit 0 on success (with or "
        "without differences), 1 when a side or the population cannot be read. "
        "See docs/how-to/what-changes-for-whom.md.",
    ),
)
@argument("old", type=PATH, metavar="OLD", help=Text(zh="旧的一侧：", en="the old side: ") + _SIDE)
@argument("new", type=PATH, metavar="NEW", help=Text(zh="新的一侧：", en="the new side: ") + _SIDE)
@option(
    "--as-of",
    type=DATE,
    default=None,
    help=Text(
        zh="评估影响的判定日期（默认：今天）", en="the assessment date for the impact (default: today)"
    ),
)
@option(
    "--population",
    type=PATH,
    multiple=True,
    metavar="FILE",
    help=Text(zh="农户记录文件（可重复）", en="household record files (repeatable)"),
)
@option(
    "--villages",
    type=PATH,
    multiple=True,
    metavar="FILE",
    help=Text(
        zh="与 --population 同用：村记录；列出结论或数据变化的村",
        en="with --population: village records; list the villages whose verdict or figures change",
    ),
)
@option(
    "--counties",
    type=PATH,
    multiple=True,
    metavar="FILE",
    help=Text(
        zh="与 --population 同用：县记录；列出结论或数据变化的县",
        en="with --population: county records; list the counties whose verdict or figures change",
    ),
)
@option(
    "--html",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(zh="另写出带图表的 HTML 页面", en="also write an HTML page with charts"),
)
@option(
    "--examples",
    type=WholeNumber(0, 1_000_000),
    default=3,
    metavar="N",
    help=Text(zh="每项变化举例的农户数（默认 3）", en="example households per change (default: 3)"),
)
@proof_options(
    Text(
        zh="另用 SMT 求解器逐项（标准、规则、结论）证明两侧对所有农户判定相同（在名单上限内），"
        "或给出经确认的区分农户（需要 analysis 扩展）",
        en="also prove, per criterion, rule and verdict, that both sides decide every household alike (within "
        "the list bound), or give a confirmed household that tells them apart (needs the analysis extra)",
    )
)
def diff(args: argparse.Namespace, lang: Lang) -> int:
    """What changes between two versions of packs."""
    return _cmd_diff(args, lang)


@command(
    "test",
    help=Text(
        zh="运行政策包的测试用例（<政策包>/tests/*.yaml）。全部通过时退出码为 0，否则为 1。",
        en="Run pack test cases (<pack>/tests/*.yaml). Exit 0 when all pass, 1 otherwise.",
    ),
)
@argument(
    "paths",
    nargs=-1,
    type=PATH,
    metavar="[PATH]...",
    help=Text(
        zh="测试文件或文件夹（默认：所用政策集的）", en="test files or folders (default: the policy set's)"
    ),
)
@POLICIES
@option(
    "--coverage",
    is_flag=True,
    help=Text(
        zh="报告用例对政策包的判定、条件和 MC/DC 覆盖率（需 gspolicy[testing]）",
        en="report decision, condition and MC/DC coverage of the packs by the cases (needs gspolicy[testing])",
    ),
)
@option(
    "--pack",
    multiple=True,
    metavar="ID",
    help=Text(
        zh="与 --coverage 同用：只看此政策包（编号或 编号@版本；可重复）",
        en="with --coverage: only this pack (id or id@version; repeatable)",
    ),
)
@option(
    "--write-missing",
    type=PATH,
    default=None,
    metavar="DIR",
    help=Text(
        zh="与 --coverage 同用：搜索补上缺口的农户，写为 YAML 用例 DIR/<政策包路径>/tests/coverage.yaml"
        "（给出政策根目录即写在政策包旁）",
        en="with --coverage: search for households closing the gaps and write them as YAML cases under "
        "DIR/<pack path>/tests/coverage.yaml (give the policy root to write next to the packs)",
    ),
)
@DETAIL
def test(args: argparse.Namespace, lang: Lang) -> int:
    """Run the packs' test cases."""
    return _cmd_test(args, lang)


@command(
    "book",
    help=Text(
        zh="为每个政策包写一页 Markdown，并写一个列出全部未确定值的索引页。",
        en="Write one Markdown page per pack and an index listing every value not established.",
    ),
)
@option(
    "--out",
    type=PATH,
    default=Path("docs/policies"),
    help=Text(zh="输出文件夹（默认：docs/policies）", en="folder (default: docs/policies)"),
)
@POLICIES
def book(args: argparse.Namespace, lang: Lang) -> int:
    """Write the policy book."""
    return _cmd_book(args, lang)


@command(
    "init",
    help=Text(
        zh="把随软件安装的政策集复制到 DIR/policies，此后在 DIR 中运行的命令使用这份政策集（及其中的每处修改），"
        "而不是安装的那份。不会覆盖任何文件。",
        en="Copy the bundled policy set into DIR/policies, so that the commands run in DIR "
        "use it (and every edit made there) instead of the installed copy. Nothing is overwritten.",
    ),
)
@argument(
    "folder",
    type=PATH,
    metavar="DIR",
    help=Text(zh="工作区文件夹（不存在时创建）", en="the workspace folder (created if needed)"),
)
def init(args: argparse.Namespace, lang: Lang) -> int:
    """Start a workspace."""
    return _cmd_init(args, lang)


def _cmd_init(args: argparse.Namespace, lang: Lang) -> int:
    try:
        created = copy_bundled(args.folder)
    except FileExistsError:
        target = str(args.folder / "policies")
        print_problems([Diagnostic("cli/workspace-exists", None, {"path": target})], lang, sys.stderr)
        return EXIT_PROBLEMS
    except OSError as err:
        reason = err.strerror or str(err)
        print_problems(
            [Diagnostic("io/unreadable", None, {"path": str(args.folder), "reason": reason})],
            lang,
            sys.stderr,
        )
        return EXIT_PROBLEMS
    packs = sum(1 for _ in created.rglob("*.yaml") if "tests" not in _.parts)
    from gspolicy.schemas import write_editor_settings  # noqa: PLC0415

    try:
        editor = write_editor_settings(args.folder)
    except PolicyError as err:  # the policies are copied; the editor settings are left to the user
        print_problems(err.diagnostics, lang, sys.stderr)
        editor = []
    if lang == "zh":
        sys.stdout.write(
            f"已把随软件安装的政策集复制到 {created}（{packs} 个文件）。\n"
            f"在 {args.folder} 中运行的命令将使用这份政策集：例如 `cd {args.folder} && gspolicy validate`\n"
        )
        if editor:
            sys.stdout.write(
                f"已写入编辑器设置（yaml-language-server）：{editor[-1]}，JSON Schema 在 {editor[0].parent}\n"
            )
    else:
        sys.stdout.write(
            f"copied the bundled policy set to {created} ({packs} files).\n"
            f"Commands run in {args.folder} now use it: e.g. `cd {args.folder} && gspolicy validate`\n"
        )
        if editor:
            sys.stdout.write(
                f"wrote the editor settings (yaml-language-server): {editor[-1]}, the JSON Schemas in {editor[0].parent}\n"
            )
    return EXIT_OK


def _cmd_book(args: argparse.Namespace, lang: Lang) -> int:
    policy_set = _policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    pages = render_book(policy_set)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    sys.stdout.write(
        f"已写入 {len(pages)} 页到 {out}\n" if lang == "zh" else f"wrote {len(pages)} pages to {out}\n"
    )
    return EXIT_OK


def _cmd_test(args: argparse.Namespace, lang: Lang) -> int:
    # the cases of a draft run against the packs beside them: the policy root the paths lie in
    given = args.policies
    origin: Origin = "given"
    if given is None and args.paths:
        found = {root_of(p) for p in args.paths}
        if len(found) == 1 and None not in found:
            given, origin = [found.pop()], "paths"
    policy_set = load_chosen(given, lang, sys.stderr, origin=origin)
    if policy_set is None:
        return EXIT_PROBLEMS
    roots = args.paths or given or list(choose(None).roots)
    files = find_case_files(roots)
    if not files:
        shown = ", ".join(str(r) for r in roots)
        print_problems([Diagnostic("case/none-found", None, {"paths": shown})], lang, sys.stdout)
        return EXIT_PROBLEMS
    results, problems = run_files(files, policy_set)
    print_problems(problems, lang, sys.stdout)
    failed = [r for r in results if not r.passed]
    for r in failed:
        sys.stdout.write(r.report(lang, detail=args.detail) + "\n")
    passed = len(results) - len(failed)
    sys.stdout.write(f"{passed} passed, {len(failed)} failed\n")
    if args.coverage or args.write_missing is not None:
        _test_coverage(args, lang, policy_set, [r.case for r in results])
    return EXIT_PROBLEMS if failed or any(d.is_error for d in problems) or not results else EXIT_OK


def _test_coverage(args: argparse.Namespace, lang: Lang, policy_set: PolicySet, cases: list[Case]) -> None:
    try:  # hypothesis (the `testing` extra) is imported only when coverage is asked for
        from gspolicy.testing import coverage  # noqa: PLC0415
    except ImportError as err:
        sys.stderr.write(
            f"gspolicy: --coverage needs the testing extra: pip install 'gspolicy[testing]' ({err})\n"
        )
        return
    report, found = coverage.fill_gaps(cases, policy_set, packs=args.pack)
    sys.stdout.write(report.render(lang))
    if args.write_missing is None:
        if found:
            sys.stdout.write(
                f"可为 {len(found)} 个缺口生成用例：--write-missing DIR\n"
                if lang == "zh"
                else f"cases can be generated for {len(found)} gaps: --write-missing DIR\n"
            )
        return
    parsed = {file: _defaults_of(file) for file in dict.fromkeys(c.file for c in cases)}
    defaults = {c.pack: parsed[c.file] for c in reversed(cases)}  # each file read once
    written = coverage.write_cases(found, args.write_missing, policy_set, defaults=defaults)
    for path in written:
        sys.stdout.write(("已写入 " if lang == "zh" else "wrote ") + f"{path}\n")


def _defaults_of(file: str) -> dict[str, object]:
    """The `defaults` household of a test file (its cases are written as changes to it)."""
    import yaml  # noqa: PLC0415

    try:
        # the case files were read and checked already; libyaml when present
        data = yaml.load(
            Path(file).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except (OSError, yaml.YAMLError):
        return {}
    found = data.get("defaults") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _cmd_validate(args: argparse.Namespace, lang: Lang) -> int:
    choice = choose(args.paths or None)
    policy_set, problems = load_policies(list(choice.roots))
    announce(choice, policy_set, lang, sys.stderr)
    as_of = args.as_of or dt.date.today()
    notes = gaps(policy_set, as_of) if policy_set is not None else []
    print_problems([*problems, *notes], lang, sys.stdout)
    if policy_set is None:
        return EXIT_PROBLEMS
    versions = len(policy_set.packs)
    packs = len(policy_set.ids)
    if lang == "zh":
        sys.stdout.write(
            f"已检查 {packs} 个政策包（{versions} 个版本），截至 {as_of} 有 {len(notes)} 个已知缺口\n"
        )
    else:
        sys.stdout.write(
            f"checked {packs} pack{'s' * (packs != 1)} ({versions} version{'s' * (versions != 1)}); "
            f"{len(notes)} acknowledged gap{'s' * (len(notes) != 1)} in force on {as_of}\n"
        )
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, lang: Lang) -> int:
    choice = choose(args.paths or None)
    report = check_paths(list(choice.roots), as_of=args.as_of, strict=args.strict, unread=args.unread_fields)
    sys.stderr.write(choice.describe(report.content_hash or "?", differs=None, lang=lang) + "\n")
    if args.format == "json":
        data = {
            "diagnostics": [d.to_json(lang) for d in sorted(report.diagnostics, key=Diagnostic.sort_key)],
            "packs": report.packs,
            "versions": report.versions,
            "errors": report.errors,
            "warnings": report.warnings,
            "notes": report.notes,
            "gaps": report.gaps,
            "exit_code": report.exit_code,
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return report.exit_code
    # every finding, uncapped: this is the list to work through before publishing
    kept, _ = sort_and_cap(report.diagnostics, limit=max(1, len(report.diagnostics)))
    for d in kept:
        sys.stdout.write(d.render(lang) + "\n")
    sys.stdout.write(render_check_summary(report, lang))
    if args.prove:
        return max(report.exit_code, prove_check(args, lang))
    return report.exit_code


def _cmd_diff(args: argparse.Namespace, lang: Lang) -> int:
    # every file named must be there before anything is loaded (loading two sides takes time)
    named = [*(args.population or []), *(args.villages or []), *(args.counties or [])]
    absent = [Diagnostic("io/not-found", None, {"path": str(path)}) for path in named if not path.exists()]
    if absent:
        print_problems(absent, lang, sys.stderr)
        return EXIT_PROBLEMS
    old, problems = load_side(args.old)
    new, more = load_side(args.new)
    errors = [d for d in [*problems, *more] if d.is_error]
    if old is None or new is None or errors:
        print_problems(errors, lang, sys.stderr)
        return EXIT_PROBLEMS
    changes = structural_diff(old, new)
    sys.stdout.write(render_changes(changes, lang))
    proved = EXIT_OK
    if args.prove:
        proved = prove_diff(args, old, new, lang)
        if proved == EXIT_PROBLEMS:
            return proved
    result = None
    population = ", ".join(str(p) for p in args.population or [])
    if args.population:
        as_of = args.as_of or dt.date.today()
        # a pack file's impact is decided with the whole set it belongs to, on each side
        completed, said = [], []
        for side, word in ((args.old, Text(zh="旧", en="old")), (args.new, Text(zh="新", en="new"))):
            full, root, lost = in_context(old if side is args.old else new, side)
            completed.append(full)
            if root is not None:
                said.append(Diagnostic("diff/completed", None, {"side": word, "root": root}))
            said.extend(
                Diagnostic("diff/import-lost", None, {"side": word, "id": pack_id, "root": root or ""})
                for pack_id in lost
            )
        print_problems(said, lang, sys.stderr)
        if any(d.is_error for d in said):
            return EXIT_PROBLEMS
        old, new = completed
        records, problems = load_records_from(args.population, old.schema)
        notes = [*schema_note(old.schema, new.schema), *not_in_force(old, new, changes, as_of)]
        again = records
        if old.schema != new.schema and not any(d.is_error for d in problems):
            again, more = load_records_from(args.population, new.schema)
            problems.extend(more)
        print_problems([*problems, *notes], lang, sys.stderr)
        if any(d.is_error for d in problems):
            return EXIT_PROBLEMS
        result = impact(old, new, records, as_of, new_records=again, examples=args.examples)
        sys.stdout.write("\n" + render_impact(result, lang, population))
        areas: dict[str, tuple[Record, ...]] = {}
        for kind, files in (("village", args.villages), ("county", args.counties)):
            if files:
                found, problems = load_records_from(files, old.schema, record=kind)
                print_problems(problems, lang, sys.stderr)
                if any(d.is_error for d in problems):
                    return EXIT_PROBLEMS
                areas[kind] = found
        if areas:
            levels = sorted(areas)
            missing = [
                *undecidable(old, levels, as_of, Text(zh="旧", en="old")),
                *undecidable(new, levels, as_of, Text(zh="新", en="new")),
            ]
            print_problems(missing, lang, sys.stderr)
            if old.schema != new.schema:
                sys.stderr.write(
                    "注意：两侧的数据结构不同，村、县按旧侧的数据结构读取\n"
                    if lang == "zh"
                    else "note: the sides' schemas differ; villages and counties are read with the old one\n"
                )
            changed = area_impact(old, new, {"household": records, **areas}, as_of)
            sys.stdout.write("\n" + render_area_impact(changed, lang))
    if args.html is not None:
        page = render_html(str(args.old), str(args.new), changes, result, lang, population or None)
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as err:
            sys.stderr.write(f"gspolicy: cannot write `{args.html}`: {err.strerror or err}\n")
            return EXIT_PROBLEMS
        sys.stdout.write(f"已写入 {args.html}\n" if lang == "zh" else f"wrote {args.html}\n")
    return EXIT_OK
