"""The cache of checked packs and schemas across processes (gspolicy._cache).

What a user relies on: a set read from the cache is the set read from its files — every field,
spans and source texts included, and the same objects shared in the same places; only what
changed is read again; an entry that is damaged, forged, stale or in a folder others may write to
is never used; the cache can be turned off; nothing it does fails a load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gspolicy._cache as cache
from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy._resources import bundled_policies
from gspolicy.api import Policies
from gspolicy.lang.types import BOOL
from gspolicy.pack import load as load_module
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema import load as schema_load
from gspolicy.strategies import packs

from support.bundled import shared_policies, shared_registry


def _same(a: object, b: object, pairs: dict[int, int] | None = None, where: str = "set") -> None:
    """`a` and `b` are equal in every field (those left out of `==` too) and share objects alike."""
    pairs = {} if pairs is None else pairs
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if attrs.has(type(a)) or isinstance(a, Source):
        seen = pairs.get(id(a))
        if seen is not None:
            assert seen == id(b), f"{where}: shared in one, not in the other"
            return
        pairs[id(a)] = id(b)
        for f in attrs.fields(type(a)):
            if f.init:
                _same(getattr(a, f.name), getattr(b, f.name), pairs, f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where  # type: ignore[arg-type]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):  # type: ignore[call-overload]
            _same(x, y, pairs, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # type: ignore[call-overload]
        for k in a:
            _same(a[k], b[k], pairs, f"{where}[{k!r}]")  # type: ignore[index]
    elif isinstance(a, Decimal):
        assert str(a) == str(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _forget() -> None:
    """Nothing read or checked is remembered in this process."""
    load_module._compiled.clear()
    schema_load._schemas.clear()


class _Reads:
    """How many pack files and schemas were read and checked from their text."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.packs: list[str] = []
        self.schemas = 0
        compile_pack, from_source = load_module._compile, schema_load.schema_from_source

        def counted_pack(source: Source, schema: object) -> object:
            self.packs.append(source.name)
            return compile_pack(source, schema)  # type: ignore[arg-type]

        def counted_schema(source: Source) -> object:
            self.schemas += 1
            return from_source(source)

        monkeypatch.setattr(load_module, "_compile", counted_pack)
        monkeypatch.setattr(schema_load, "schema_from_source", counted_schema)

    def reset(self) -> None:
        self.packs.clear()
        self.schemas = 0


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private cache folder of this test's own, and nothing remembered in this process."""
    place = tmp_path / "cache"
    monkeypatch.setenv("GSPOLICY_CACHE", str(place))
    monkeypatch.delenv("GSPOLICY_NO_CACHE", raising=False)
    _forget()
    yield place
    _forget()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> _Reads:
    return _Reads(monkeypatch)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def _fresh() -> PolicySet:
    """The bundled set read from its files (no cache, nothing remembered)."""
    _forget()
    os.environ["GSPOLICY_NO_CACHE"] = "1"
    try:
        policy_set, problems = load_policies()
    finally:
        del os.environ["GSPOLICY_NO_CACHE"]
        _forget()
    assert policy_set is not None, problems
    return policy_set


def _from_cache(reads: _Reads) -> PolicySet:
    """The bundled set as the cache gives it (nothing remembered in this process)."""
    _forget()
    reads.reset()
    policy_set, problems = load_policies()
    assert policy_set is not None, problems
    assert reads.packs == [], "packs read from their files, not from the cache"
    assert reads.schemas == 0, "the schema read from its file, not from the cache"
    return policy_set


@pytest.mark.slow  # loads the bundled set twice: full suite
def test_the_bundled_set_from_the_cache_is_the_set_from_its_files(folder: Path, reads: _Reads) -> None:
    first, _ = load_policies()
    assert first is not None
    assert len(_entries(folder)) == len(first.packs) + 1  # a pack file each, and the schema
    cached = _from_cache(reads)
    _same(_fresh(), cached)
    assert cached.content_hash == first.content_hash  # type: ignore[union-attr]
    # the one schema object is shared by the set, every pack and every pack's names
    assert all(p.schema is cached.schema and p.env.schema is cached.schema for p in cached.packs)
    # spans still point into the pack texts
    pack = cached.packs[0]
    assert pack.pack.id_span is not None
    assert pack.pack.id_span.text == pack.id


