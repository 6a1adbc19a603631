"""Imports flow one way (STYLE.md): foundation → schema → lang → pack → compile → engine → explain/columnar →
analysis/strategies/testing/store → cli → facade.  Internal modules never import the facade."""

import ast
import functools
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
    "_reader": 0,
    "_patterns": 0,
    "_yaml_syntax": 0,
    "_resources": 0,
    "schema": 1,
    "lang": 2,
    "pack": 3,
    "engine": 5,
    "explain": 6,
    "columnar": 6,
    "analysis": 7,
    "strategies": 7,
    "testing": 7,
    "store": 7,
    "stats": 7,
    "spark": 7,
    "tables": 7,
    "schemas": 7,
    "api": 7,
    "cli": 8,
    "serve": 8,
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
    problems = _upward(SRC)
    assert not problems, "\n".join(problems)


def test_planted_an_upward_import_is_found(tmp_path: Path) -> None:
    root = tmp_path / "gspolicy"
    (root / "lang").mkdir(parents=True)
    (root / "lang" / "why.py").write_text(
        "def f():\n    from gspolicy.explain.render import legend\n", "utf-8"
    )
    (root / "explain").mkdir()
    (root / "explain" / "render.py").write_text("from gspolicy.lang.why import f\n", "utf-8")
    assert _upward(root) == ["lang/why:2: `gspolicy.explain.render` is a higher layer than `lang.why`"]


def _upward(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
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
    return problems


# -- cycles and private names ------------------------------------------------------------------------
# Beyond the layers: no module imports, at run time, one that imports it back — a function-level
# import counts (it only hides the cycle), an import under `if TYPE_CHECKING:` does not — and no
# module imports another module's private (`_name`) names: what is shared is named as shared.


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__") or "__init__"] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in (
            getattr(test, "id", None),
            getattr(test, "attr", None),
        ):
            skipped.update(id(sub) for part in node.body for sub in ast.walk(part))
    return skipped


def _runtime_imports(root: Path, package: str = "gspolicy") -> tuple[dict[str, set[str]], list[str]]:
    """Each module's run-time imports of the package's modules, and the private names imported
    across modules (as `file:line: name from module`)."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module != package and not node.module.startswith(package + "."):
                    continue
                base = node.module.removeprefix(package).lstrip(".") or "__init__"
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in modules:
                        found.add(sub)
                        continue
                    found.add(base)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and base != name:
                        private.append(f"{path.relative_to(root)}:{node.lineno}: {alias.name} from {base}")
            elif isinstance(node, ast.Import):
                found.update(
                    a.name.removeprefix(package + ".") for a in node.names if a.name.startswith(package + ".")
                )
        found.discard(name)
        graph[name] = {m for m in found if m in modules}
    return graph, private


@functools.cache
def _src_imports() -> tuple[dict[str, set[str]], list[str]]:
    """The source tree's run-time imports, read once per session (two tests read them)."""
    return _runtime_imports(SRC)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_no_import_cycle_and_no_private_name_crosses_modules() -> None:
    graph, private = _src_imports()
    assert _cycles(graph) == []
    assert private == []


def _planted(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "gspolicy"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_planted_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    root = _planted(
        tmp_path,
        {
            "pack/__init__.py": "",
            "pack/decision.py": "def render():\n    from gspolicy.pack.render import text\n    return text()\n",
            "pack/render.py": "from gspolicy.pack.decision import render\n\ndef text():\n    return ''\n",
            "pack/typed.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gspolicy.pack.decision import render\n"
            ),
        },
    )
    graph, _ = _runtime_imports(root)
    assert _cycles(graph) == [["pack.decision", "pack.render"]]  # the TYPE_CHECKING import is no edge


def test_planted_a_private_import_across_modules_is_found(tmp_path: Path) -> None:
    root = _planted(
        tmp_path,
        {
            "lang.py": "def _helper():\n    return 1\n\ndef __dunder__():\n    return 2\n",
            "pack.py": "from gspolicy.lang import _helper, __dunder__\n",
        },
    )
    _, private = _runtime_imports(root)
    assert private == ["pack.py:1: _helper from lang"]


