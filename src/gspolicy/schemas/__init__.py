"""The JSON Schemas gspolicy ships, where editors and applications find them.

The files ``<name>.schema.json`` in this folder are installed with the package: the pack file
(``pack``), a file of pack test cases (``case``), a household record (``household``), the
explained decision (``decision``), one outcome row (``outcome``), a run manifest
(``manifest``) and a quarter's figures (``stats``).  All but the decision's are generated
(`gspolicy.schemas.build`).  This module only reads them: it lists them (`schema_names`), gives
their text (`schema_text`) and writes a
workspace's editor settings so that YAML editors (the yaml-language-server, e.g. in VS Code)
complete and check pack and case files (`write_editor_settings`).

Not to be confused with `gspolicy.schema`, the household schema itself (the YAML declaration of
record types that this folder's ``household.schema.json`` is generated from).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from gspolicy._i18n import Text
from gspolicy.errors import Diagnostic, PolicyError, suggest

__all__ = [
    "EDITOR_SCHEMAS",
    "SCHEMA_FOLDER",
    "WORKSPACE_SCHEMAS",
    "schema_names",
    "schema_path",
    "schema_text",
    "write_editor_settings",
]

SCHEMA_FOLDER = Path(__file__).resolve().parent
"""The folder of the shipped ``*.schema.json`` files (inside the installed package)."""

_SUFFIX = ".schema.json"

WORKSPACE_SCHEMAS = Path(".gspolicy") / "schemas"
"""Where `write_editor_settings` copies the schemas in a workspace (relative to its root)."""

EDITOR_SCHEMAS: dict[str, tuple[str, ...]] = {
    "pack": ("policies/**/*.yaml", "!policies/**/tests/*.yaml", "!policies/schema/*.yaml"),
    "case": ("**/tests/*.yaml",),
}
"""The schemas a YAML editor applies, by name, to the workspace files they match (yaml-language-
server globs, relative to the workspace root; ``!`` excludes)."""

_SETTINGS = Path(".vscode") / "settings.json"
_YAML_SCHEMAS = "yaml.schemas"


def schema_names() -> tuple[str, ...]:
    """The names of the shipped schemas, sorted (``case``, ``decision``, ``household``, …)."""
    return tuple(sorted(p.name.removesuffix(_SUFFIX) for p in SCHEMA_FOLDER.glob(f"*{_SUFFIX}")))


def schema_path(name: str) -> Path:
    """The shipped file of the schema `name`; `PolicyError` (``jsonschema/unknown-name``, with
    "did you mean") when there is none."""
    names = schema_names()
    if name not in names:
        raise PolicyError(
            [
                Diagnostic(
                    "jsonschema/unknown-name",
                    None,
                    {"name": name, "names": ", ".join(f"`{n}`" for n in names)},
                    suggestions=suggest(name, names),
                )
            ]
        )
    return SCHEMA_FOLDER / f"{name}{_SUFFIX}"


def schema_text(name: str) -> str:
    """The text of the shipped schema `name` (JSON, draft 2020-12); `PolicyError` for an unknown
    name, listing the names."""
    return schema_path(name).read_text(encoding="utf-8")


def _editor_entries() -> dict[str, list[str]]:
    return {
        f"./{(WORKSPACE_SCHEMAS / f'{n}{_SUFFIX}').as_posix()}": list(g) for n, g in EDITOR_SCHEMAS.items()
    }


def _bad_settings(path: Path, reason: Text) -> PolicyError:
    hint = json.dumps({_YAML_SCHEMAS: _editor_entries()}, ensure_ascii=False)
    return PolicyError(
        [Diagnostic("jsonschema/bad-settings", None, {"path": str(path), "reason": reason, "hint": hint})]
    )


def _read_settings(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        said = getattr(err, "strerror", None) or str(err)
        raise _bad_settings(path, Text(zh=f"无法读取（{said}）", en=f"cannot read it ({said})")) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        where = Text(
            zh=f"第 {err.lineno} 行第 {err.colno} 列不是 JSON（{err.msg}）",
            en=f"not JSON at line {err.lineno}, column {err.colno} ({err.msg})",
        )
        raise _bad_settings(path, where) from None
    if not isinstance(data, dict):
        raise _bad_settings(path, Text(zh="它不是 JSON 对象", en="it is not a JSON object"))
    if not isinstance(data.get(_YAML_SCHEMAS, {}), dict):
        raise _bad_settings(
            path, Text(zh=f"其中的 `{_YAML_SCHEMAS}` 不是对象", en=f"its `{_YAML_SCHEMAS}` is not an object")
        )
    return data


def _write(path: Path, text: str) -> None:
    """Write `text` to `path` whole (a temporary file beside it, moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def write_editor_settings(root: Path) -> list[Path]:
    """Set up the workspace at `root` for YAML editors; returns the files written.

    Copies every shipped schema into ``root/.gspolicy/schemas/`` (so the settings work from a
    wheel install and do not change when gspolicy is upgraded elsewhere; ``household.schema.json``
    is generated from the workspace's own ``policies/schema/household.yaml`` when that reads
    cleanly) and adds to ``root/.vscode/settings.json`` the ``yaml.schemas`` entries mapping the
    pack schema to ``policies/**/*.yaml`` (not the cases nor the household schema) and the case
    schema to ``**/tests/*.yaml``.  Other settings and other ``yaml.schemas`` entries are kept.

    Raises `PolicyError` (nothing written) when the existing settings file is not a JSON object
    (VS Code allows comments there; a file with comments is left alone and the entries to add by
    hand are named), or a file cannot be written."""
    settings_path = root / _SETTINGS
    settings = _read_settings(settings_path)  # before anything is written
    texts = {name: schema_text(name) for name in schema_names()}
    own = _workspace_household(root)
    if own is not None:
        texts["household"] = own
    merged = dict(settings)
    merged[_YAML_SCHEMAS] = {**settings.get(_YAML_SCHEMAS, {}), **_editor_entries()}
    written: list[Path] = []
    try:
        for name, text in texts.items():
            target = root / WORKSPACE_SCHEMAS / f"{name}{_SUFFIX}"
            _write(target, text)
            written.append(target)
        _write(settings_path, json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
        written.append(settings_path)
    except OSError as err:
        where = getattr(err, "filename", None) or str(root)
        raise PolicyError(
            [
                Diagnostic(
                    "jsonschema/cannot-write", None, {"path": str(where), "reason": err.strerror or str(err)}
                )
            ]
        ) from None
    return written


def _workspace_household(root: Path) -> str | None:
    """The household record schema of the workspace's own household schema, when it has one that
    reads without errors (None: the shipped one applies)."""
    path = root / "policies" / "schema" / "household.yaml"
    if not path.is_file():
        return None
    from gspolicy.schema.load import read_schema  # noqa: PLC0415  # only for a workspace's own schema
    from gspolicy.schemas.build import record_schema, render  # noqa: PLC0415

    schema, problems = read_schema(path)
    if schema is None or any(d.is_error for d in problems):
        return None
    return render(record_schema(schema))
