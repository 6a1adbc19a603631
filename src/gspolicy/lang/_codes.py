"""The diagnostic codes of the expression language (registered when `gspolicy.lang` is imported)."""

from __future__ import annotations

from gspolicy._messages import entry, register

__all__: list[str] = []

_FUNCTIONS_HELP_EN = (
    'expressions use field names, numbers, texts, `date("YYYY-MM-DD")`, `+ - * /`, comparisons, '
    "`in [...]`, `and` / `or` / `not`, `x if c else y` and the functions `any`, `all`, `count`, "
    "`sum`, `min`, `max`, `years_between`, `year`, `within`, `present` and `held_on`"
)
_FUNCTIONS_HELP_ZH = (
    '表达式可以使用字段名、数字、文本、`date("YYYY-MM-DD")`、`+ - * /`、比较、`in [...]`、'
    "`and` / `or` / `not`、`x if c else y`，以及函数 `any`、`all`、`count`、`sum`、`min`、`max`、"
    "`years_between`、`year`、`within`、`present` 和 `held_on`"
)

register(
    {
        "type/not-a-history": entry(
            "error",
            "`held_on` needs a list of records with start and end dates (the fields with roles "
            "`support_start` and `support_end`), found {found}",
            "`held_on` 需要带有开始和结束日期（角色为 `support_start` 和 `support_end` 的字段）的记录列表，实际为{found}",
            "use it on the support history, such as `held_on(support, registration.exited_on)`",
            "请用于帮扶记录列表，例如 `held_on(support, registration.exited_on)`",
        ),
        "parse/syntax": entry(
            "error",
            "invalid expression: {problem}",
            "表达式语法错误：{problem}",
            "check the brackets, quotes and operators near this place",
            "请检查此处附近的括号、引号和运算符",
        ),
        "parse/unsupported": entry(
            "error",
            "{construct} is not allowed in an expression",
            "表达式中不允许使用{construct}",
            _FUNCTIONS_HELP_EN,
            _FUNCTIONS_HELP_ZH,
        ),
        "parse/too-long": entry(
            "error",
            "the expression is {length} characters long, more than the limit of {limit}",
            "表达式长 {length} 个字符，超过上限 {limit}",
            "name parts of it as facts and refer to them by name",
            "请把其中一部分定义为派生事实，再按名称引用",
        ),
        "parse/too-deep": entry(
            "error",
            "the expression nests deeper than {limit} levels",
            "表达式嵌套超过 {limit} 层",
            "name parts of it as facts and refer to them by name",
            "请把其中一部分定义为派生事实，再按名称引用",
        ),
        "parse/bad-number": entry(
            "error",
            "`{text}` is not an exact number this language reads",
            "`{text}` 不是可用的精确数字",
            "write whole numbers or decimals such as `3500` or `0.9` ({digits})",
            "请写整数或小数，例如 `3500` 或 `0.9`（{digits}）",
        ),
        "parse/bad-date": entry(
            "error",
            "`{text}` is not a date",
            "`{text}` 不是有效日期",
            'write a date as `date("YYYY-MM-DD")`, e.g. `date("2018-09-30")`',
            '日期写作 `date("YYYY-MM-DD")`，例如 `date("2018-09-30")`',
        ),
        "type/unknown-name": entry(
            "error",
            "unknown name `{name}`",
            "未知名称 `{name}`",
            "a name is {scope}",
            "名称可以是{scope}",
        ),
        "type/unknown-field": entry(
            "error",
            "record type `{record}` has no field `{field}`",
            "记录类型 `{record}` 没有字段 `{field}`",
        ),
        "type/missing-day-rule": entry(
            "error",
            "`{name}()` needs the pack's rule for a day the month reached lacks",
            "`{name}()` 需要政策包声明目标月份缺少该日时的规则",
            "declare `missing_day: last_day_of_month` (29 February + 1 year is 28 February) or "
            "`missing_day: first_day_of_next_month` (it is 1 March) at the top of the pack",
            "请在政策包顶层声明 `missing_day: last_day_of_month`（2 月 29 日加一年为 2 月 28 日）或 "
            "`missing_day: first_day_of_next_month`（为 3 月 1 日）",
        ),
        "type/whole-number": entry(
            "error",
            "`{name}()` counts whole {unit} written out: a number such as `3`",
            "`{name}()` 的第一个参数应为写明的整数{unit}数，例如 `3`",
            "write the number itself, e.g. `{name}(3, registration.exited_on)`",
            "请直接写出数字，例如 `{name}(3, registration.exited_on)`",
        ),
        "type/outcome-function": entry(
            "error",
            "`{name}()` reads a decision's outcome: only an invariant may call it",
            "`{name}()` 读取判定结果，只能用于不变式",
            "state it in a pack of `kind: invariants` (`invariants:`); a rule or criterion reads the record",
            "请在 `kind: invariants` 的政策包（`invariants:`）中表述；规则与指标读取的是数据记录",
        ),
        "type/outcome-name": entry(
            "error",
            "`{name}()` takes the name it reads written out, as a text",
            "`{name}()` 的参数应为写明的名称（文本）",
            'e.g. `rule("housing.repair")`, `criterion("exit.income")`, `granted("microcredit")`, '
            '`verdict()` or `verdict("<pack id>")`',
            '例如 `rule("housing.repair")`、`criterion("exit.income")`、`granted("microcredit")`、`verdict()`',
        ),
        "type/unknown-function": entry(
            "error",
            "unknown function `{name}`",
            "未知函数 `{name}`",
            _FUNCTIONS_HELP_EN,
            _FUNCTIONS_HELP_ZH,
        ),
        "type/mismatch": entry(
            "error",
            "{what} expects {expected}, found {found}",
            "{what}需要{expected}，实际为{found}",
        ),
        "type/incomparable": entry(
            "error",
            "cannot compare {left} with {right} using `{op}`",
            "无法用 `{op}` 比较{left}和{right}",
            "{hint}",
            "{hint}",
        ),
        "type/unknown-enum-value": entry(
            "error",
            "`{value}` is not a value of `{enum}`",
            "`{value}` 不是枚举 `{enum}` 的取值",
            "the values are: {values}",
            "可用的取值为：{values}",
        ),
        "type/not-a-list": entry(
            "error",
            "`{func}` needs a list field as its first argument, found {found}",
            "`{func}` 的第一个参数必须是列表字段，实际为{found}",
        ),
        "type/not-a-field": entry(
            "error",
            "`present` needs a field path, found {found}",
            "`present` 的参数必须是字段路径，实际为{found}",
            "write the field itself, e.g. `present(income.per_capita)`",
            "请直接写字段，例如 `present(income.per_capita)`",
        ),
        "type/bad-arity": entry(
            "error",
            "`{func}` takes {expected}, found {found}",
            "`{func}` 需要{expected}，实际为 {found} 个参数",
        ),
        "type/list-outside-in": entry(
            "error",
            "a list `[...]` is only allowed after `in` or `not in`",
            "列表 `[...]` 只能用在 `in` 或 `not in` 之后",
        ),
        "type/ambiguous-name": entry(
            "warning",
            "`{name}` names both {chosen} and {other}; {chosen} is used",
            "`{name}` 既是{chosen}又是{other}；这里使用{chosen}",
            "rename one of them, or write `{root}.{name}` for the household's field",
            "请重命名其中之一，或用 `{root}.{name}` 指明农户的字段",
        ),
        "eval/division-by-zero": entry(
            "error",
            "division by zero",
            "除数为零",
            "guard the division, e.g. `x / n if n != 0 else 0`",
            "请先判断除数，例如 `x / n if n != 0 else 0`",
        ),
        "eval/date-out-of-range": entry(
            "error",
            "`{path}` is {age} recorded on {on}: the birth date it implies is outside the calendar",
            "`{path}` 为 {age}，记录于 {on}：由此推算的出生日期超出日历范围",
            "give the birth date, or the age recorded on the right date",
            "请给出出生日期，或在正确的日期记录年龄",
        ),
        "eval/overflow": entry(
            "error",
            "the result of `{op}` is too large to be exact",
            "`{op}` 的结果过大，无法精确表示",
        ),
        "eval/fact-cycle": entry(
            "error",
            "fact `{name}` depends on itself",
            "派生事实 `{name}` 依赖自身",
        ),
        "eval/unknown-fact": entry(
            "error",
            "fact `{name}` is not defined for this evaluation",
            "本次求值未定义派生事实 `{name}`",
        ),
    }
)
