"""Writing pack test cases as YAML: a household as its changes from a file's defaults, dates as dates.

`record_changes` is the inverse of `gspolicy.testing.cases.merge_household`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any


def record_changes(default: Any, new: Any, keys: Mapping[str, str | None], field: str = "") -> Any:
    if isinstance(default, dict) and isinstance(new, dict):
        out: dict[str, Any] = {k: None for k in default if k not in new}
        for k, v in new.items():
            if k in default and default[k] == v:
                continue
            out[k] = record_changes(default[k], v, keys, k) if k in default else v
        return out
    key = keys.get(field)
    if key and isinstance(default, list) and isinstance(new, list):
        ids = {i.get(key) for i in new if isinstance(i, dict)}
        by_id = {i.get(key): i for i in default if isinstance(i, dict)}
        items: list[Any] = [{key: i.get(key), "remove": True} for i in default if i.get(key) not in ids]
        for item in new:
            old = by_id.get(item.get(key))
            if old is None:
                items.append(item)
            elif old != item:
                items.append({key: item.get(key), **record_changes(old, item, keys, field)})
        return items
    return new


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def yaml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_ready(v) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        return dt.date.fromisoformat(value)
    return value