@pytest.mark.slow  # the whole example file decided twice: full suite
def test_decisions_from_a_cached_set_are_the_decisions_from_its_files(folder: Path, reads: _Reads) -> None:
    load_policies()
    cached = Policies(_from_cache(reads))
    reference = shared_policies()
    day = dt.date(2019, 12, 31)
    for record in shared_registry()[:40]:
        assert cached.evaluate(record, day) == reference.evaluate(record, day)
        assert cached.decide(record, day) == reference.decide(record, day)


@pytest.mark.slow  # a search over generated packs: full suite
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pack=packs(shared_policies().policy_set.schema, max_depth=3))
def test_generated_packs_come_back_whole(pack: CheckedPack, tmp_path: Path) -> None:
    policy_set = PolicySet(pack.schema, (pack,))
    key = hashlib.sha256(pack.pack.source.text.encode("utf-8")).hexdigest()
    assert cache.store(tmp_path, key, policy_set, externals=(pack.schema,))
    back = cache.fetch(tmp_path, key, externals=(pack.schema,))
    _same(policy_set, back)
    assert isinstance(back, PolicySet)
    assert back.packs[0].schema is pack.schema


@pytest.mark.slow  # a second Python process: full suite
def test_a_second_process_reads_the_set_from_the_cache(folder: Path) -> None:
    program = (
        "from gspolicy.pack import load\n"
        "from gspolicy.schema import load as schema_load\n"
        "read = []\n"
        "original = load._compile\n"
        "load._compile = lambda source, schema: read.append(source.name) or original(source, schema)\n"
        "policy_set, _ = load.load_policies()\n"
        "print(len(read), policy_set.content_hash)\n"
    )
    env = {**os.environ, "GSPOLICY_CACHE": str(folder)}
    runs = [
        subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    read = [int(r.stdout.split()[0]) for r in runs]
    hashes = {r.stdout.split()[1] for r in runs}
    assert read[0] > 0
    assert read[1] == 0
    assert len(hashes) == 1


def test_only_an_edited_pack_is_read_again(folder: Path, tmp_path: Path, reads: _Reads) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    before, _ = load_policies([root])
    path = root / "exit_criteria" / "household" / "2018.1.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("title:", "title: ", 1)  # a change that is still a valid pack
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    _forget()
    reads.reset()
    after, _ = load_policies([root])
    assert before is not None
    assert after is not None
    assert len(reads.packs) == 1
    assert reads.packs[0].endswith("household/2018.1.yaml")
    assert reads.schemas == 0
    edited_pack = next(p for p in after.packs if p.pack.source.name.endswith("household/2018.1.yaml"))
    assert edited_pack.pack.source.text == edited


@pytest.mark.slow  # loads the bundled set twice: full suite
def test_an_edited_schema_reads_every_pack_again(folder: Path, tmp_path: Path, reads: _Reads) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    before, _ = load_policies([root])
    assert before is not None
    (schema_path,) = (root / "schema").glob("*.yaml")
    schema_path.write_text(schema_path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    _forget()
    reads.reset()
    after, _ = load_policies([root])
    assert after is not None
    assert reads.schemas == 1
    assert len(reads.packs) == len(before.packs)
    assert all(p.schema is after.schema for p in after.packs)


@pytest.mark.slow  # loads the bundled set three times: full suite
def test_a_damaged_entry_is_ignored_and_written_again(folder: Path, reads: _Reads) -> None:
    load_policies()
    entry = _entries(folder)[3]
    entry.write_bytes(entry.read_bytes()[:-40])
    _forget()
    reads.reset()
    policy_set, problems = load_policies()
    assert policy_set is not None, problems
    assert len(reads.packs) + reads.schemas == 1  # the damaged one, read from its file
    assert cache.fetch(folder, entry.stem, externals=(policy_set.schema,)) is not None  # and written again
    _same(_fresh(), policy_set)


def _an_entry(folder: Path) -> tuple[Path, bytes]:
    """A stored value of the kinds a checked pack is made of."""
    value = (Text("中", "en"), Decimal("1.50"), dt.date(2020, 1, 2), frozenset({"a"}), {"k": [1, None, True]})
    assert cache.store(folder, "e" * 64, value)
    assert cache.fetch(folder, "e" * 64) == value
    entry = folder / f"{'e' * 64}.json"
    return entry, entry.read_bytes()


@settings(max_examples=200)
@given(data=st.data())
def test_no_damage_to_an_entry_goes_unnoticed(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as place:
        folder = Path(place) / "cache"
        entry, original = _an_entry(folder)
        how = data.draw(st.sampled_from(["cut", "flip", "garbage"]))
        if how == "cut":
            changed = original[: data.draw(st.integers(0, len(original) - 1))]
        elif how == "flip":
            at = data.draw(st.integers(0, len(original) - 1))
            changed = (
                original[:at] + bytes([original[at] ^ data.draw(st.integers(1, 255))]) + original[at + 1 :]
            )
        else:
            changed = data.draw(st.binary(max_size=300))
        entry.write_bytes(changed)
        assert cache.fetch(folder, "e" * 64) is None


def _forged(entry: Path, classes: list[list[object]], body: object) -> bytes:
    text = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    header = {
        "format": "gspolicy-checked-file",
        "version": cache.FORMAT,
        "key": entry.stem,
        "sha256": hashlib.sha256(text).hexdigest(),
        "classes": classes,
    }
    return json.dumps(header).encode("ascii") + b"\n" + text


TEXT = "gspolicy._i18n:Text"


def test_a_well_formed_entry_written_by_hand_is_read() -> None:
    """The control for the forgeries below: they fail for what they change, not for their form."""
    with tempfile.TemporaryDirectory() as place:
        entry, _original = _an_entry(Path(place))
        entry.write_bytes(
            _forged(
                entry, [[TEXT, ["zh", "en"]]], [0, [6, 0, "a", "b"], [5, 0], [10, "gspolicy.lang.types:BOOL"]]
            )
        )
        value = cache.fetch(Path(place), "e" * 64)
    assert value == (Text("a", "b"), Text("a", "b"), BOOL)
    assert value[1] is value[0]
    assert value[2] is BOOL


@pytest.mark.parametrize(
    ("classes", "body"),
    [
        ([["os:system", []]], [6, 0]),  # a class outside the list is never built
        ([["builtins:eval", []]], [6, 0]),
        ([[TEXT, ["zh"]]], [6, 0, "中"]),  # a layout this code does not have
        ([[TEXT, ["zh", "en"]]], [6, 0, "a"]),  # too few fields
        ([[TEXT, ["zh", "en"]]], [6, 5, "a", "b"]),  # a class not listed
        ([[TEXT, ["zh", "en"]]], [6, -1, "a", "b"]),
        ([[TEXT, ["zh", "en"]]], [5, 3]),  # a reference to nothing
        ([[TEXT, ["zh", "en"]]], [9, 0]),  # a given object that was not given
        ([[TEXT, ["zh", "en"]]], [10, "os:system"]),  # a constant this code does not have
        ([[TEXT, ["zh", "en"]]], [8, 0, "x"]),  # an enum of a class that is not one
        ([[TEXT, ["zh", "en"]]], [3, "not a number"]),
        ([[TEXT, ["zh", "en"]]], [4, "2019-13-45"]),
        ([[TEXT, ["zh", "en"]]], [99]),
        ([[TEXT, ["zh", "en"]]], []),
        ([[TEXT, ["zh", "en"]]], [2, 1]),
        ([[TEXT, ["zh", "en"]]], 1.5),
        ([], b"[0," * 100_000 + b"0" + b"]" * 100_000),  # deeper than decoding goes
        ("not a list", [0]),
    ],
)
def test_a_forged_or_foreign_entry_is_never_used(
    tmp_path: Path, classes: list[list[object]], body: object
) -> None:
    entry, _original = _an_entry(tmp_path)
    entry.write_bytes(_forged(entry, classes, body))
    assert cache.fetch(tmp_path, "e" * 64) is None


def test_an_entry_for_another_key_or_format_is_never_used(tmp_path: Path) -> None:
    entry, original = _an_entry(tmp_path)
    (tmp_path / f"{'f' * 64}.json").write_bytes(original)
    assert cache.fetch(tmp_path, "f" * 64) is None  # an entry moved to another key
    head, _, body = original.partition(b"\n")
    header = json.loads(head)
    entry.write_bytes(json.dumps({**header, "version": cache.FORMAT + 1}).encode() + b"\n" + body)
    assert cache.fetch(tmp_path, "e" * 64) is None


def test_no_cache_when_turned_off(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GSPOLICY_NO_CACHE", "1")
    policy_set, _ = load_policies()
    assert policy_set is not None
    assert _entries(folder) == []


@pytest.mark.slow  # loads the bundled set twice: full suite
@pytest.mark.skipif(not hasattr(os, "getuid"), reason="the system does not say who owns a folder")
def test_a_folder_others_may_write_to_is_not_used(folder: Path, reads: _Reads) -> None:
    folder.mkdir(mode=0o700)
    load_policies()
    assert _entries(folder)
    folder.chmod(0o777)
    _forget()
    reads.reset()
    policy_set, _ = load_policies()
    assert policy_set is not None
    assert reads.packs
    assert reads.schemas == 1


def test_an_unwritable_cache_never_fails_a_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("GSPOLICY_CACHE", str(blocker / "cache"))
    _forget()
    policy_set, problems = load_policies()
    assert policy_set is not None
    assert not problems


@pytest.mark.slow  # loads a set twice: full suite
def test_a_pack_with_problems_gives_the_same_problems_from_the_cache(
    folder: Path, tmp_path: Path, reads: _Reads
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    path = root / "exit_criteria" / "household" / "2018.1.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("require:", "require: income >", 1), encoding="utf-8"
    )
    first, problems = load_policies([root])
    assert first is None
    assert problems
    _forget()
    reads.reset()
    again, cached_problems = load_policies([root])
    assert again is None
    assert reads.packs == []
    assert [d.render() for d in cached_problems] == [d.render() for d in problems]


def test_at_most_keep_entries_and_no_temporary_files(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 5)
    for n in range(cache.KEEP + 4):
        assert cache.store(folder, f"{n:064x}", (n, "x"))
    assert len(_entries(folder)) == cache.KEEP
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]
    # the newest are kept
    assert cache.fetch(folder, f"{cache.KEEP + 3:064x}") == (cache.KEEP + 3, "x")


def test_a_value_the_format_does_not_carry_is_not_stored(tmp_path: Path) -> None:
    assert not cache.store(tmp_path, "0" * 64, (1.5, ()))
    assert not cache.store(tmp_path, "1" * 64, (object(),))
    assert _entries(tmp_path) == []


def test_the_key_changes_with_names_bytes_and_code(monkeypatch: pytest.MonkeyPatch) -> None:
    base = cache.entry_key([("pack a.yaml", b"x")])
    assert cache.entry_key([("pack b.yaml", b"x")]) != base
    assert cache.entry_key([("pack a.yaml", b"y")]) != base
    assert cache.entry_key([("pack a.yaml", b"x"), ("pack b.yaml", b"")]) != base
    monkeypatch.setattr(cache, "_code_stamp", lambda: "other code")
    assert cache.entry_key([("pack a.yaml", b"x")]) != base
