"""Loading a policy root: telling packs, schemas and test files apart, pack ids and paths,
versions and their validity, what is in force on a date, and the acknowledged gaps.

The good fixture (`tests/fixtures/packs/good/`) holds `demo.income` in two versions —
2017.1 in force 2017-01-01..2018-12-31, 2019.1 from 2019-01-01, open-ended — and the single-file
pack `demo.single` (from 2018-01-01).  Other roots are written into `tmp_path`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.load import discover, gaps, load_policies, load_policy_set
from gspolicy.pack.policy_set import PolicySet
from unit.pack._root import write

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packs"
GOOD = FIXTURES / "good"
SCHEMA = GOOD / "schema" / "household.yaml"
D = dt.date


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def good() -> PolicySet:
    policy_set, problems = load_policies([GOOD])
    assert policy_set is not None, [d.render("en") for d in problems]
    assert [d for d in problems if d.is_error] == []
    return policy_set


def pack_text(
    pack_id: str = "demo.p",
    version: str = "1",
    valid_from: str = "2019-01-01",
    valid_to: str | None = None,
    kind: str = "exit",
) -> str:
    """A minimal valid pack; `pack:` is on line 2 (the loader's diagnostics point there)."""
    to = f"valid_to: {valid_to}\n" if valid_to else ""
    return (
        f'format: 1\npack: {pack_id}\nversion: "{version}"\nkind: {kind}\nvalid_from: {valid_from}\n{to}'
        "title: {zh: 测试, en: Test}\n"
        "department: office\n"
        "departments: {office: {zh: 扶贫办, en: Office}}\n"
        "sources:\n"
        "  doc: {title: {zh: 文件, en: Document}, confidence: H}\n"
    )


def errors(problems: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in problems if d.is_error]


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- the good fixture -----------------------------------------------------------------------------


def test_the_good_fixture_loads(good: PolicySet) -> None:
    assert good.ids == ("demo.income", "demo.single")
    assert [p.version for p in good.versions("demo.income")] == ["2017.1", "2019.1"]
    assert good.schema.id == "tiny"


@pytest.mark.parametrize(
    ("as_of", "version"),
    [
        ("2016-12-31", None),  # the day before the first version
        ("2017-01-01", "2017.1"),  # its first day
        ("2017-01-02", "2017.1"),
        ("2018-12-30", "2017.1"),
        ("2018-12-31", "2017.1"),  # its last day (`valid_to` is included)
        ("2019-01-01", "2019.1"),  # the next version's first day
        ("2019-01-02", "2019.1"),
        ("2999-12-31", "2019.1"),  # open-ended
    ],
)
def test_in_force_around_each_boundary(good: PolicySet, as_of: str, version: str | None) -> None:
    found = good.in_force("demo.income", day(as_of))
    assert (found.version if found else None) == version


def test_in_force_of_an_unknown_pack_is_none(good: PolicySet) -> None:
    assert good.in_force("demo.nothing", D(2019, 1, 1)) is None


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2017-12-31", {"demo.income@2017.1"}),
        ("2018-01-01", {"demo.income@2017.1", "demo.single@1"}),
        ("2019-01-01", {"demo.income@2019.1", "demo.single@1"}),
    ],
)
def test_all_in_force(good: PolicySet, as_of: str, expected: set[str]) -> None:
    assert {p.key for p in good.all_in_force(day(as_of))} == expected


@pytest.mark.parametrize(
    ("as_of", "kind", "value"),
    [
        ("2016-12-31", None, None),  # before the first effective date: nothing
        ("2017-01-01", "exact", Decimal(3000)),
        ("2018-02-28", "exact", Decimal(3000)),  # the day before the change within the version
        ("2018-03-01", "exact", Decimal(3200)),  # the day of the change
        ("2018-03-02", "exact", Decimal(3200)),
        ("2018-06-30", "exact", Decimal(3200)),
        ("2018-07-01", "range", None),
        ("2030-01-01", "range", None),  # the last value stays in force
    ],
)
def test_parameter_at_around_each_effective_date(
    good: PolicySet, as_of: str, kind: str | None, value: Decimal | None
) -> None:
    param = good.versions("demo.income")[0].pack.parameters["income_line"]
    found = param.at(day(as_of))
    assert (found.kind if found else None) == kind
    if kind == "exact":
        assert found is not None
        assert found.value == value
    if kind == "range":
        assert found is not None
        assert found.low is not None
        assert found.high is not None
        assert (found.low.value, found.high.value) == (Decimal(3200), Decimal(3400))


