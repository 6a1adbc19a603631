"""The diff's diagnostics (``diff/…``), each with its severity and its message and help in zh and en."""

from __future__ import annotations

from gspolicy._messages import entry, register

__all__: list[str] = []

register(
    {
        "diff/no-packs": entry(
            "error",
            "`{path}` holds no pack",
            "`{path}` 中没有政策包",
            "give a policy root, a pack folder or a pack version file",
            "请给出政策根目录、政策包文件夹或政策包版本文件",
        ),
        "diff/level-not-decided": entry(
            "warning",
            "the {side} side has no {level} pack in force on {as_of}: its {level}s are not compared",
            "{as_of} 时{side}一侧没有有效的{level}级政策包：不比较该级",
            "compare policy roots, or packs that lie in a policy root, or choose another `--as-of`",
            "请比较政策根目录，或位于政策根目录中的政策包，或另选 `--as-of`",
        ),
        "diff/completed": entry(
            "info",
            "the {side} side is completed with the other packs of `{root}` to decide households, villages and counties",
            "{side}一侧以 `{root}` 中的其他政策包补全，以判定农户、村和县",
        ),
        "diff/import-lost": entry(
            "error",
            "on the {side} side, pack `{id}` of `{root}` imports parameters the side's parameters pack no longer gives",
            "{side}一侧：`{root}` 中的政策包 `{id}` 导入的参数在该侧的参数包中已不存在",
            "keep the parameters other packs import, or compare whole policy roots",
            "请保留其他政策包导入的参数，或比较完整的政策根目录",
        ),
        "diff/not-in-force": entry(
            "warning",
            "no version of pack `{id}` is in force on {as_of} on the {side} side: its decisions cannot change",
            "{as_of} 时{side}一侧没有政策包 `{id}` 的有效版本：相关判定不会变化",
            "choose an `--as-of` date inside the validity of the versions compared",
            "请选择在所比较版本有效期内的 `--as-of` 日期",
        ),
        "diff/schema-changed": entry(
            "info",
            "the two sides use different household schemas (`{old}` and `{new}`); households are read with each",
            "两侧使用不同的农户数据结构（`{old}` 与 `{new}`）；农户记录分别按各自的数据结构读取",
        ),
    }
)