# -- the order inside each package ----------------------------------------------------------------
# Inside a package, modules come in tiers: a module imports (at run time) only modules of its own
# package in its own tier or an earlier one.  Every module is placed — a new one must be given its
# tier here, which is the point: where a module sits is decided, not found.  The foundation (the
# top-level `_*.py` and `errors`) is one package for this.

INNER: dict[str, list[list[str]]] = {
    "foundation": [
        ["_i18n", "_location", "_memo", "_gc", "_cache", "_resources", "_patterns"],  # no gspolicy imports
        ["_glossary", "_messages", "_numbers"],  # words, the catalogue, exact numbers
        ["errors"],  # diagnostics and the public error
        ["_files", "_yaml_syntax", "_yaml"],  # reading files; YAML with positions
        ["_reader"],  # reading YAML nodes into typed values
    ],
    "schema": [
        ["roles", "record_text", "table_files"],  # the roles; record text as plain data; table files
        ["model"],  # the typed schema
        ["check_roles", "validate", "id_ledger", "table_write"],  # checks, one record, ids, writing tables
        ["paths", "load", "tabular"],  # reading the schema; reading registry tables
        ["records", "doc"],  # loading record files; the reference page
    ],
    "lang": [
        ["values", "types", "ast"],
        ["parse", "printer", "typed"],
        ["typecheck", "interpret"],
        ["why"],
    ],
    "pack": [
        ["model", "format", "fmt_notes", "fmt", "fmt_files"],  # the pack's form, its declared format; layout
        ["read_values", "read", "hash"],
        ["typecheck"],
        ["across", "policy_set"],
        ["load", "book"],
        ["workspace"],
    ],
    "engine": [
        ["frame", "events", "event_fields", "run", "invariants", "support", "durable_conditions"],
        ["lowering", "verdicts"],  # the lowering, one closure per node kind; reading values
        ["watched", "compiled", "measures"],
        ["outcome", "durable"],  # one set of rules from values to outcomes; the durable_rules host
        ["monitor"],
    ],
    "explain": [
        ["parts", "wording", "summaries", "legend"],  # the parts of a decision; words; counting outcomes
        ["render", "render_json", "render_areas", "summary"],  # rendering reads parts, never the builders
        ["decision"],
        ["evidence"],  # what a verdict rests on
        ["verdicts", "buffer"],  # the parts of a decision read from a pack outcome
        ["build"],
        ["gather", "area_reads"],  # the areas' gathered lists; what their packs read of households
        ["areas", "alerts"],
    ],
    "columnar": [
        ["plan", "lines"],
        ["plan_named"],  # named expressions (statistics indicators) as a plan
        ["frames"],
        ["ingest", "polars_columns", "polars_lower", "polars_aggregates", "polars_backend"],
        ["run", "texts", "findings", "retained"],  # one run, decoded
        ["runner"],
        ["registry_block", "registry"],  # registries read a block at a time
    ],
    "analysis": [
        ["_where", "fold", "smt"],
        ["impact", "diff_sides", "lint_version", "prove"],
        ["diff", "lint_set", "prove_diff", "prove_across"],
        ["what_if"],
        ["prove_report", "what_if_report"],
        ["lint"],
        ["report", "html"],
    ],
    "testing": [
        ["cases", "case_yaml"],  # pack test cases; writing them as YAML
        ["coverage.measure", "properties.harness", "pytest_plugin"],
        ["coverage.report", "properties.buffer", "properties.changes", "properties.independence"],
        ["coverage.search"],  # measure → report → search → write
        ["coverage.write"],
        ["coverage", "properties"],  # the packages' surfaces
    ],
    "strategies": [
        ["arguments"],
        ["households", "pack_thresholds", "expression_trees"],
        ["boundary", "small_packs"],
    ],
    "store": [
        ["chain", "anchor", "ledger_rows"],  # the chain and its anchors; the ledger's rows
        ["db", "planning", "ledger_tables", "card"],
        ["recorder", "verify", "replay", "outcome_table"],  # recording apart from the audit tools
        ["log", "ledger"],  # the two stores' classes
    ],
    "schemas": [["build"]],
    "stats": [
        ["quarter", "report_words"],  # a quarter's days; the wall chart's words
        ["figures", "lists"],  # the figures counted in it; the management lists
        ["lowered", "tally"],  # the figures by columns, a block at a time, and gathered
        [
            "registry",
            "write",
            "reconcile",
        ],  # a registry's figures, written out, a report checked against them
        ["report"],  # the wall chart
    ],
    "serve": [
        [
            "state",
            "bodies",
            "checking",
            "draft",
        ],  # the set held and swapped; request bodies; pack checks; a draft pack
        ["openapi", "playground", "guards"],  # the document's schemas; the playground; token and log
        ["app"],
        ["run"],  # uvicorn and SIGHUP
    ],
    "spark": [
        ["session", "batches"],  # starting Spark; what one task does, without Spark
        ["lower_columns"],  # the native lowering: a node's Spark columns and their spellings
        ["lower_read"],  # the households' cells as typed columns
        ["lower_nodes"],  # where the columns go: projections by level, item stages
        ["lower_operators"],  # the nodes but the lists'
        ["lower_aggregates"],  # lists and aggregates over arrays of structs
        ["lower"],  # the compact table, what falls back
        ["arrow", "native_check"],  # the runner in mapInArrow; the reading checks there
        ["native_columns"],  # the native path's small pieces
        ["native_retained"],  # the retained support, natively
        ["native"],  # the outcome assembled in the JVM
        ["frames"],  # the packs on Spark DataFrames
    ],
    "cli": [
        ["_click_zh", "_progress"],
        ["_support"],
        ["_options", "_run", "_store", "_prove"],  # what several commands share
        ["evaluate_output", "evaluate_report", "evaluate_areas", "evaluate_streamed"],  # the main job's parts
        [
            "evaluate",
            "evaluate_spark",
            "explain",
            "fmt",
            "households",
            "ledger",
            "lists",
            "log",
            "monitor",
            "packs",
            "reconcile",
            "report",
            "schema",
            "serve",
            "stats",
        ],
    ],
}