def _gaps(policy_set: PolicySet, as_of: str) -> list[tuple[str, str, str]]:
    out = []
    for d in gaps(policy_set, day(as_of)):
        assert d.level.value == "info"  # gaps are notes, never errors
        args = dict(d.args)
        out.append((d.code, str(args["name"]), dict(d.context)["pack"]))
    return sorted(out)


def test_no_gaps_before_any_is_in_force(good: PolicySet) -> None:
    assert _gaps(good, "2017-06-01") == []
    assert gaps(good, D(2000, 1, 1)) == []


def test_gaps_of_the_first_version(good: PolicySet) -> None:
    assert _gaps(good, "2018-08-01") == [
        ("gap/not-established", "grant_unknown", "demo.single@1"),
        ("gap/range", "income_line", "demo.income@2017.1"),
    ]


def test_gaps_of_the_second_version_before_its_range(good: PolicySet) -> None:
    # the 2017.1 range is not in force any more, the 2019.1 range not yet; the weak value not yet
    assert _gaps(good, "2019-02-01") == [
        ("gap/not-established", "asset_line", "demo.income@2019.1"),
        ("gap/not-established", "demo.assets", "demo.income@2019.1"),
        ("gap/not-established", "grant_unknown", "demo.single@1"),
    ]


def test_gaps_of_the_second_version_with_its_range(good: PolicySet) -> None:
    assert _gaps(good, "2019-08-01") == [
        ("gap/low-confidence", "insured_share", "demo.income@2019.1"),
        ("gap/not-established", "asset_line", "demo.income@2019.1"),
        ("gap/not-established", "demo.assets", "demo.income@2019.1"),
        ("gap/not-established", "grant_unknown", "demo.single@1"),
        ("gap/range", "income_line", "demo.income@2019.1"),
    ]


def test_gap_renderings(good: PolicySet) -> None:
    found = {d.code: d for d in gaps(good, D(2019, 8, 1)) if d.code in ("gap/range", "gap/low-confidence")}
    assert found["gap/range"].render("en") == expect(
        """
        tests/fixtures/packs/good/demo/income/2019.1.yaml:29:7: gap/range (note): in pack `demo.income@2019.1`: acknowledged gap: `income_line` is only known as a range [3300, 3600] yuan/person/year as of 2019-08-01
          29 |       2019-07-01:
             |       ^^^^^^^^^^
          help: decisions that the range does not settle are undetermined and name this parameter
        """
    ).replace("tests/fixtures/packs/good/", _shown(found["gap/range"]))
    assert found["gap/low-confidence"].message("zh") == (
        "在政策包 `demo.income@2019.1`中：已知缺口：截至 2019-08-01，`insured_share` 的依据可信度低（L）"
    )


def _shown(d: Diagnostic) -> str:
    """The folder part of a file name as the loader shows it (relative to where pytest runs)."""
    name = d.location.file  # type: ignore[union-attr]
    return name[: name.index("demo/")]


# --- discovery: packs, schemas, tests, other files ------------------------------------------------


def test_discover_tells_packs_schemas_and_others_apart(root: Path) -> None:
    write(root, "demo/p.yaml", pack_text())
    write(root, "demo/p/tests/cases.yaml", "pack: demo.p\ncases: []\n")  # a test file: skipped
    write(root, ".hidden/x.yaml", "anything: 1\n")  # hidden: skipped
    write(root, "notes.yaml", "anything: 1\n")
    write(root, "README.md", "not YAML\n")
    schemas, packs, others, problems = discover([root])
    assert schemas == [root / "schema" / "household.yaml"]
    assert packs == [root / "demo" / "p.yaml"]
    assert others == [root / "notes.yaml"]
    assert problems == []


def test_a_single_file_pack_and_a_folder_pack(root: Path) -> None:
    write(root, "demo/single.yaml", pack_text("demo.single", kind="finding"))
    write(root, "demo/multi/1.yaml", pack_text("demo.multi", "1", "2019-01-01", "2019-12-31"))
    write(root, "demo/multi/2.yaml", pack_text("demo.multi", "2", "2020-01-01"))
    policy_set, problems = load_policies([root])
    assert errors(problems) == []
    assert policy_set is not None
    assert policy_set.ids == ("demo.multi", "demo.single")


