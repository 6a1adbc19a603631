"""Writing pack test cases as YAML: a case added to a file, a household as its changes from the defaults.

`write_case` adds a case; `record_changes` is the inverse of `gspolicy.testing.cases.merge_household`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gspolicy._patterns import DATE_RE
from gspolicy._yaml import dump_yaml
from gspolicy.pack.fmt import format_text
from gspolicy.schema.model import Record


def record_changes(default: Any, new: Any, keys: Mapping[str, str | None], field: str = "") -> Any:
    """What a case writes so that merging it onto `default` gives `new` (`keys`: each list's item key)."""
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


def yaml_ready(value: Any) -> Any:
    """Record data with its ISO date texts as dates, so that YAML writes them as dates."""
    if isinstance(value, dict):
        return {k: yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_ready(v) for v in value]
    if isinstance(value, str) and DATE_RE.match(value):
        return dt.date.fromisoformat(value)
    return value


# -- one case added to a test file ------------------------------------------------------------------


def write_case(
    path: Path | str,
    household: Record | Mapping[str, Any],
    *,
    as_of: dt.date,
    pack: str,
    expect: Mapping[str, Any],
    name: str,
) -> Path:
    """Add a test case to the YAML test file at `path` (created with ``pack: <pack>`` when it
    does not exist; an existing file must be about the same pack).  The household is written in
    full (a `defaults` in the file does not apply: every field the file's defaults has and the
    household lacks is written as ``~``).  Returns the path."""
    target = Path(path)
    data = household.to_data() if isinstance(household, Record) else copy.deepcopy(dict(household))
    document: dict[str, Any] = {"pack": pack, "cases": []}
    if target.exists():
        document = yaml.safe_load(target.read_text(encoding="utf-8")) or document
        if document.get("pack") != pack:
            raise ValueError(f"{target} is about pack `{document.get('pack')}`, not `{pack}`")
        defaults = document.get("defaults")
        if isinstance(defaults, dict) and defaults:
            # the case merges onto the file's defaults: write what differs, `~` for what is not there
            keys: dict[str, str | None] = {
                k: "id"
                for k, v in defaults.items()
                if isinstance(v, list) and v and all(isinstance(i, dict) and "id" in i for i in v)
            }
            data = record_changes(defaults, yaml_ready(data), keys)
    case = {"name": name, "as_of": as_of, "household": yaml_ready(data), "expect": dict(expect)}
    document.setdefault("cases", []).append(case)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dump_yaml(document)
    target.write_text(format_text(text, path=target), encoding="utf-8")  # the canonical layout
    return target
