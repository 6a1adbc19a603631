"""The bundled policies ship inside the wheel and load from there, in a fresh virtual environment."""

from __future__ import annotations

import json
import os
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
    schema, problems = read_schema(bundled_schema_path())
    print(json.dumps({
        "package": str(Path(gspolicy.__file__).resolve().parent),
        "policies": str(bundled_policies().resolve()),
        "schema_loaded": schema is not None,
        "problems": [d.render("en") for d in problems],
        "files": sorted(str(p.relative_to(bundled_policies())) for p in bundled_policies().rglob("*.yaml")),
    }))
    """
)


def test_wheel_carries_and_loads_the_bundled_policies(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
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
    assert "gspolicy/policies/schema/household.yaml" in names
    assert "gspolicy/py.typed" in names

    env_dir = tmp_path / "venv"
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

    run_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run(
        [str(python), "-c", CHECK], check=True, capture_output=True, text=True, cwd=tmp_path, env=run_env
    )
    result = json.loads(out.stdout)
    assert result["package"].startswith(str(site.resolve()))
    assert result["policies"].startswith(str(site.resolve())), "policies must load from the installed package"
    assert result["schema_loaded"], result["problems"]
    assert result["problems"] == []
    assert "schema/household.yaml" in result["files"]