def test_a_pack_keeps_its_kind_and_a_level_has_one_verdict_pack(root: Path) -> None:
    write(root, "demo/a/1.yaml", pack_text("demo.a", "1", "2019-01-01", "2019-12-31"))
    write(root, "demo/a/2.yaml", pack_text("demo.a", "2", "2020-01-01", kind="batch"))
    write(root, "demo/b.yaml", pack_text("demo.b", valid_from="2030-01-01"))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    found = {d.code: d for d in errors(problems)}
    assert set(found) == {"pack/kind-changed", "pack/second-exit-pack"}
    changed = found["pack/kind-changed"].render("en")
    assert "a/2.yaml:2:7" in changed  # at the later version's id
    assert "version `2` of pack `demo.a` is of kind `batch`, an earlier one of kind `exit`" in changed
    second = found["pack/second-exit-pack"]
    assert (
        "pack `demo.b` is a second verdict pack (`kind: exit`) for `household`, beside `demo.a`"
        in second.render("en")
    )
    assert "结论包" in second.render("zh")
    write(root, "demo/b.yaml", pack_text("demo.b", kind="exit_reference"))
    write(root, "demo/a/2.yaml", pack_text("demo.a", "2", "2020-01-01"))
    policy_set, problems = load_policies([root])
    assert errors(problems) == []
    assert policy_set is not None
    assert policy_set.exit_pack() == "demo.a"
    assert policy_set.of_kind("exit_reference") == ("demo.b",)
    assert policy_set.of_kind("batch") == ()


def test_a_pack_without_a_kind_or_with_an_unknown_one_is_refused_located(root: Path) -> None:
    write(root, "demo/a.yaml", pack_text("demo.a").replace("kind: exit\n", ""))
    write(root, "demo/b.yaml", pack_text("demo.b", kind="exits"))
    _, problems = load_policies([root])
    shown = {d.render("en").splitlines()[0] for d in errors(problems)}
    assert any("a.yaml" in s and "kind" in s and "missing" in s for s in shown), shown
    assert any("b.yaml:4:7" in s and "`exits`" in s and "kind" in s for s in shown), shown


def test_not_a_pack(root: Path) -> None:
    write(root, "demo/p.yaml", pack_text())
    write(root, "notes.yaml", "anything: 1\n")
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.render("en") == expect(
        """
        pack/not-a-pack: `policies/notes.yaml` is neither a pack (`pack:`) nor a schema (`schema:`)
          help: start a pack file with `pack: <id>`; test cases belong in the pack's `tests/` folder
        """
    )
    assert d.message("zh") == "`policies/notes.yaml` 既不是政策包（`pack:`），也不是数据结构（`schema:`）"


def test_pack_id_must_match_its_path(root: Path) -> None:
    write(root, "demo/other.yaml", pack_text("demo.p"))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.render("en") == expect(
        """
        policies/demo/other.yaml:2:7: pack/id-mismatch: the pack id `demo.p` does not match its path `policies/demo/other.yaml`
           2 | pack: demo.p
             |       ^^^^^^
          help: a pack `demo.p` lives in the folder `demo/p/` (one file per version) or in the file `demo/p.yaml`
        """
    )


def test_pack_id_in_a_folder_must_match_the_folder(root: Path) -> None:
    write(root, "demo/q/2019.1.yaml", pack_text("demo.p"))
    _, problems = load_policies([root])
    assert [d.code for d in errors(problems)] == ["pack/id-mismatch"]


def test_duplicate_version(root: Path) -> None:
    write(root, "demo/p/a.yaml", pack_text(version="1"))
    write(root, "demo/p/b.yaml", pack_text(version="1", valid_from="2020-01-01"))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.render("en") == expect(
        """
        policies/demo/p/b.yaml:2:7: pack/duplicate-version: version `1` of pack `demo.p` is defined twice (also in `policies/demo/p/a.yaml`)
           2 | pack: demo.p
             |       ^^^^^^
        """
    )


@pytest.mark.parametrize(
    ("first_to", "second_from", "day_shown"),
    [
        (None, "2020-01-01", "2020-01-01"),  # the earlier one is open-ended
        ("2020-01-01", "2020-01-01", "2020-01-01"),  # one shared day
        ("2020-06-30", "2020-01-01", "2020-01-01"),
    ],
)
def test_overlapping_versions(root: Path, first_to: str | None, second_from: str, day_shown: str) -> None:
    write(root, "demo/p/1.yaml", pack_text(version="1", valid_from="2019-01-01", valid_to=first_to))
    write(root, "demo/p/2.yaml", pack_text(version="2", valid_from=second_from))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.render("en") == expect(
        f"""
        policies/demo/p/2.yaml:2:7: pack/overlapping-versions: versions `1` and `2` of pack `demo.p` are both in force on {day_shown}
           2 | pack: demo.p
             |       ^^^^^^
          help: end the earlier version with `valid_to` the day before the later one's `valid_from`
        """
    )


