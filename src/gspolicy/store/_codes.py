"""The diagnostics of the decision log (``store/…``) and the household ledger (``ledger/…``)."""

from __future__ import annotations

from gspolicy._messages import entry, register

__all__: list[str] = []

register(
    {
        # --- the decision log ---------------------------------------------------------------
        "store/no-log": entry(
            "error",
            "there is no decision log at `{path}`",
            "`{path}` 处没有判定日志",
            "record a decision first (`gspolicy log record FILE --db {path} …`) or check the path",
            "请先记录判定（`gspolicy log record FILE --db {path} …`），或检查路径",
        ),
        "store/not-a-log": entry(
            "error",
            "`{path}` is not a gspolicy decision log: {reason}",
            "`{path}` 不是 gspolicy 判定日志：{reason}",
        ),
        "store/damaged": entry(
            "error",
            "the log `{path}` is damaged: {reason}",
            "日志 `{path}` 已损坏：{reason}",
            "restore the file from a backup; `gspolicy log verify` names the first damaged entry",
            "请从备份恢复该文件；`gspolicy log verify` 会指出第一个损坏的条目",
        ),
        "store/damaged-entry": entry(
            "error",
            "entry {id} of the log is damaged (`{column}`: {problem})",
            "日志条目 {id} 已损坏（`{column}`：{problem}）",
            "run `gspolicy log verify`; restore the log from a backup",
            "请运行 `gspolicy log verify`，并从备份恢复日志",
        ),
        "store/newer-format": entry(
            "error",
            "the decision log `{path}` has format {found}, newer than this gspolicy knows ({known})",
            "判定日志 `{path}` 的格式为 {found}，比本版 gspolicy 支持的（{known}）更新",
            "use a newer gspolicy to open it",
            "请使用更新版本的 gspolicy 打开",
        ),
        "store/busy": entry(
            "error",
            "the decision log `{path}` stayed locked by another writer: {reason}",
            "判定日志 `{path}` 一直被其他写入者锁定：{reason}",
            "try again when the other writer has finished",
            "请等其他写入者结束后重试",
        ),
        "store/unknown-entry": entry(
            "error",
            "the decision log has no entry `{id}`",
            "判定日志中没有条目 `{id}`",
            "the log holds entries 1 to {last}",
            "日志中的条目编号为 1 至 {last}",
        ),
        "store/unknown-household": entry(
            "error",
            "the record files hold no household `{household}`",
            "记录文件中没有农户 `{household}`",
        ),
        "store/missing-actor": entry(
            "error",
            "the actor is empty",
            "未填写操作人",
            "name the person or system that records the decision (`--actor`)",
            "请写明记录判定的人员或系统（`--actor`）",
        ),
        "store/not-the-decision": entry(
            "error",
            "the decision on household `{household}` is not the one the packs give as of {as_of}",
            "农户 `{household}` 的判定结果与截至 {as_of} 的政策包计算结果不一致",
            "record only decisions made by evaluating the record with the given packs",
            "只能记录用给定政策包对该记录求值得到的判定",
        ),
        "store/schema-changed": entry(
            "error",
            "the household schema file `{path}` changed or vanished since the packs were loaded",
            "自加载政策包以来，农户数据结构文件 `{path}` 已被修改或删除",
            "load the packs again, then record",
            "请重新加载政策包后再记录",
        ),
        "store/bad-receipt": entry(
            "error",
            "`{path}` is not a receipt or a checkpoint: {reason}",
            "`{path}` 不是回执或检查点文件：{reason}",
            "pass a receipt printed by `gspolicy log record --format json` or a `.head` checkpoint file",
            "请传入 `gspolicy log record --format json` 输出的回执或 `.head` 检查点文件",
        ),
        "store/replay-failed": entry(
            "error",
            "entry `{id}` cannot be replayed: its stored packs do not load",
            "条目 `{id}` 无法重放：其保存的政策包无法加载",
            "run `gspolicy log verify` — the stored packs may have been altered",
            "请运行 `gspolicy log verify`——保存的政策包可能已被篡改",
        ),
        "store/old-format": entry(
            "error",
            "`{path}` is a decision log of format 1 holding {count} entries; this gspolicy writes and "
            "verifies format 2 (compact entries) only",
            "`{path}` 是第 1 版格式的判定日志，含 {count} 个条目；本版 gspolicy 只能写入和校验第 2 版（紧凑条目）",
            "keep the file as it is and verify it with the gspolicy version that wrote it; record the "
            "households again into a new log (`gspolicy log record FILE --db NEW.db …`)",
            "请原样保留该文件，并用写入它的 gspolicy 版本校验；把这些农户重新记录到新日志"
            "（`gspolicy log record FILE --db NEW.db …`）",
        ),
        "store/not-written": entry(
            "error",
            "{count} entries were not written to `{path}` (households {households}, from `{first}` to "
            "`{last}`): {reason}",
            "有 {count} 个条目未能写入 `{path}`（农户 {households}，自 `{first}` 至 `{last}`）：{reason}",
            "nothing of that batch is in the log; the entries before it (up to entry {kept}) are, with their "
            "receipts, and the log verifies; free space or fix the cause, then record these households again",
            "该批条目均未写入；此前的条目（至条目 {kept}）已写入并有回执，日志可通过校验；请腾出空间或排除原因后"
            "重新记录这些农户",
        ),
        "store/run-not-closed": entry(
            "error",
            "the run's manifest entry was not written to `{path}`: {reason}",
            "运行清单条目未能写入 `{path}`：{reason}",
            "every decision of the run is in the log with its receipt; the run has no manifest entry",
            "本次运行的每条判定均已写入日志并有回执，只是缺少运行清单条目",
        ),
        "store/not-a-decision": entry(
            "error",
            "entry `{id}` is a `{kind}` entry, not a decision",
            "条目 `{id}` 是 `{kind}` 条目，不是判定",
            "replay a decision entry (`gspolicy log show ID` says what an entry is)",
            "请重放判定条目（`gspolicy log show ID` 可查看条目类型）",
        ),
        # --- the household ledger ----------------------------------------------------------
        "ledger/unknown-household": entry(
            "error",
            "the ledger has no household `{household}`",
            "台账中没有农户 `{household}`",
            "plan the household's support first (`gspolicy ledger plan ENTRY`)",
            "请先为该户制定帮扶计划（`gspolicy ledger plan ENTRY`）",
        ),
        "ledger/unknown-measure": entry(
            "error",
            "household `{household}` does not hold measure `{measure}` in its current plan",
            "农户 `{household}` 的当前帮扶计划中没有措施 `{measure}`",
            "the household's plan holds: {held}",
            "该户计划中的措施：{held}",
        ),
        "ledger/future-date": entry(
            "error",
            "the date {day} is in the future (today is {today})",
            "日期 {day} 晚于今天（{today}）",
            "record progress on or after the day it happened",
            "请在进展发生当天或之后登记",
        ),
        "ledger/before-plan": entry(
            "error",
            "the date {day} is before the plan of household `{household}` ({planned})",
            "日期 {day} 早于农户 `{household}` 的计划日期（{planned}）",
        ),
        "ledger/bad-status": entry(
            "error",
            "`{status}` is not a progress status",
            "`{status}` 不是有效的进展状态",
            "use `in_progress` or `done`",
            "请使用 `in_progress`（进行中）或 `done`（已完成）",
        ),
        "ledger/missing-actor": entry(
            "error",
            "the update does not say who made it",
            "进展登记未写明登记人",
            "name the person responsible (`--by`)",
            "请写明责任人（`--by`）",
        ),
        "ledger/missing-evidence": entry(
            "error",
            "measure `{measure}` is marked done without evidence",
            "措施 `{measure}` 标记为已完成，但没有佐证材料",
            "say what shows it is done (`--evidence`, e.g. a payment voucher number)",
            "请写明完成的佐证（`--evidence`，例如支付凭证编号）",
        ),
        "ledger/already-done": entry(
            "error",
            "measure `{measure}` of household `{household}` is already done (on {day})",
            "农户 `{household}` 的措施 `{measure}` 已于 {day} 完成",
        ),
        "ledger/already-planned": entry(
            "error",
            "household `{household}` already has a plan from {origin}",
            "农户 `{household}` 已有来自{origin}的帮扶计划",
            "plan from a later decision to replace it",
            "如需替换，请基于更新的判定制定计划",
        ),
        "ledger/nothing-to-plan": entry(
            "error",
            "the decision in entry `{entry}` grants household `{household}` no measure",
            "条目 `{entry}` 中的判定没有给农户 `{household}` 任何帮扶措施",
        ),
        "ledger/bad-deadline": entry(
            "error",
            "the deadline of measure `{measure}` ({day}) is before the plan date {planned}",
            "措施 `{measure}` 的完成时限（{day}）早于计划日期 {planned}",
        ),
        "ledger/unknown-deadline-measure": entry(
            "error",
            "a deadline is given for measure `{measure}`, which the decision does not grant",
            "为措施 `{measure}` 设定了完成时限，但判定并未给予该措施",
            "the decision grants: {held}",
            "判定给予的措施：{held}",
        ),
        "ledger/bad-quarter": entry(
            "error",
            "`{text}` is not a quarter",
            "`{text}` 不是有效的季度",
            "write a quarter as `2018Q4`",
            "季度写作 `2018Q4`",
        ),
        # --- planning from an outcome row or table ----------------------------------------
        "ledger/bad-row": entry(
            "error",
            "{where}: household `{household}` has no `{column}`",
            "{where}：农户 `{household}` 缺少 `{column}`",
        ),
        "ledger/bad-support": entry(
            "error",
            "{where}: `{text}` in the support of household `{household}` is not `measure=amount (why)`",
            "{where}：农户 `{household}` 的帮扶 `{text}` 不是 `措施=金额 (依据)` 的形式",
            "decide the households again with this gspolicy (`gspolicy evaluate … --output`)",
            "请用本版 gspolicy 重新判定（`gspolicy evaluate … --output`）",
        ),
        "ledger/unknown-grant": entry(
            "error",
            "{where}: the support of household `{household}` holds measure `{measure}` from `{why}`, "
            "which is neither a rule granting it in the packs that decided it nor a basis of an active buffer",
            "{where}：农户 `{household}` 的帮扶中措施 `{measure}` 来自 `{why}`，"
            "但它既不是判定所用政策包中给予该措施的规则，也不是生效中的缓冲期依据",
            "plan with the policy set that made the decision (`--policies PATH`)",
            "请使用作出该判定的政策集制定计划（`--policies PATH`）",
        ),
        "ledger/table-format": entry(
            "error",
            "cannot plan from `{path}`: an outcome table ends in .parquet, .jsonl or .csv, not `{suffix}`",
            "无法依据 `{path}` 制定计划：结果表应以 .parquet、.jsonl 或 .csv 结尾，而不是 `{suffix}`",
            "write one with `gspolicy evaluate FILE… --output OUT.parquet`",
            "请用 `gspolicy evaluate FILE… --output OUT.parquet` 生成结果表",
        ),
        "ledger/unreadable-table": entry(
            "error",
            "cannot read the outcome table `{path}`: {reason}",
            "无法读取结果表 `{path}`：{reason}",
        ),
        "ledger/not-an-outcome-table": entry(
            "error",
            "`{path}` is not an outcome table a plan can be made from: it lacks {missing} (its columns: {columns})",
            "`{path}` 不是可据以制定计划的结果表：缺少列 {missing}（现有列：{columns}）",
            "write it with `gspolicy evaluate … --output` without `--fields`, "
            "or with at least `--fields id,as_of,support,rules,buffer,buffer_until`",
            "请用 `gspolicy evaluate … --output` 生成（不加 `--fields`，"
            "或至少包含 `--fields id,as_of,support,rules,buffer,buffer_until`）",
        ),
        "ledger/empty-cells": entry(
            "error",
            "`{path}`: {count} row(s) have no `{column}`",
            "`{path}`：有 {count} 行缺少 `{column}`",
        ),
        "ledger/no-manifest": entry(
            "error",
            "`{path}` has no run manifest (`{manifest}`, or for Parquet the file's own metadata)",
            "`{path}` 没有运行清单（`{manifest}`，Parquet 文件也可在其元数据中）",
            "plan only from a table written by `gspolicy evaluate --output`, its manifest beside it",
            "只能依据 `gspolicy evaluate --output` 生成的结果表制定计划，运行清单须在其旁",
        ),
        "ledger/bad-manifest": entry(
            "error",
            "the run manifest `{manifest}` of `{path}` cannot be used: {reason}",
            "`{path}` 的运行清单 `{manifest}` 无法使用：{reason}",
        ),
        "ledger/manifest-mismatch": entry(
            "error",
            "`{path}` is not the file its manifest `{manifest}` describes (the manifest gives {expected}, "
            "the file is {found})",
            "`{path}` 不是其运行清单 `{manifest}` 所描述的文件（清单记载 {expected}，实际为 {found}）",
            "the table was changed after it was written: decide the households again",
            "结果表在生成后被修改过，请重新判定",
        ),
        "ledger/policy-mismatch": entry(
            "error",
            "`{path}` was decided with pack `{pack}` ({hash}); the policy set in use {held}",
            "`{path}` 是用政策包 `{pack}`（{hash}）判定的；当前使用的政策集{held}",
            "plan with the policy set that decided the table (`--policies PATH`)",
            "请使用判定该结果表的政策集制定计划（`--policies PATH`）",
        ),
        "ledger/not-planned": entry(
            "error",
            "nothing was planned from `{path}`: {reason}",
            "未能依据 `{path}` 制定任何计划：{reason}",
        ),
        "ledger/partly-planned": entry(
            "error",
            "planning from `{path}` stopped: {reason}; the first {rows} rows were committed before "
            "({planned} households planned), nothing after them",
            "依据 `{path}` 制定计划时中断：{reason}；此前的 {rows} 行已提交（已为 {planned} 户制定计划），"
            "其后的均未写入",
            "run the same command again once the cause is fixed: the households already planned are skipped",
            "排除原因后重新运行同一命令即可：已制定计划的农户会被跳过",
        ),
    }
)
