"""The diagnostics catalogue: every stable code with its message and help, in zh and en.

Messages follow one grammar: a lowercase sentence without a final period, user names in
backticks, the fix in the help line.  Templates name their arguments (``{field}``).  The codes
are stable: tools and tests may match on them.  ``docs/reference/diagnostics.md`` is generated
from this table (``python -m gspolicy.cli docs-diagnostics``) and a test keeps it in step.
"""

from __future__ import annotations

import attrs

from gspolicy._i18n import Text

__all__ = ["CATALOGUE", "CONTEXT_KINDS", "SEVERITY_WORDS", "Entry", "entry", "noun", "register"]


@attrs.frozen
class Entry:
    severity: str
    message: Text
    help: Text | None = None


def _e(severity: str, en: str, zh: str, help_en: str | None = None, help_zh: str | None = None) -> Entry:
    helptext = None if help_en is None else Text(zh=help_zh or help_en, en=help_en)
    return Entry(severity, Text(zh=zh, en=en), helptext)


SEVERITY_WORDS = {
    "error": Text(zh="错误", en="error"),
    "warning": Text(zh="警告", en="warning"),
    "info": Text(zh="提示", en="note"),
}

CONTEXT_KINDS = {
    "pack": Text(zh="政策包", en="pack"),
    "rule": Text(zh="规则", en="rule"),
    "criterion": Text(zh="指标", en="criterion"),
    "parameter": Text(zh="参数", en="parameter"),
    "fact": Text(zh="派生事实", en="fact"),
    "measure": Text(zh="措施", en="measure"),
    "schema": Text(zh="数据结构", en="schema"),
    "record": Text(zh="记录类型", en="record type"),
    "field": Text(zh="字段", en="field"),
    "enum": Text(zh="枚举", en="enum"),
    "household": Text(zh="农户", en="household"),
    "case": Text(zh="测试用例", en="test case"),
    "option": Text(zh="选项", en="option"),
    "source": Text(zh="来源", en="source"),
    "basis": Text(zh="缓冲依据", en="basis"),
    "invariant": Text(zh="不变式", en="invariant"),
}

