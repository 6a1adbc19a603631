"""A small policy root for the statistics tests: a verdict pack, two batch packs, a buffer-free
set, and a statistics pack whose indicators the tests read."""

from __future__ import annotations

from pathlib import Path

from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet

HEAD = """\
format: 1
pack: {id}
version: "1"
kind: {kind}
valid_from: 2016-01-01
title: {{zh: 测试, en: Test}}
department: office
departments: {{office: {{zh: 扶贫办, en: Office}}}}
sources:
  doc: {{title: {{zh: 文件, en: Document}}, confidence: H}}
"""

EXIT = (
    HEAD.format(id="demo.exit", kind="exit")
    + """\
criteria:
  - id: demo.income
    title: {zh: 收入超过标准, en: Income above the standard}
    require: income.per_capita > 3000
    cite: {source: doc}
"""
)


def batch(name: str, below: int) -> str:
    """A batch pack `demo.<name>` whose one rule holds below an income of `below`."""
    return (
        HEAD.format(id=f"demo.{name}", kind="batch")
        + f"""\
measures:
  {name}_help:
    title: {{zh: 帮扶, en: Help}}
    department: office
    form: grant
    amount: {{value: 100, source: doc}}
rules:
  - id: {name}.rule
    title: {{zh: 甲, en: A}}
    when: income.per_capita < {below}
    grant: [{name}_help]
    cite: {{source: doc}}
"""
    )


STATS = (
    HEAD.format(id="demo.stats", kind="statistics")
    + """\
keys:
  county: county_code
indicators:
  - id: s.poor
    title: {zh: 低收入户, en: Low income}
    count: income.per_capita < 4500
    by: [county]
    period: stock
    cite: {source: doc}
  - id: s.in_batch
    title: {zh: 各批次户数, en: Households by batch}
    count: "True"
    by: [batch]
    period: stock
    cite: {source: doc}
  - id: s.exited
    title: {zh: 本季度脱贫, en: Exited}
    count: verdict() != "undetermined" or True
    by: [county]
    period: flow
    dated_by: registration.exited_on
    cite: {source: doc}
  - id: s.income
    title: {zh: 收入合计, en: Income summed}
    sum: income.per_capita
    where: rule("a.rule")
    period: stock
    tolerance: 10
    cite: {source: doc}
"""
)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def demo_root(root: Path, stats: str = STATS) -> Path:
    """Write the demo packs under `root` (the statistics pack's text is `stats`)."""
    write(root, "demo/exit.yaml", EXIT)
    write(root, "demo/a.yaml", batch("a", 5000))
    write(root, "demo/b.yaml", batch("b", 4000))
    write(root, "demo/stats.yaml", stats)
    return root


def demo_set(root: Path, stats: str = STATS) -> PolicySet:
    policy_set, problems = load_policies([demo_root(root, stats)])
    assert policy_set is not None, [d.render("en") for d in problems if d.is_error]
    return policy_set
