"""Checked pack files and schemas kept across processes, so that a command started again does
not parse and check YAML it has checked before.

Each pack file and each schema file is one entry, keyed by everything its result depends on: the
name it is shown under and its bytes, for a pack the schema it was checked against, this format's
number, the Python version, and gspolicy's own code (the size and modification time of each of its
modules, so an edited checkout never reads an entry its old code wrote).  Editing one pack reads
that pack again, and only it; editing the schema reads every pack again.

An entry is data only — JSON naming the attrs classes of the checked tree, rebuilt only from a
fixed list of gspolicy's own classes — never pickle: nothing in an entry can run code.  The objects
a tree shares it shares again; the schema a pack was checked against is named, not held, and the
type constants (``BOOL``, …) stay the one object they are.

The cache lives in the user's cache folder (``platformdirs``) or in ``GSPOLICY_CACHE``;
``GSPOLICY_NO_CACHE=1`` turns it off.  A folder another user owns, or that others may write to, is
not used (an entry written there could change decisions).  Entries are written to a temporary file
and renamed into place; an entry that cannot be read, is damaged (each carries the SHA-256 of its
body), was written by other code, or does not decode is ignored and written again.  At most
`KEEP` entries are kept, the oldest dropped first.  Nothing here ever fails a load: any problem with
the cache means the file is read and checked, as without a cache.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast

import attrs
import platformdirs

__all__ = ["KEEP", "MAX_BYTES", "cache_folder", "entry_key", "fetch", "store"]

FORMAT = 1
KEEP = 512
MAX_BYTES = 1 << 26  # 64 MiB: an entry larger than this is neither written nor read
_MAGIC = "gspolicy-checked-file"

# node kinds of the body: JSON scalars stand for themselves, everything else is a list led by its kind
_TUPLE, _LIST, _DICT, _DECIMAL, _DATE, _REF, _OBJECT, _FROZENSET, _ENUM, _EXTERNAL, _CONSTANT = range(11)

# the modules whose attrs classes and enums a checked policy set is made of
_MODULES = (
    "gspolicy._i18n",
    "gspolicy._location",
    "gspolicy.errors",
    "gspolicy.lang.ast",
    "gspolicy.lang.types",
    "gspolicy.lang.typed",
    "gspolicy.lang.typecheck",
    "gspolicy.schema.model",
    "gspolicy.pack.model",
    "gspolicy.pack.typecheck",
    "gspolicy.pack.load",
    "gspolicy.pack.policy_set",
)


class _CannotStore(Exception):
    """The value holds something this format does not carry; the set is simply not cached."""


class _Damaged(Exception):
    """The entry is not one this code wrote; it is ignored and written again."""


def cache_folder() -> Path | None:
    """The folder entries live in, or None when the cache is turned off."""
    if os.environ.get("GSPOLICY_NO_CACHE", "").strip() not in ("", "0"):
        return None
    given = os.environ.get("GSPOLICY_CACHE", "")
    if given:
        return Path(given)
    return Path(platformdirs.user_cache_dir("gspolicy", appauthor=False)) / "checked"


def _private(folder: Path) -> bool:
    """Whether `folder` is ours alone to write (on systems that say who owns a file)."""
    try:
        info = folder.stat()
    except OSError:
        return False
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    if getuid is None:
        return True
    return info.st_uid == getuid() and not info.st_mode & 0o022


@cache
def _code_stamp() -> str:
    """What identifies the running gspolicy code: this format, Python, and each module's size and
    modification time."""
    package = Path(__file__).parent
    parts = [_MAGIC, str(FORMAT), sys.version]
    for path in sorted(package.rglob("*.py")):
        try:
            info = path.stat()
        except OSError:
            continue
        parts.append(f"{path.relative_to(package).as_posix()} {info.st_size} {info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def entry_key(files: Iterable[tuple[str, bytes]]) -> str:
    """The key of a set made of `files` (name and bytes of each, schema included)."""
    digest = hashlib.sha256(_code_stamp().encode("ascii"))
    for name, data in files:
        digest.update(b"\0file\0" + name.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _classes() -> dict[str, type]:
    """Every class an entry may name: the attrs classes and enums of the modules above that are
    loaded (an entry naming a class of a module not loaded does not decode, and is written again)."""
    present = tuple(name for name in _MODULES if name in sys.modules)
    return _classes_of(present)


@cache
def _classes_of(modules: tuple[str, ...]) -> dict[str, type]:
    found: dict[str, type] = {}
    for module_name in modules:
        for value in vars(sys.modules[module_name]).values():
            if not isinstance(value, type) or value.__module__ != module_name:
                continue
            if attrs.has(value) or issubclass(value, enum.Enum):
                found[f"{module_name}:{value.__qualname__}"] = value
    return found


def _constants() -> dict[str, object]:
    """The module-level instances of those classes (``BOOL`` and the other types), by name: an
    entry names them, so they stay the one object they are (an `is` test keeps its meaning)."""
    present = tuple(name for name in _MODULES if name in sys.modules)
    return _constants_of(present)


@cache
def _constants_of(modules: tuple[str, ...]) -> dict[str, object]:
    found: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in modules:
        for name, value in vars(sys.modules[module_name]).items():
            if name.startswith("__") or isinstance(value, type) or not attrs.has(type(value)):
                continue
            if id(value) not in seen:  # named where it is first found (where it is defined)
                seen.add(id(value))
                found[f"{module_name}:{name}"] = value
    return found


def _fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    return attrs.fields(cast(Any, cls))  # type: ignore[no-any-return]


def _layout(cls: type) -> list[str]:
    if issubclass(cls, enum.Enum):
        return []
    return [f.alias or f.name for f in _fields(cls) if f.init]


class _Encoder:
    def __init__(self, externals: Sequence[object]) -> None:
        self.externals = {id(value): index for index, value in enumerate(externals)}
        self.constants = {id(value): name for name, value in _constants().items()}
        self.classes: dict[type, int] = {}
        self.refs: dict[int, int] = {}
        self.open: set[int] = set()
        self.keep: list[object] = []  # objects numbered stay alive, so their ids stay theirs
        self.count = 0
        self.known = {cls: name for name, cls in _classes().items()}

    def class_index(self, cls: type) -> int:
        index = self.classes.get(cls)
        if index is None:
            if cls not in self.known:
                raise _CannotStore(f"{cls.__module__}.{cls.__qualname__}")
            index = self.classes[cls] = len(self.classes)
        return index

    def encode(self, value: object) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        kind = type(value)
        if kind is int:
            return value
        if isinstance(value, enum.Enum):
            return [_ENUM, self.class_index(kind), value.value]
        if kind is tuple:
            return [_TUPLE, *(self.encode(v) for v in value)]  # type: ignore[attr-defined]
        if kind is list:
            return [_LIST, *(self.encode(v) for v in value)]  # type: ignore[attr-defined]
        if kind is frozenset:
            return [_FROZENSET, *(self.encode(v) for v in value)]  # type: ignore[attr-defined]
        if kind is dict:
            out: list[Any] = [_DICT]
            for k, v in value.items():  # type: ignore[attr-defined]
                out.append(self.encode(k))
                out.append(self.encode(v))
            return out
        if kind is Decimal:
            return [_DECIMAL, str(value)]
        if kind is dt.date:
            return [_DATE, value.isoformat()]  # type: ignore[attr-defined]
        if attrs.has(kind):
            return self.encode_object(value)
        raise _CannotStore(kind.__qualname__)

    def encode_object(self, value: object) -> Any:
        key = id(value)
        external = self.externals.get(key)
        if external is not None:
            return [_EXTERNAL, external]
        constant = self.constants.get(key)
        if constant is not None:
            return [_CONSTANT, constant]
        ref = self.refs.get(key)
        if ref is not None:
            return [_REF, ref]
        if key in self.open:
            raise _CannotStore("a cycle")
        self.open.add(key)
        cls = type(value)
        out = [_OBJECT, self.class_index(cls)]
        out.extend(self.encode(getattr(value, f.name)) for f in _fields(cls) if f.init)
        self.open.discard(key)
        # numbered after its parts, in the order the decoder builds objects
        self.refs[key] = self.count
        self.count += 1
        self.keep.append(value)
        return out


class _Decoder:
    def __init__(self, classes: Sequence[tuple[type, list[str], bool]], externals: Sequence[object]) -> None:
        self.classes = classes
        self.externals = externals
        self.built: list[object] = []

    def class_at(self, index: object) -> tuple[type, list[str], bool]:
        if type(index) is not int or not 0 <= index < len(self.classes):
            raise _Damaged("a class that is not listed")
        return self.classes[index]

    def decode(self, node: Any) -> Any:
        if type(node) is not list:
            if node is None or type(node) in _SCALARS:
                return node
            raise _Damaged("a value of no known kind")
        kind = node[0] if node else None
        if kind == _OBJECT:
            cls, names, positional = self.class_at(node[1])
            if len(node) - 2 != len(names):
                raise _Damaged("an object with the wrong number of fields")
            decode = self.decode
            if positional:
                value = cls(*[decode(v) for v in node[2:]])
            else:
                value = cls(**dict(zip(names, [decode(v) for v in node[2:]], strict=True)))
            self.built.append(value)
            return value
        if kind == _REF:
            index = node[1]
            if type(index) is not int or not 0 <= index < len(self.built):
                raise _Damaged("a reference to nothing")
            return self.built[index]
        if kind == _EXTERNAL:
            index = node[1]
            if type(index) is not int or not 0 <= index < len(self.externals):
                raise _Damaged("a given object that was not given")
            return self.externals[index]
        if kind == _CONSTANT:
            found = _constants().get(node[1]) if type(node[1]) is str else None
            if found is None:
                raise _Damaged("a constant this code does not have")
            return found
        if kind == _TUPLE:
            decode = self.decode
            return tuple([decode(v) for v in node[1:]])
        if kind == _DICT:
            items = [self.decode(v) for v in node[1:]]
            if len(items) % 2:
                raise _Damaged("a map with a key and no value")
            return dict(zip(items[::2], items[1::2], strict=True))
        if kind == _DECIMAL:
            return Decimal(_text(node[1]))
        if kind == _DATE:
            return dt.date.fromisoformat(_text(node[1]))
        if kind == _LIST:
            return [self.decode(v) for v in node[1:]]
        if kind == _FROZENSET:
            return frozenset([self.decode(v) for v in node[1:]])
        if kind == _ENUM:
            cls, _names, _positional = self.class_at(node[1])
            if not issubclass(cls, enum.Enum):
                raise _Damaged("an enum of a class that is not one")
            return cls(node[2])
        raise _Damaged(f"a node of unknown kind {kind!r}")


_SCALARS = (str, int, bool)


def _text(value: object) -> str:
    if type(value) is not str:
        raise _Damaged("a text expected")
    return value


def _path(folder: Path, key: str) -> Path:
    return folder / f"{key}.json"


def fetch(folder: Path, key: str, *, externals: Sequence[object] = ()) -> object | None:
    """The value stored under `key`, or None when there is none to trust (see the module).

    `externals` are the objects `store` was given as such, in the same order (the schema a pack
    was checked against, say): the entry names them, it does not hold them."""
    path = _path(folder, key)
    try:
        if not _private(folder):
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    try:
        return _decode(data, key, externals)
    except (
        _Damaged,
        ArithmeticError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        RecursionError,
    ):
        return None


def _decode(data: bytes, key: str, externals: Sequence[object]) -> object:
    if len(data) > MAX_BYTES:
        raise _Damaged("too large")
    head, newline, body = data.partition(b"\n")
    if not newline:
        raise _Damaged("no header")
    header = json.loads(head)
    if not isinstance(header, dict) or header.get("format") != _MAGIC or header.get("version") != FORMAT:
        raise _Damaged("not an entry of this format")
    if header.get("key") != key or header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise _Damaged("the entry's body does not match its header")
    known = _classes()
    classes: list[tuple[type, list[str], bool]] = []
    listed = header.get("classes")
    if not isinstance(listed, list):
        raise _Damaged("no class list")
    for item in listed:
        if not isinstance(item, list) or len(item) != 2:
            raise _Damaged("a class badly listed")
        name, names = item
        cls = known.get(name) if isinstance(name, str) else None
        if cls is None or names != _layout(cls):
            raise _Damaged("a class this code does not have, or has otherwise")
        positional = not issubclass(cls, enum.Enum) and not any(f.kw_only for f in _fields(cls))
        classes.append((cls, names, positional))
    return _Decoder(classes, externals).decode(json.loads(body))


def store(folder: Path, key: str, value: object, *, externals: Sequence[object] = ()) -> bool:
    """Store `value` under `key`, naming rather than holding `externals` wherever they occur;
    False (and nothing written) when it cannot be stored."""
    try:
        encoder = _Encoder(externals)
        body = json.dumps(encoder.encode(value), ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    except (_CannotStore, RecursionError, ValueError):
        return False
    names = sorted(encoder.classes, key=encoder.classes.__getitem__)
    header = {
        "format": _MAGIC,
        "version": FORMAT,
        "key": key,
        "sha256": hashlib.sha256(body).hexdigest(),
        "classes": [[encoder.known[cls], _layout(cls)] for cls in names],
    }
    data = json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n" + body
    if len(data) > MAX_BYTES:
        return False
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return False
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, _path(folder, key))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(folder)
    except OSError:
        return False
    return True


def _prune(folder: Path) -> None:
    """Keep the `KEEP` newest entries."""
    entries: list[tuple[int, Path]] = []
    for path in folder.glob("*.json"):
        try:
            entries.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _time, path in entries[KEEP:]:
        path.unlink(missing_ok=True)