CATALOGUE: dict[str, Entry] = {
    # --- input and output -------------------------------------------------------------------
    "io/not-found": _e("error", "no such file or folder `{path}`", "找不到文件或文件夹 `{path}`"),
    "io/unreadable": _e("error", "cannot read `{path}`: {reason}", "无法读取 `{path}`：{reason}"),
    "io/not-a-file": _e(
        "error",
        "`{path}` is not a regular file (a device, a pipe or a socket)",
        "`{path}` 不是普通文件（而是设备、管道或套接字）",
        "give the path of a file saved on disk",
        "请给出保存在磁盘上的文件的路径",
    ),
    "io/not-utf8": _e(
        "error",
        "`{path}` is not UTF-8 text",
        "`{path}` 不是 UTF-8 文本",
        "save the file as UTF-8 (without a byte-order mark is best)",
        "请将文件另存为 UTF-8 编码（最好不带 BOM）",
    ),
    "io/unknown-format": _e(
        "error",
        "cannot tell the format of `{path}`",
        "无法判断 `{path}` 的格式",
        "name record files `*.json`, `*.jsonl` or `*.yaml`",
        "记录文件的扩展名应为 `*.json`、`*.jsonl` 或 `*.yaml`",
    ),
    "io/too-large": _e(
        "error",
        "`{path}` is {size} bytes, more than the limit of {limit}",
        "`{path}` 大小为 {size} 字节，超过上限 {limit}",
        "split the file into smaller files",
        "请把文件拆分成较小的文件",
    ),
    # --- the Python API ------------------------------------------------------------------------
    "api/bad-date": _e(
        "error",
        "`{value}` is not a date",
        "`{value}` 不是日期",
        "give a `datetime.date` or ISO text such as `2018-12-31`",
        "请给出 `datetime.date` 或 ISO 格式文本，例如 `2018-12-31`",
    ),
    "api/bad-chunk-size": _e(
        "error",
        "chunk size `{value}` is not a whole number from 1 to {limit}",
        "分块大小 `{value}` 不是 1 到 {limit} 之间的整数",
        "give how many households to decide at a time, such as 100000",
        "请给出每次判定的户数，例如 100000",
    ),
    "api/unknown-pack": _e(
        "error",
        "no pack `{name}` in this policy set",
        "该政策集中没有政策包 `{name}`",
    ),
    # --- the command line ---------------------------------------------------------------------
    "cli/unknown-household": _e(
        "error",
        "no household with id `{id}` among the {count} households read",
        "读取的 {count} 户中没有编号为 `{id}` 的农户",
    ),
    "cli/no-pack-today": _e(
        "error",
        "no version of `{pack}` is in force today ({today}): its versions cover {covered}",
        "今天（{today}）没有有效的 `{pack}` 版本：其各版本的有效期为 {covered}",
        "give the date to decide on with `--as-of`, e.g. `--as-of {example}`",
        "请用 `--as-of` 指定判定日期，例如 `--as-of {example}`",
    ),
    "cli/workspace-exists": _e(
        "error",
        "`{path}` exists already; nothing was copied",
        "`{path}` 已存在；未复制任何文件",
        "choose a new folder, or work in the existing one",
        "请选择一个新文件夹，或直接使用已有的文件夹",
    ),
    "case/none-found": _e(
        "error",
        "no test cases found under {paths}",
        "在 {paths} 下没有找到测试用例",
        "test cases live in a pack's `tests/` folder, in files starting with `pack:` and `cases:`",
        "测试用例位于政策包的 `tests/` 文件夹中，文件以 `pack:` 和 `cases:` 开头",
    ),
    # --- YAML ---------------------------------------------------------------------------------
    "yaml/syntax": _e(
        "error",
        "invalid YAML: {problem}",
        "YAML 语法错误：{problem}",
        "check the indentation and the quoting near this place",
        "请检查此处附近的缩进和引号",
    ),
    "yaml/duplicate-key": _e(
        "error",
        "duplicate key `{key}` (first at line {first_line})",
        "重复的键 `{key}`（首次出现在第 {first_line} 行）",
        "keep one of the two entries",
        "请只保留其中一项",
    ),
    "yaml/too-deep": _e(
        "error",
        "nesting deeper than {limit} levels",
        "嵌套超过 {limit} 层",
        "flatten the structure; policy files never need this depth",
        "请减少嵌套层数，政策文件不需要这么深的结构",
    ),
    "yaml/too-many-nodes": _e(
        "error",
        "the document expands to more than {limit} values (aliases are counted each time they are used)",
        "文档展开后超过 {limit} 个值（别名每使用一次都计数）",
        "write the values out instead of repeating them through aliases",
        "请直接写出各个值，不要通过别名反复引用",
    ),
    "yaml/too-many-aliases": _e(
        "error",
        "more than {limit} aliases",
        "别名超过 {limit} 个",
        "write the values out instead of using aliases",
        "请直接写出各个值，不要使用别名",
    ),
    "yaml/tag": _e(
        "error",
        "tag `{tag}` is not allowed",
        "不允许使用标签 `{tag}`",
        "remove the tag; only plain YAML values are read",
        "请删除该标签；只读取普通 YAML 值",
    ),
    "yaml/complex-key": _e(
        "error",
        "a key must be a plain value, not a list or a mapping",
        "键必须是简单值，不能是列表或映射",
    ),
    "yaml/multiple-documents": _e(
        "error",
        "more than one YAML document in the file",
        "文件中含有多个 YAML 文档",
        "keep one document per file (remove the `---` separator)",
        "每个文件只放一个文档（删除 `---` 分隔符）",
    ),
    "yaml/empty": _e("error", "the file is empty", "文件为空"),
    "yaml/too-much-text": _e(
        "error",
        "the document expands to more than {limit} characters of text (aliases are counted each time they are used)",
        "文档展开后的文本超过 {limit} 个字符（别名每使用一次都计数）",
        "write the values out instead of repeating long texts through aliases",
        "请直接写出各个值，不要通过别名反复引用长文本",
    ),
    "yaml/bad-character": _e(
        "error",
        "the character {code} is not allowed in a YAML file",
        "YAML 文件中不允许出现字符 {code}",
        "remove it; control characters and lone surrogates cannot be read",
        "请删除该字符；控制字符和孤立的代理字符无法读取",
    ),
    "yaml/number-out-of-range": _e(
        "error",
        "the number `{text}` is outside what gspolicy computes with ({limits})",
        "数字 `{text}` 超出 gspolicy 的计算范围（{limits}）",
        "write the number with fewer digits; amounts and thresholds never need more",
        "请用较少的位数写出该数字；金额和标准从不需要更多位数",
    ),
    "yaml/bad-value": _e(
        "error",
        "`{text}` is not a valid `{tag}` value",
        "`{text}` 不是有效的 `{tag}` 值",
        "write a value of that type, or remove the tag",
        "请写出该类型的值，或删除该标签",
    ),
    # --- shapes of YAML documents (schema files, packs, cases) ----------------------------------
    "shape/unknown-key": _e(
        "error",
        "unknown key `{key}` in {where}",
        "{where} 中有未知的键 `{key}`",
        "the keys allowed here are: {allowed}",
        "此处允许的键为：{allowed}",
    ),
    "shape/missing-key": _e(
        "error",
        "missing key `{key}` in {where}",
        "{where} 缺少键 `{key}`",
    ),
    "shape/wrong-type": _e(
        "error",
        "expected {expected} for `{key}`, found {found}",
        "`{key}` 应为{expected}，实际为{found}",
    ),
    "shape/bad-value": _e(
        "error",
        "`{value}` is not a valid {expected} for `{key}`",
        "`{value}` 不是 `{key}` 的有效{expected}",
        "{hint}",
        "{hint}",
    ),
    # --- the household schema ---------------------------------------------------------------
    "schema/unknown-type": _e(
        "error",
        "unknown type `{type}`",
        "未知类型 `{type}`",
        "the types are: {types}",
        "可用的类型为：{types}",
    ),
    "schema/unknown-enum": _e(
        "error",
        "unknown enum `{name}`",
        "未知枚举 `{name}`",
    ),
    "schema/unknown-record": _e(
        "error",
        "unknown record type `{name}`",
        "未知记录类型 `{name}`",
    ),
    "schema/duplicate-label": _e(
        "error",
        "label `{label}` is used by both `{first}` and `{second}`",
        "标签 `{label}` 同时用于 `{first}` 和 `{second}`",
        "every enum label must name one code",
        "每个枚举标签只能对应一个代码",
    ),
    "schema/bad-bounds": _e(
        "error",
        "the lower bound {min} is above the upper bound {max}",
        "下限 {min} 大于上限 {max}",
    ),
    "schema/bad-name": _e(
        "error",
        "`{name}` is not a valid name",
        "`{name}` 不是有效的名称",
        "names start with a letter and hold letters, digits and `_`",
        "名称以字母开头，只含字母、数字和 `_`",
    ),
    "schema/missing-root": _e(
        "error",
        "the schema has no record type `{name}`",
        "数据结构中没有记录类型 `{name}`",
    ),
    "schema/unknown-field-ref": _e(
        "error",
        "no field `{name}` in this record type",
        "本记录类型中没有字段 `{name}`",
    ),
    "schema/not-before-type": _e(
        "error",
        "`not_before` is given on `{name}`, which is not a date field",
        "`{name}` 不是日期字段，不能使用 `not_before`",
        "`not_before` compares two date fields; use it on date fields only",
        "`not_before` 用于比较两个日期字段，只能用于日期字段",
    ),
    "schema/bad-gather": _e(
        "error",
        "this gathered list cannot be filled: {problem}",
        "无法填充这个汇集列表：{problem}",
        "a gathered list names the record type it gathers and the field of that type that holds the "
        "key of the record holding the list; its items have one field with `derive: record`",
        "汇集列表须写明所汇集的记录类型，以及该类型中保存本记录键值的字段；列表项须有一个 `derive: record` 字段",
    ),
    "schema/bad-derive": _e(
        "error",
        "`derive` must be `record`, or a mapping `{{verdict: <pack>}}` or `{{any_rule: <pack>}}`",
        "`derive` 应为 `record`，或映射 `{{verdict: <政策包>}}`、`{{any_rule: <政策包>}}`",
        "`verdict` and `any_rule` fill a true-or-false field; `record` fills a record field",
        "`verdict` 和 `any_rule` 填充是非字段；`record` 填充记录字段",
    ),
    "schema/recursive": _e(
        "error",
        "record type `{name}` contains itself",
        "记录类型 `{name}` 包含自身",
    ),
    "schema/unknown-role": _e(
        "error",
        "unknown role `{role}`",
        "未知角色 `{role}`",
        "the roles are: {roles}",
        "可用的角色为：{roles}",
    ),
    "schema/duplicate-role": _e(
        "error",
        "role `{role}` is given to two fields: `{first}` ({at}) and `{second}`",
        "角色 `{role}` 同时赋给了两个字段：`{first}`（{at}）和 `{second}`",
        "one field plays each role; remove `role:` from one of them",
        "每个角色只能由一个字段承担；请删去其中一个字段的 `role:`",
    ),
    "schema/bad-role": _e(
        "error",
        "field `{field}` cannot play role `{role}`: {problem}",
        "字段 `{field}` 不能承担角色 `{role}`：{problem}",
    ),
    "schema/missing-role": _e(
        "error",
        "no field plays role `{role}` ({title}), which {needed_by} needs",
        "没有字段承担角色 `{role}`（{title}），而{needed_by}需要它",
        "give the field that holds it `role: {role}`",
        "请给保存该信息的字段加上 `role: {role}`",
    ),
    "schema/bad-changeable": _e(
        "error",
        "`changeable` must be `household`, `department` or `no`, not `{value}`",
        "`changeable` 应为 `household`、`department` 或 `no`，而不是 `{value}`",
        "`household`: the household can change it; `department`: a department can; `no`: nobody can",
        "`household`：农户自己可以改变；`department`：部门可以改变；`no`：谁都不能改变",
    ),
    # --- household records --------------------------------------------------------------------
    "record/json-syntax": _e(
        "error",
        "invalid JSON: {problem}",
        "JSON 语法错误：{problem}",
    ),
    "record/not-a-record": _e(
        "error",
        "expected a record of type {record} (a mapping), found {found}",
        "应为{record}记录（映射），实际为{found}",
    ),
    "record/not-a-list": _e(
        "error",
        "expected a list of records, found {found}",
        "应为记录列表，实际为{found}",
        "a JSON or YAML record file holds one record or a list of records; "
        "a JSONL file holds one record per line",
        "JSON 或 YAML 记录文件包含一条记录或一个记录列表；JSONL 文件每行一条记录",
    ),
    "record/gathered-field": _e(
        "error",
        "field `{field}` of a {record} record is gathered by the evaluator and cannot be given in a data file",
        "{record}记录的字段 `{field}` 由求值器汇集，不能在数据文件中给出",
        "remove it: the evaluator fills it with the `{from}` records whose `{by}` is this record's code",
        "请删除该字段：求值器会用 `{by}` 等于本记录代码的 `{from}` 记录填充它",
    ),
    "record/unknown-field": _e(
        "error",
        "unknown field `{field}` in a {record} record",
        "{record}记录中有未知字段 `{field}`",
    ),
    "record/missing-field": _e(
        "error",
        "missing required field `{field}` in a {record} record",
        "{record}记录缺少必填字段 `{field}`",
    ),
    "record/wrong-type": _e(
        "error",
        "expected {expected}, found {found}",
        "应为{expected}，实际为{found}",
    ),
    "record/out-of-range": _e(
        "error",
        "{value} is out of range: {bounds}",
        "{value} 超出范围：{bounds}",
    ),
    "record/unknown-enum-value": _e(
        "error",
        "{value} is not a value of {enum}",
        "{value} 不是{enum}的取值",
        "the values are: {values}",
        "可用的取值为：{values}",
    ),
    "record/bad-date": _e(
        "error",
        "`{value}` is not a date",
        "`{value}` 不是有效日期",
        "write dates as YYYY-MM-DD, e.g. `2018-09-30`",
        "日期格式为 YYYY-MM-DD，例如 `2018-09-30`",
    ),
    "record/inexact-number": _e(
        "error",
        "`{value}` has more than {places} decimal places",
        "`{value}` 的小数位数超过 {places} 位",
        "money is exact to the fen (0.01 yuan)",
        "金额精确到分（0.01 元）",
    ),
    "record/missing-companion": _e(
        "error",
        "`{field}` is given without `{companion}`",
        "填写了 `{field}` 却没有填写 `{companion}`",
        "give `{companion}` too, or remove `{field}`",
        "请同时填写 `{companion}`，或删除 `{field}`",
    ),
    "record/duplicate-key": _e(
        "error",
        "duplicate key `{key}`",
        "重复的键 `{key}`",
        "keep one of the two entries",
        "请只保留其中一项",
    ),
    "record/duplicate-id": _e(
        "error",
        "duplicate {what} id `{id}` (first at {first})",
        "重复的{what}编号 `{id}`（首次出现在 {first}）",
    ),
    "record/date-order": _e(
        "error",
        "`{later}` ({later_value}) is before `{earlier}` ({earlier_value})",
        "`{later}`（{later_value}）早于 `{earlier}`（{earlier_value}）",
    ),
    "record/not-decided": _e(
        "info",
        "no record was decided: {invalid} of the {count} records read have problems{files}",
        "没有判定任何记录：读取的 {count} 条记录中有 {invalid} 条有问题{files}",
        "correct the problems listed above and run again; one bad record stops the whole run",
        "请更正上面列出的问题后重新运行；一条记录有误，整个运行都不会判定",
    ),
    "record/implied-birth": _e(
        "error",
        "an age of {age} recorded on {on} means a birth before {earliest}, the earliest birth date allowed",
        "{on} 记录的年龄为 {age}，意味着出生早于允许的最早出生日期 {earliest}",
        "check the age and the date it was recorded on, or give the birth date",
        "请核对年龄及其记录日期，或直接给出出生日期",
    ),
    "record/bad-text": _e(
        "error",
        "this text cannot be used: it {problem}",
        "该文本无法使用：{problem}",
        "remove the character, or shorten the text",
        "请删除该字符，或缩短该文本",
    ),
    "record/too-many": _e(
        "error",
        "more than {limit} records in one file",
        "单个文件中的记录超过 {limit} 条",
        "split the file",
        "请拆分文件",
    ),
    # --- command line -------------------------------------------------------------------------
    "cli/usage": _e("error", "{problem}", "{problem}"),
}

