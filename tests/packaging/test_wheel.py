"""The bundled policies ship inside the wheel and load from there, in a fresh virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import attrs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import gspolicy
    from gspolicy._resources import bundled_policies, bundled_schema_path
    from gspolicy.schema.load import read_schema
    from gspolicy._glossary import word
    from gspolicy.schemas import SCHEMA_FOLDER, schema_names, schema_text, write_editor_settings
    schema, problems = read_schema(bundled_schema_path())
    print(json.dumps({
        "package": str(Path(gspolicy.__file__).resolve().parent),
        "policies": str(bundled_policies().resolve()),
        "schema_loaded": schema is not None,
        "glossary": word("answer", "no", "zh"),
        "problems": [d.render("en") for d in problems],
        "files": sorted(str(p.relative_to(bundled_policies())) for p in bundled_policies().rglob("*.yaml")),
        "schema_folder": str(SCHEMA_FOLDER),
        "schemas": {name: json.loads(schema_text(name))["$schema"] for name in schema_names()},
        "editor": sorted(str(p.relative_to(Path.cwd())) for p in write_editor_settings(Path.cwd())),
    }))
    """
)


@attrs.frozen
class Installed:
    python: Path
    site: Path
    env: dict[str, str]
    wheel_names: list[str]

    def gspolicy(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), "-m", "gspolicy", *args, "--lang", "en"],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.env,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """gspolicy built as a wheel and installed in a fresh virtual environment."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("gspolicy-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True
    )
    # the runtime dependencies come from this interpreter's site-packages (no network needed);
    # plain paths in a .pth file do not pull in the editable checkout of gspolicy
    deps = sorted(
        {str(Path(attrs.__file__).resolve().parents[1]), str(Path(yaml.__file__).resolve().parents[1])}
    )
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    (site / "zz_test_deps.pth").write_text("\n".join(deps) + "\n")
    run_env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "GSPOLICY_POLICIES")
    }
    return Installed(python, site, run_env, names)


def test_wheel_carries_and_loads_the_bundled_policies(installed: Installed, tmp_path: Path) -> None:
    assert "gspolicy/policies/schema/household.yaml" in installed.wheel_names
    assert "gspolicy/py.typed" in installed.wheel_names
    assert "gspolicy/glossary.yaml" in installed.wheel_names  # the engine's words, read at run time
    shipped = sorted(p.name for p in (ROOT / "src" / "gspolicy" / "schemas").glob("*.schema.json"))
    assert {
        "case.schema.json",
        "decision.schema.json",
        "household.schema.json",
        "outcome.schema.json",
        "pack.schema.json",
    } <= set(shipped)
    for name in shipped:  # the JSON Schemas, for editors and applications
        assert f"gspolicy/schemas/{name}" in installed.wheel_names
    # the playground's page, its editor bundle and the licences of what it bundles (`gspolicy serve`)
    page = sorted(p.name for p in (ROOT / "src" / "gspolicy" / "serve" / "static" / "playground").iterdir())
    assert {"index.html", "playground.js", "editor.min.js", "THIRD_PARTY_LICENSES.txt"} <= set(page)
    for name in page:
        assert f"gspolicy/serve/static/playground/{name}" in installed.wheel_names
    out = subprocess.run(
        [str(installed.python), "-c", CHECK],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=installed.env,
    )
    result = json.loads(out.stdout)
    site = installed.site
    assert result["package"].startswith(str(site.resolve()))
    assert result["policies"].startswith(str(site.resolve())), "policies must load from the installed package"
    assert result["schema_loaded"], result["problems"]
    assert result["problems"] == []
    assert result["glossary"] == "否"
    assert "schema/household.yaml" in result["files"]
    assert result["schema_folder"].startswith(str(site.resolve()))
    names = [name.removesuffix(".schema.json") for name in shipped]
    assert result["schemas"] == dict.fromkeys(names, "https://json-schema.org/draft/2020-12/schema")
    assert result["editor"] == sorted(
        [*(f".gspolicy/schemas/{name}" for name in shipped), ".vscode/settings.json"]
    )


def test_an_officer_follows_the_how_tos_from_a_wheel_install(installed: Installed, tmp_path: Path) -> None:
    """Installed from a wheel, an officer starts a workspace, raises the income standard, and runs
    validate, test, a new case, diff and explain as the how-tos show: each step runs the edit."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # the top of the officer's folder
    done = installed.gspolicy("init", "work", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    work = tmp_path / "work"
    shutil.copy(ROOT / "examples" / "households.jsonl", work / "households.jsonl")
    done = installed.gspolicy("validate", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("policy set: policies/ (the local policy set; same as the bundled set)")

    # the income line the exit pack and the batch packs import
    pack = work / "policies" / "parameters" / "household" / "2016.1.yaml"
    shutil.copy(pack, work / "2016.1-original.yaml")  # what-changes-for-whom.md: keep the original
    line = "      2018-01-01:\n        value: 3500\n"
    text = pack.read_text(encoding="utf-8")
    assert text.count(line) == 1
    pack.write_text(text.replace(line, line.replace("3500", "4000")), encoding="utf-8")

    done = installed.gspolicy("validate", cwd=work)
    assert done.returncode == 0, done.stderr
    assert "(the local policy set; differs from the bundled set)" in done.stderr
    assert "warning: the local policy set differs from the bundled one" in done.stderr

    # test-a-pack.md: the cases written for 3,500 now fail at the boundary
    done = installed.gspolicy("test", "policies/exit_criteria", cwd=work)
    assert done.returncode == 1, done.stdout
    assert "stable income just above the standard passes income" in done.stdout
    assert " 0 failed" not in done.stdout

    # write-and-run-cases.md: a new case for the new standard passes
    cases = work / "policies" / "exit_criteria" / "household" / "tests" / "new_standard.yaml"
    cases.write_text(
        "pack: exit_criteria.household\n"
        "defaults:\n" + _defaults_block(work) + "cases:\n"
        "  - name: stable income of 4,000.01 passes the raised standard\n"
        "    as_of: 2018-12-31\n"
        "    household: {income: {per_capita: 4300.01, non_counting_transfers: 300}}\n"
        "    expect: {criteria: {exit.income: pass}}\n"
        "  - name: stable income of 4,000 fails it\n"
        "    as_of: 2018-12-31\n"
        "    household: {income: {per_capita: 4300, non_counting_transfers: 300}}\n"
        "    expect: {criteria: {exit.income: fail}}\n",
        encoding="utf-8",
    )
    done = installed.gspolicy("test", str(cases.relative_to(work)), cwd=work)
    assert done.returncode == 0, done.stdout
    assert "2 passed, 0 failed" in done.stdout

    # what-changes-for-whom.md: whom the raise affects
    done = installed.gspolicy(
        "diff", "2016.1-original.yaml", str(pack.relative_to(work)), "--as-of", "2018-12-31",
        "--population", "households.jsonl", cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3500 → 4000" in done.stdout
    assert "change exit verdict" in done.stdout
    assert " 0 change exit verdict" not in done.stdout

    # an explanation points at the workspace's file, never into the installation
    done = installed.gspolicy(
        "explain", "households.jsonl", "--household", "621126-0001", "--as-of", "2018-12-31", cwd=work
    )
    assert done.returncode == 0, done.stderr
    assert "policies/exit_criteria/household/2018.1.yaml:" in done.stdout
    assert "site-packages" not in done.stdout


def _defaults_block(work: Path) -> str:
    """The `defaults:` household of the exit pack's own cases, indented as a YAML block."""
    source = work / "policies" / "exit_criteria" / "household" / "tests" / "exit_2018.yaml"
    defaults = yaml.safe_load(source.read_text(encoding="utf-8"))["defaults"]
    dumped = yaml.safe_dump(defaults, allow_unicode=True, sort_keys=False)
    return "".join(f"  {line}\n" for line in dumped.splitlines())
