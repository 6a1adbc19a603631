"""Which policy set a command runs: the one the officer is editing, said at the top of every run.

The command line looks for the policy set in this order:

1. the paths given with ``--policies`` (or as a command's own path arguments);
2. the folder named by the environment variable ``GSPOLICY_POLICIES``;
3. a ``policies/`` folder in the working folder or a parent of it — up to the first folder that
   holds ``.git`` or ``pyproject.toml`` (the top of a project), never above the home folder;
4. the bundled set, inside the installed package.

`load_policies()` of the Python API always loads the bundled set unless told otherwise (an
application must be deterministic whatever folder it runs in); only the command line looks around.
`describe` words the choice for the first line of a run: the path, whether it is the bundled set
(or differs from it) and the set's content hash.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, TextIO

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy._resources import bundled_policies
from gspolicy.errors import render_diagnostics
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet

__all__ = [
    "ENVIRONMENT",
    "PolicyChoice",
    "announce",
    "choose",
    "copy_bundled",
    "find_local",
    "load_chosen",
    "root_of",
]

ENVIRONMENT = "GSPOLICY_POLICIES"
"""The environment variable naming a policy root."""

Origin = Literal["given", "paths", "environment", "local", "bundled"]
_SCHEMA = Path("schema") / "household.yaml"


@attrs.frozen
class PolicyChoice:
    """The policy roots a command runs, and how they were chosen."""

    roots: tuple[Path, ...]
    origin: Origin

    @property
    def is_bundled(self) -> bool:
        bundled = bundled_policies().resolve()
        return len(self.roots) == 1 and self.roots[0].resolve() == bundled

    def shown(self) -> str:
        return ", ".join(_shown(r) for r in self.roots)

    def describe(self, content_hash: str, *, differs: bool | None, lang: Lang) -> str:
        """The first line of a run: which set, where from, and its content hash."""
        how: dict[Origin, Text] = {
            "given": Text(zh="命令行指定", en="given on the command line"),
            "paths": Text(zh="所给路径所在的政策集", en="the policy set the paths given lie in"),
            "environment": Text(zh=f"由 {ENVIRONMENT} 指定", en=f"from {ENVIRONMENT}"),
            "local": Text(zh="当前文件夹中的政策集", en="the local policy set"),
            "bundled": Text(zh="随软件安装的政策集", en="the bundled policy set"),
        }
        notes = [how[self.origin].get(lang)]
        if self.origin != "bundled" and self.is_bundled:
            notes.append("即随软件安装的政策集" if lang == "zh" else "the bundled set itself")
        elif differs is True:
            notes.append("与随软件安装的政策集不同" if lang == "zh" else "differs from the bundled set")
        elif differs is False:
            notes.append("与随软件安装的政策集相同" if lang == "zh" else "same as the bundled set")
        short = content_hash[: len("sha256:") + 12]
        if lang == "zh":
            return f"政策集：{self.shown()}（{'，'.join(notes)}）{short}"
        return f"policy set: {self.shown()} ({'; '.join(notes)}) {short}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) + os.sep
    except ValueError:
        return str(path)


def find_local(start: Path | None = None, *, home: Path | None = None) -> Path | None:
    """The nearest ``policies/`` folder from `start` (default: the working folder) upwards, stopping
    at the first folder holding ``.git`` or ``pyproject.toml`` and never going above `home`."""
    here = (start or Path.cwd()).resolve()
    top = (home or Path.home()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "policies"
        if candidate.is_dir():
            return candidate
        if (folder / ".git").exists() or (folder / "pyproject.toml").exists() or folder == top:
            return None
    return None


def choose(
    given: Sequence[Path] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    start: Path | None = None,
    origin: Origin = "given",
) -> PolicyChoice:
    """The policy roots a command runs (see the module doc for the order); `origin` says how
    `given` roots were found ("paths": the root the command's path arguments lie in)."""
    if given:
        return PolicyChoice(tuple(given), origin)
    env = os.environ if environ is None else environ
    named = env.get(ENVIRONMENT, "").strip()
    if named:
        return PolicyChoice((Path(named),), "environment")
    local = find_local(start)
    if local is not None:
        return PolicyChoice((local,), "local")
    return PolicyChoice((bundled_policies(),), "bundled")


def root_of(path: Path) -> Path | None:
    """The policy root a path lies in: the nearest folder at or above it holding the household
    schema (``schema/household.yaml``); None when there is none."""
    here = path.resolve()
    for folder in (here, *here.parents) if here.is_dir() else here.parents:
        if (folder / _SCHEMA).is_file():
            return folder
    return None


def copy_bundled(target: Path) -> Path:
    """Copy the bundled policy set into ``target/policies`` (a new workspace); returns that folder.
    Raises `FileExistsError` when it exists already (nothing is overwritten)."""
    destination = target / "policies"
    if destination.exists():
        raise FileExistsError(str(destination))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled_policies(), destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


def load_chosen(
    given: Sequence[Path] | None, lang: Lang, out: TextIO, *, origin: Origin = "given"
) -> PolicySet | None:
    """Load the policy set a command runs (`choose`), and say which on `out` (stderr): its first
    line names the set, where it came from and its content hash; a local set that differs from
    the bundled one adds one warning line.  Problems are printed; None when the set does not load.
    """
    choice = choose(given, origin=origin)
    policy_set, problems = load_policies(list(choice.roots))
    if policy_set is None:
        announce(choice, None, lang, out)
        errors = [d for d in problems if d.is_error]
        if errors:
            out.write(render_diagnostics(errors, lang) + "\n")
        return None
    announce(choice, policy_set, lang, out)
    return policy_set


def announce(choice: PolicyChoice, policy_set: PolicySet | None, lang: Lang, out: TextIO) -> None:
    """Write the first line of a run (`PolicyChoice.describe`) and, when a local set differs from
    the bundled one, one warning line."""
    differs: bool | None = None
    if (
        policy_set is not None
        and choice.origin in ("local", "paths", "environment")
        and not choice.is_bundled
    ):
        bundled, _ = load_policies([bundled_policies()])
        differs = bundled is not None and bundled.content_hash != policy_set.content_hash
    content_hash = policy_set.content_hash if policy_set is not None else "?"
    out.write(choice.describe(content_hash, differs=differs, lang=lang) + "\n")
    if differs and choice.origin in ("local", "paths"):
        out.write(
            "警告：当前文件夹中的政策集与随软件安装的政策集不同；本次运行使用当前文件夹中的政策集\n"
            if lang == "zh"
            else "warning: the local policy set differs from the bundled one; this run uses the local set\n"
        )