_FOUNDATION_EXTRA = {"errors"}


def _package_of(module: str) -> tuple[str, str] | None:
    """(package, module inside it) for the packages `INNER` orders; None for the others."""
    head, _, rest = module.partition(".")
    if not rest:
        private = head.startswith("_") and head not in ("__init__", "__main__", "_docs")
        if private or head in _FOUNDATION_EXTRA:
            return "foundation", head
        return None
    return head, rest


def _inner_order(root: Path, order: dict[str, list[list[str]]]) -> list[str]:
    graph, _ = _src_imports() if root == SRC else _runtime_imports(root)
    tier_of = {
        (package, name): index
        for package, tiers in order.items()
        for index, tier in enumerate(tiers)
        for name in tier
    }
    problems = []
    for module in sorted(graph):
        place = _package_of(module)
        if place is None or place[0] not in order or place[1] == "__init__":
            continue
        if place not in tier_of:
            problems.append(f"{module}: place it in a tier of `{place[0]}` in INNER ({__file__})")
            continue
        for imported in sorted(graph[module]):
            other = _package_of(imported)
            if other is None or other[0] != place[0] or other[1] == "__init__" or other not in tier_of:
                continue
            if tier_of[other] > tier_of[place]:
                problems.append(f"{module} imports {imported}, a later tier of `{place[0]}`")
    named = set(tier_of)
    present = {p for p in (_package_of(m) for m in graph) if p is not None}
    problems.extend(
        f"{package}.{name}: in INNER but not a module" for package, name in sorted(named - present)
    )
    return problems


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_modules_inside_a_package_import_in_order() -> None:
    problems = _inner_order(SRC, INNER)
    assert not problems, "\n".join(problems)


def test_planted_an_import_against_the_order_inside_a_package_is_found(tmp_path: Path) -> None:
    root = _planted(
        tmp_path,
        {
            "pack/__init__.py": "",
            "pack/model.py": "from gspolicy.pack.read import read\n",
            "pack/read.py": "def read():\n    from gspolicy.pack.model import Pack\n",
            "pack/extra.py": "",
        },
    )
    order = {"pack": [["model"], ["read"], ["gone"]]}
    assert _inner_order(root, order) == [
        "pack.extra: place it in a tier of `pack` in INNER (" + __file__ + ")",
        "pack.model imports pack.read, a later tier of `pack`",
        "pack.gone: in INNER but not a module",
    ]
