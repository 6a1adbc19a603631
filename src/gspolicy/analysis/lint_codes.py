"""The lint findings (``lint/…``), each with its severity and its message and help in zh and en."""

from __future__ import annotations

from gspolicy._messages import entry, register

__all__: list[str] = []

register(
    {
        "lint/unused-parameter": entry(
            "info",
            "parameter `{name}` is declared but no condition uses it",
            "参数 `{name}` 已声明，但没有任何条件使用它",
            "use it in a condition or a fact, or remove it (it is still shown in the policy book)",
            "请在条件或派生事实中使用它，或删除它（政策手册中仍会列出它）",
        ),
        "lint/unused-fact": entry(
            "warning",
            "fact `{name}` is defined but no criterion, rule, condition or buffer reaches it",
            "派生事实 `{name}` 已定义，但没有任何指标、规则、条件或缓冲期用到它",
            "use it, or remove it",
            "请使用它，或删除它",
        ),
        "lint/unused-source": entry(
            "info",
            "source `{name}` is declared but nothing cites it",
            "来源 `{name}` 已声明，但没有任何内容引用它",
            "cite it where the pack relies on it, or remove it",
            "请在依据它的地方引用它，或删除它",
        ),
        "lint/unused-department": entry(
            "info",
            "department `{name}` is declared but no criterion or measure names it",
            "部门 `{name}` 已声明，但没有任何指标或措施使用它",
        ),
        "lint/unused-measure": entry(
            "warning",
            "measure `{name}` is defined but no rule grants it",
            "措施 `{name}` 已定义，但没有任何规则授予它",
            "grant it in a rule (`grant: [{name}]`), or remove it",
            "请在规则中授予它（`grant: [{name}]`），或删除它",
        ),
        "lint/unread-field": entry(
            "info",
            "schema field `{path}` is read by none of the packs checked",
            "所检查的政策包都没有读取数据结构字段 `{path}`",
        ),
        "lint/no-citation": entry(
            "warning",
            "{what} `{name}` cites no source",
            "{what} `{name}` 没有引用任何来源",
            "add `cite: {{source: <id>, clause: …}}`, or `inferred_from` with `confidence: L` for an inference",
            "请添加 `cite: {{source: <编号>, clause: …}}`；属于推断时写 `inferred_from` 并注明 `confidence: L`",
        ),
        "lint/missing-text": entry(
            "warning",
            "`{key}` has no {language} text",
            "`{key}` 缺少{language}文本",
            "every text is given in Chinese (`zh`) and English (`en`): write the missing one",
            "每段文本都需要中文（`zh`）和英文（`en`）两种写法：请补写缺少的一种",
        ),
        "lint/identical-conditions": entry(
            "warning",
            "{what} `{name}` has the same condition as `{other}` (line {other_line}): `{condition}`",
            "{what} `{name}` 的条件与 `{other}`（第 {other_line} 行）相同：`{condition}`",
            "two {what_plural} with one condition are one {what} written twice, or one of them is wrong",
            "条件相同的两个{what_plural}要么是同一{what}写了两次，要么其中一个写错了",
        ),
        "lint/duplicate-date": entry(
            "error",
            "parameter `{name}` has two values from {date} (the other at line {other_line})",
            "参数 `{name}` 在 {date} 有两个取值（另一个在第 {other_line} 行）",
            "keep one value per effective date",
            "每个生效日期只保留一个取值",
        ),
        "lint/parameter-starts-late": entry(
            "warning",
            "parameter `{name}` has no value in force from {valid_from} to {last_day}: its first value takes effect on {first}",
            "参数 `{name}` 在 {valid_from} 至 {last_day} 期间没有有效取值：其第一个取值自 {first} 起生效",
            "give a value from {valid_from} (or earlier); decisions in that period are undetermined",
            "请提供自 {valid_from}（或更早）起生效的取值；该期间的判定结果为“待定”",
        ),
        "lint/parameter-histories-differ": entry(
            "warning",
            "parameter `{name}` is also declared in `{other}`, with another value on {date}: {this} here, {that} there",
            "参数 `{name}` 也在 `{other}` 中声明，{date} 的取值不同：此处为 {this}，该处为 {that}",
            "declare it once, in a pack of `kind: parameters`, and `import:` it in both; or give the two their own names if they mean different things",
            "请只在一个 `kind: parameters` 的政策包中声明，两处都用 `import:` 导入；若两者含义不同，请分别命名",
        ),
        "lint/approval-date": entry(
            "warning",
            "the approving document takes effect on {in_force}, but this version is in force from {valid_from}",
            "批准文件自 {in_force} 起施行，而本版本自 {valid_from} 起有效",
            "make `valid_from` the day the approval takes effect, or note why they differ",
            "请将 `valid_from` 设为批准文件的施行日期，或说明两者不同的原因",
        ),
        "lint/version-gap": entry(
            "warning",
            "no version of pack `{id}` is in force from {start} to {end}: `{first}` ends on {first_end} and `{second}` starts on {second_start}",
            "{start} 至 {end} 期间政策包 `{id}` 没有有效版本：`{first}` 于 {first_end} 结束，`{second}` 于 {second_start} 开始",
            "end the earlier version the day before the later one starts (`valid_to: {end}`)",
            "请将较早版本的 `valid_to` 设为较晚版本开始的前一天（`valid_to: {end}`）",
        ),
        "lint/missing-day-matters": entry(
            "info",
            "`{call}` gives {first} or {second} for {example}, depending on the pack's `missing_day` rule "
            "(this pack: {rule}, giving {chosen})",
            "`{call}` 对 {example} 的结果取决于政策包的 `missing_day` 规则：{first} 或 {second}"
            "（本包为 {rule}，结果 {chosen}）",
            "check that the declared rule is the one the source means for such dates",
            "请确认所声明的规则符合来源文件对此类日期的本意",
        ),
        "lint/constant-condition": entry(
            "warning",
            "this condition is always {value}, whatever the household",
            "无论农户情况如何，此条件恒为{value}",
            "a constant part such as `and 1 > 2` decides it; remove it",
            "其中的常量部分（如 `and 1 > 2`）决定了结果；请删除它",
        ),
        "lint/constant-part": entry(
            "warning",
            "this part of the condition is always {value}, whatever the household",
            "无论农户情况如何，条件的这一部分恒为{value}",
            "remove it or write the comparison it was meant to be",
            "请删除它，或改写成本意的比较",
        ),
    }
)