def test_adjacent_versions_do_not_overlap_and_gaps_between_are_allowed(root: Path) -> None:
    write(root, "demo/p/1.yaml", pack_text(version="1", valid_from="2019-01-01", valid_to="2019-12-31"))
    write(root, "demo/p/2.yaml", pack_text(version="2", valid_from="2020-01-01", valid_to="2020-06-30"))
    write(root, "demo/p/3.yaml", pack_text(version="3", valid_from="2021-01-01"))
    policy_set, problems = load_policies([root])
    assert errors(problems) == []
    assert policy_set is not None
    assert policy_set.in_force("demo.p", D(2020, 7, 1)) is None  # between versions: none in force
    assert [p.version for p in policy_set.versions("demo.p")] == ["1", "2", "3"]


def test_several_schemas(root: Path) -> None:
    shutil.copy(SCHEMA, root / "other_schema.yaml")
    write(root, "demo/p.yaml", pack_text())
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.code == "pack/several-schemas"
    assert d.render("en") == (
        "pack/several-schemas: more than one household schema: "
        "`policies/other_schema.yaml` and `policies/schema/household.yaml`"
    )


def test_a_newer_format_through_the_loader(root: Path) -> None:
    write(root, "demo/p.yaml", pack_text().replace("format: 1", "format: 2"))
    policy_set, problems = load_policies([root])
    assert policy_set is None
    [d] = errors(problems)
    assert d.render("en").splitlines()[0] == (
        "policies/demo/p.yaml:1:9: pack/format-too-new: this pack uses pack format 2, "
        "but this gspolicy reads format 1"
    )


def test_a_missing_path(root: Path) -> None:
    policy_set, problems = load_policies([Path("nowhere")])
    assert policy_set is None
    assert [d.render("en") for d in errors(problems)] == ["io/not-found: no such file or folder `nowhere`"]


def test_load_policy_set_raises_one_error_holding_all(root: Path) -> None:
    write(root, "demo/p.yaml", pack_text(valid_to="2018-01-01"))
    write(root, "demo/q.yaml", pack_text("demo.q").replace("department: office", "department: nobody"))
    with pytest.raises(PolicyError) as caught:
        load_policy_set([root])
    assert sorted(d.code for d in caught.value.diagnostics) == [
        "pack/bad-validity",
        "pack/unknown-department",
    ]
    assert isinstance(caught.value, ValueError)


def test_the_bundled_policies_load() -> None:
    policy_set, problems = load_policies()
    assert policy_set is not None, [d.render("en") for d in errors(problems)]
    assert "exit_criteria.household" in policy_set.ids


# -- each file is read and checked once per process ---------------------------------------------


def _count_reads(monitor: pytest.MonkeyPatch) -> list[str]:
    import gspolicy.pack.load as load_module

    seen: list[str] = []
    original = load_module.read_pack

    def counting(source: object) -> object:
        seen.append(source.name)  # type: ignore[attr-defined]
        return original(source)  # type: ignore[arg-type]

    monitor.setattr(load_module, "read_pack", counting)
    return seen


def test_loading_the_same_files_again_reads_no_pack_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(GOOD, root)
    reads = _count_reads(monkeypatch)
    first, _ = load_policies([root])
    assert reads  # the first load reads every pack file
    reads.clear()
    second, _ = load_policies([root])
    assert reads == []
    assert first is not None
    assert second is not None
    assert [p.content_hash for p in first.packs] == [p.content_hash for p in second.packs]


def test_a_pack_file_changed_on_disk_is_read_again_and_only_that_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(GOOD, root)
    before, _ = load_policies([root])
    assert before is not None
    changed = root / "demo" / "income" / "2019.1.yaml"
    text = changed.read_text(encoding="utf-8")
    assert "{value: 3300, source: rules_2019, clause: 第二条}" in text
    changed.write_text(text.replace("2019-01-01: {value: 3300", "2019-01-01: {value: 3400"), encoding="utf-8")
    reads = _count_reads(monkeypatch)
    after, _ = load_policies([root])
    assert after is not None
    assert [Path(name).name for name in reads] == ["2019.1.yaml"]
    hashes = {p.key: p.content_hash for p in before.packs}
    moved = [p.key for p in after.packs if hashes[p.key] != p.content_hash]
    assert moved == ["demo.income@2019.1"]


def test_a_changed_schema_checks_the_packs_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "policies"
    shutil.copytree(GOOD, root)
    load_policies([root])
    schema = root / "schema" / "household.yaml"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# a comment changes the bytes\n", "utf-8")
    reads = _count_reads(monkeypatch)
    again, problems = load_policies([root])
    assert again is not None, [d.render("en") for d in problems]
    assert len(reads) == len(again.packs)  # every pack checked against the new schema object
