"""Imports flow one way (STYLE.md): foundation → schema → lang → pack → compile → engine → explain/columnar →
analysis/strategies/testing/store → cli → facade.  Internal modules never import the facade."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "gspolicy"

# the layer of each top-level module or subpackage; a module may import only its own layer or lower
LAYERS = {
    "_i18n": 0,
    "_glossary": 0,
    "_location": 0,
    "_messages": 0,
    "errors": 0,
    "_files": 0,
    "_memo": 0,
    "_cache": 0,
    "_gc": 0,
    "_numbers": 0,
    "_yaml": 0,
    "_shape": 0,
    "_resources": 0,
    "schema": 1,
    "lang": 2,
    "pack": 3,
    "compile": 4,
    "engine": 5,
    "explain": 6,
    "columnar": 6,
    "analysis": 7,
    "strategies": 7,
    "testing": 7,
    "store": 7,
    "tables": 7,
    "schemas": 7,
    "api": 7,
    "cli": 8,
    "_docs": 8,
    "__main__": 8,
    "__init__": 9,
}


def _layer_of(module: str) -> int:
    head = module.split(".", maxsplit=1)[0]
    assert head in LAYERS, f"add `{head}` to LAYERS in {__file__}"
    return LAYERS[head]


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
    return [(m, line) for m, line in found if m == "gspolicy" or m.startswith("gspolicy.")]


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_imports_flow_one_way() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        own = ".".join(rel.parts)
        mine = _layer_of(own)
        for module, line in _imports(path):
            if module == "gspolicy":
                if own not in ("__init__", "_docs"):
                    problems.append(f"{rel}:{line}: internal modules never import the facade")
                continue
            theirs = _layer_of(module.removeprefix("gspolicy."))
            if theirs > mine:
                problems.append(f"{rel}:{line}: `{module}` is a higher layer than `{own}`")
    assert not problems, "\n".join(problems)