_NOUNS = {
    "a mapping": "映射",
    "a list": "列表",
    "a name": "名称",
    "a text": "文本",
    "a version": "版本号",
    "a whole number": "整数",
    "a number": "数字",
    "a date": "日期",
    "a date (YYYY-MM-DD)": "日期（YYYY-MM-DD）",
    "an amount of money": "金额",
    "a ratio": "比率",
    "`true` or `false`": "`true` 或 `false`",
    "`true` or `false` (是 / 否)": "`true` 或 `false`（是 / 否）",
    "date": "日期",
    "choice": "选项",
    "pattern": "正则表达式",
    "format version": "格式版本",
    "an expression": "表达式",
    "the schema file": "数据结构文件",
    "the pack file": "政策包文件",
    "the pack manifest": "政策包清单",
    "the test file": "测试文件",
    "a test case": "测试用例",
}
_PREFIXES = {
    "field": "字段",
    "enum": "枚举",
    "value": "取值",
    "record type": "记录类型",
    "parameter": "参数",
    "rule": "规则",
    "criterion": "指标",
    "fact": "派生事实",
    "measure": "措施",
    "invariant": "不变式",
    "source": "来源",
    "case": "测试用例",
    "value at": "取值",
    "`": "",
}


def noun(en: str) -> Text:
    """The zh and en forms of a noun phrase used in messages (``a whole number``, ``field `x```)."""
    if en in _NOUNS:
        return Text(zh=_NOUNS[en], en=en)
    for prefix, zh in _PREFIXES.items():
        if en.startswith(prefix + " `") or (prefix == "`" and en.startswith("`")):
            rest = en[len(prefix) :].lstrip() if prefix != "`" else en
            return Text(zh=f"{zh} {rest}".strip(), en=en)
    if en.startswith("a text matching "):
        return Text(zh="符合 " + en[len("a text matching ") :] + " 的文本", en=en)
    return Text(zh=en, en=en)


def entry(severity: str, en: str, zh: str, help_en: str | None = None, help_zh: str | None = None) -> Entry:
    """Make a catalogue entry (for the `register` calls of later stages)."""
    return _e(severity, en, zh, help_en, help_zh)


def register(entries: dict[str, Entry]) -> None:
    """Add a stage's codes to the catalogue (each stage registers its own when imported)."""
    for code, new in entries.items():
        old = CATALOGUE.get(code)
        if old is not None and old != new:
            raise ValueError(f"diagnostic code {code!r} registered twice")
        CATALOGUE[code] = new
