"""Planning from an outcome table (``gspolicy evaluate --output``): checked whole, then planned in batches.

`read_outcome_table` checks the table — format, columns, run manifest, the packs it was decided
with, every distinct row's plan — before anything is written; `OutcomeTable.write` plans its
households in batches."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from gspolicy._i18n import Text
from gspolicy.errors import Diagnostic, PolicyError, suggest
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.store.db import write
from gspolicy.store.ledger_rows import TablePlanned
from gspolicy.store.ledger_tables import (
    ITEM_INSERT,
    ITEM_VALUES,
    PLAN_INSERT,
    item_values,
    next_plan,
    supersede,
)
from gspolicy.store.planning import plan_items

if TYPE_CHECKING:
    import polars as pl

__all__ = ["OUTCOME_FORMATS", "PLANNED_COLUMNS", "TABLE_BATCH", "OutcomeTable", "read_outcome_table"]

OUTCOME_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}
"""The outcome tables a plan can be made from, by suffix (those ``gspolicy evaluate --output``
writes, Excel left out)."""

PLANNED_COLUMNS = ("id", "as_of", "support", "rules", "buffer", "buffer_until")
"""The columns of an outcome row a plan reads (``county``, when the table has it, too)."""

TABLE_BATCH = 4_096
"""Households planned per transaction from an outcome table."""

_MANIFEST_KEY = "gspolicy.manifest"  # the Parquet metadata key of a run's manifest (gspolicy.tables)


def _table_fail(code: str, path: Path, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, {"path": str(path), **args})])


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def read_outcome_table(
    path: Path,
    policy_set: PolicySet,
    *,
    deadlines: Mapping[str, dt.date] | None = None,
    period_days: int | None = None,
) -> OutcomeTable:
    """The outcome table at `path` (Parquet, JSON Lines or CSV, as ``gspolicy evaluate --output``
    writes it, with its run manifest), checked and planned before anything is written: every
    distinct plan its rows make (`plan_items`, with the pack versions its manifest names).

    Raises `PolicyError` for a file that is missing, of another format, without the columns a plan
    reads (`PLANNED_COLUMNS`) or a manifest, not the file its manifest describes, decided with a
    pack version `policy_set` does not hold, with a row that cannot be planned, or a deadline for
    a measure no row holds or before the table's date."""
    table = OutcomeTable.open(path, policy_set)
    return attrs.evolve(table, catalogue=table.plan_all(deadlines or {}, period_days))


@attrs.frozen
class OutcomeTable:
    """An outcome table checked for planning (`read_outcome_table`): its format, its manifest and
    the pack versions that manifest names (all held by the policy set), its SHA-256, and once
    planned its `catalogue` — one row per item of each distinct plan of its rows."""

    path: Path
    kind: str
    policy_set: PolicySet
    packs: tuple[CheckedPack, ...]
    source: str  # `<file> sha256:<hex>`
    has_county: bool
    empty: bool = False  # a table of no household (written without columns)
    catalogue: pl.DataFrame | None = attrs.field(default=None, eq=False)

    @classmethod
    def open(cls, path: Path, policy_set: PolicySet) -> OutcomeTable:
        """Check the table before its rows are read (see `read_outcome_table`)."""
        from gspolicy.tables import file_digest  # noqa: PLC0415  # Polars when used

        kind = OUTCOME_FORMATS.get(path.suffix.lower())
        if not path.exists():
            raise PolicyError([Diagnostic("io/not-found", None, {"path": str(path)})])
        if not path.is_file():
            raise PolicyError([Diagnostic("io/not-a-file", None, {"path": str(path)})])
        if kind is None:
            raise _table_fail("ledger/table-format", path, suffix=path.suffix or "-")
        try:
            digest = file_digest(path)
        except OSError as err:
            raise PolicyError(
                [Diagnostic("io/unreadable", None, {"path": str(path), "reason": err.strerror or str(err)})]
            ) from None
        columns = _columns(path, kind)
        missing = [c for c in PLANNED_COLUMNS if c not in columns]
        manifest, where = ({}, "") if missing and columns else _manifest(path, kind)
        empty = not columns and manifest.get("records") == 0
        if missing and not empty:
            raise _table_fail(
                "ledger/not-an-outcome-table",
                path,
                missing=", ".join(f"`{c}`" for c in missing),
                columns=", ".join(f"`{c}`" for c in columns) or "-",
            )
        output = manifest.get("output")
        if isinstance(output, Mapping) and output.get("sha256") not in (None, digest):
            raise _table_fail(
                "ledger/manifest-mismatch", path, manifest=where, expected=output.get("sha256"), found=digest
            )
        return cls(
            path,
            kind,
            policy_set,
            _manifest_packs(path, where, manifest, policy_set),
            f"{path} {digest}",
            "county" in columns,
            empty,
        )

    def scan(self) -> pl.LazyFrame:
        """The rows, with the columns a plan reads typed alike whatever the format: ``id``,
        ``county`` (null when the table has none) and ``buffer`` as text, ``as_of`` and
        ``buffer_until`` as dates, ``support`` and ``rules`` as lists of texts."""
        import polars as pl  # noqa: PLC0415  # Polars when used

        texts = pl.List(pl.String())
        if self.kind == "parquet":
            frame = pl.scan_parquet(self.path)
        elif self.kind == "jsonl":
            frame = pl.scan_ndjson(
                self.path,
                schema_overrides={
                    "id": pl.String(),
                    "as_of": pl.String(),
                    "support": texts,
                    "rules": texts,
                    "buffer": pl.String(),
                    "buffer_until": pl.String(),
                    **({"county": pl.String()} if self.has_county else {}),
                },
            )
        else:
            frame = pl.scan_csv(self.path, infer_schema=False)

        def day(name: str) -> pl.Expr:
            column = pl.col(name)
            if self.kind == "parquet":
                return column.cast(pl.Date())
            return column.str.strip_chars().replace("", None).str.to_date("%Y-%m-%d", strict=True).alias(name)

        def listed(name: str) -> pl.Expr:
            column = pl.col(name)
            if self.kind != "csv":
                return column.cast(texts).fill_null(pl.lit([], dtype=texts))
            return (
                pl.when(column.is_null() | (column == ""))
                .then(pl.lit([], dtype=texts))
                .otherwise(column.str.split(";"))
                .alias(name)
            )

        return frame.select(
            pl.col("id").cast(pl.String()),
            day("as_of"),
            listed("support"),
            listed("rules"),
            pl.col("buffer").cast(pl.String()).replace("", None),
            day("buffer_until"),
            (
                pl.col("county").cast(pl.String()).replace("", None)
                if self.has_county
                else pl.lit(None, pl.String())
            ).alias("county"),
        )

    def _ambiguous(self) -> bool:
        """Whether two of the packs have a rule of one id (then a row's plan reads its `rules`)."""
        seen: set[str] = set()
        for pack in self.packs:
            for rule in pack.pack.rules:
                if rule.id in seen:
                    return True
                seen.add(rule.id)
        return False

    def _key(self) -> pl.Expr:
        """What a row's plan depends on, as one text (rows with one key have one plan)."""
        import polars as pl  # noqa: PLC0415

        parts = [
            pl.col("as_of").cast(pl.String()).fill_null("\x00"),
            pl.col("buffer").fill_null("\x00"),
            pl.col("buffer_until").cast(pl.String()).fill_null("\x00"),
            pl.col("support").list.join("\x1e"),
        ]
        if self._ambiguous():
            parts.append(pl.col("rules").list.join("\x1e"))
        return pl.concat_str(parts, separator="\x1f").alias("__key")

    def _read(self, run: Any) -> Any:
        """`run()`, a reading of the table: Polars' errors (a file that is not of its format, a
        date that is not one) as ``ledger/unreadable-table``."""
        import polars as pl  # noqa: PLC0415

        try:
            return run()
        except (pl.exceptions.PolarsError, OSError, ValueError) as err:
            raise _table_fail("ledger/unreadable-table", self.path, reason=_reason(err)) from None

    def plan_all(self, deadlines: Mapping[str, dt.date], period_days: int | None) -> pl.DataFrame:
        """Every distinct plan of the table, before anything is written: one row per item
        (``__key`` and the item's columns; a key whose support is empty has none), `PolicyError`
        for any row that cannot be planned."""
        import polars as pl  # noqa: PLC0415

        schema = {"__key": pl.String(), **{c: pl.String() for c in ITEM_VALUES}}
        if self.empty:
            return pl.DataFrame(schema=schema)
        frame = self.scan()
        checks = self._read(
            lambda: frame.select(
                pl.col("id").is_null().sum().alias("id"),
                pl.col("as_of").is_null().sum().alias("as_of"),
                pl.col("as_of").min().alias("first"),
            ).collect(engine="streaming"),
        )
        for column in ("id", "as_of"):
            if checks[column][0]:
                raise _table_fail("ledger/empty-cells", self.path, column=column, count=checks[column][0])
        distinct = self._read(
            lambda: (
                frame.select(self._key(), "as_of", "support", "rules", "buffer", "buffer_until", "id")
                .group_by("__key")
                .agg(pl.all().first())
                .sort("__key")
                .collect(engine="streaming")
            ),
        )
        held: set[str] = set()
        rows: list[tuple[Any, ...]] = []
        for row in distinct.iter_rows(named=True):
            items = plan_items(
                row,
                self.policy_set,
                packs=self.packs,
                deadlines=deadlines,
                period_days=period_days,
                where=str(self.path),
            )
            held.update(p.measure for p in items)
            rows.extend((row["__key"], *item_values(p)) for p in items)
        first = checks["first"][0]
        problems: list[Diagnostic] = []
        shown = ", ".join(f"`{m}`" for m in sorted(held)) or "-"
        for measure, day in sorted(deadlines.items()):
            if measure not in held:
                problems.append(
                    Diagnostic(
                        "ledger/unknown-deadline-measure",
                        None,
                        {"measure": measure, "held": shown},
                        suggestions=suggest(measure, held),
                    )
                )
            elif first is not None and day < first:
                problems.append(
                    Diagnostic(
                        "ledger/bad-deadline",
                        None,
                        {"measure": measure, "day": day.isoformat(), "planned": first.isoformat()},
                    )
                )
        if problems:
            raise PolicyError(problems)
        return pl.DataFrame(rows, schema=schema, orient="row")

    def write(self, conn: sqlite3.Connection, *, actor: str, created: str, batch_size: int) -> TablePlanned:
        """Plan the table's households, `batch_size` to a transaction (see `Ledger.plan_table`)."""
        import polars as pl  # noqa: PLC0415

        catalogue = self.catalogue
        if catalogue is None:
            raise ValueError("an outcome table is planned by `read_outcome_table` before it is written")
        if self.empty:
            return TablePlanned(self.source, 0, 0, 0, 0, 0, 0)
        sizes = catalogue.group_by("__key").agg(pl.len().alias("__items"))
        frame = self.scan().with_columns(self._key())
        counts = {"rows": 0, "planned": 0, "items": 0, "superseded": 0, "skipped": 0, "nothing": 0}
        from gspolicy.schema.tabular import row_batches  # noqa: PLC0415  # Polars only when used

        batches = row_batches(frame, batch_size)
        while True:
            batch = self._read(lambda: next(batches, None))
            if batch is None:
                break
            try:
                with write(conn):
                    done = _write_batch(conn, batch, sizes, catalogue, self.source, actor, created)
            except (sqlite3.Error, PolicyError) as err:
                reason = (
                    _reason(err)
                    if isinstance(err, sqlite3.Error)
                    else "; ".join(d.code for d in err.diagnostics)
                )
                if not counts["rows"]:
                    raise _table_fail("ledger/not-planned", self.path, reason=reason) from None
                raise _table_fail(
                    "ledger/partly-planned",
                    self.path,
                    rows=counts["rows"],
                    planned=counts["planned"],
                    reason=reason,
                ) from None
            for name, value in done.items():
                counts[name] += value
        return TablePlanned(self.source, **counts)


def _write_batch(
    conn: sqlite3.Connection,
    batch: pl.DataFrame,
    sizes: pl.DataFrame,
    catalogue: pl.DataFrame,
    source: str,
    actor: str,
    created: str,
) -> dict[str, int]:
    """Plan one batch of an outcome table's rows, in the caller's transaction."""
    import polars as pl  # noqa: PLC0415

    ids = batch["id"].unique().to_list()
    current = conn.execute(
        "SELECT household, id, planned_on FROM plans"
        " WHERE superseded_by IS NULL AND household IN (SELECT value FROM json_each(?))",
        (json.dumps(ids, ensure_ascii=False),),
    ).fetchall()
    plans = pl.DataFrame(
        current, schema={"id": pl.String(), "__old": pl.Int64(), "__old_on": pl.String()}, orient="row"
    )
    rows = (
        batch.with_columns(
            pl.col("as_of").cast(pl.String()).alias("__on"), pl.col("id").is_first_distinct().alias("__first")
        )
        .join(plans, on="id", how="left", maintain_order="left")
        .join(sizes, on="__key", how="left", maintain_order="left")
        .with_columns(pl.col("__items").fill_null(0))
    )
    nothing = rows.filter(pl.col("__items") == 0).height
    rows = rows.filter(pl.col("__items") > 0)
    later = pl.col("__first") & (pl.col("__old_on").is_null() | (pl.col("__old_on") < pl.col("__on")))
    skipped = rows.filter(~later).height
    rows = rows.filter(later)
    start = next_plan(conn)
    rows = rows.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + start).alias("__plan"))
    pairs = rows.filter(pl.col("__old").is_not_null()).select("__plan", "__old").rows()
    supersede(conn, pairs)
    conn.executemany(
        PLAN_INSERT,
        rows.select(
            "__plan",
            "id",
            pl.lit(None, pl.Int64()).alias("__entry"),
            pl.lit(source).alias("__source"),
            "county",
            "__on",
            pl.lit(created).alias("__created"),
            pl.lit(actor).alias("__actor"),
        ).iter_rows(),
    )
    items = rows.select("__plan", "id", "__key").join(
        catalogue, on="__key", how="inner", maintain_order="left_right"
    )
    conn.executemany(ITEM_INSERT, items.select("__plan", "id", *ITEM_VALUES).iter_rows())
    return {
        "rows": batch.height,
        "planned": rows.height,
        "items": items.height,
        "superseded": len(pairs),
        "skipped": skipped,
        "nothing": nothing,
    }


def _columns(path: Path, kind: str) -> list[str]:
    """The column names of an outcome table (`ledger/unreadable-table` when it cannot be read)."""
    import polars as pl  # noqa: PLC0415

    try:
        if kind == "parquet":
            return list(pl.read_parquet_schema(path))
        if kind == "jsonl":
            with path.open(encoding="utf-8") as handle:
                first = next((line for line in handle if line.strip()), "")
            data = json.loads(first) if first else {}
            if not isinstance(data, dict):
                raise ValueError("its first line is not a JSON object")
            return list(data)
        return list(pl.scan_csv(path, infer_schema=False, n_rows=0).collect_schema())
    except (pl.exceptions.PolarsError, OSError, ValueError) as err:
        raise _table_fail("ledger/unreadable-table", path, reason=_reason(err)) from None


def _manifest(path: Path, kind: str) -> tuple[dict[str, Any], str]:
    """The run manifest of an outcome table and where it was read: ``<file>.manifest.json`` beside
    it, else (Parquet) the file's metadata."""
    import polars as pl  # noqa: PLC0415

    beside = path.with_name(path.name + ".manifest.json")
    text: str | None = None
    where = str(beside)
    if beside.is_file():
        try:
            text = beside.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=_reason(err)) from None
    elif kind == "parquet":
        try:
            text = pl.read_parquet_metadata(path).get(_MANIFEST_KEY)
        except (pl.exceptions.PolarsError, OSError) as err:
            raise _table_fail("ledger/unreadable-table", path, reason=_reason(err)) from None
        where = f"{path} ({_MANIFEST_KEY})"
    if text is None:
        raise _table_fail("ledger/no-manifest", path, manifest=str(beside))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=_reason(err)) from None
    if not isinstance(data, dict) or not isinstance(data.get("packs"), list):
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason="it lists no `packs`")
    from gspolicy.tables import TABLE_FORMAT  # noqa: PLC0415  # Polars, imported with the table

    found = data.get("format", 1)  # manifests written before the format was recorded are of format 1
    if not isinstance(found, int) or isinstance(found, bool) or not 1 <= found <= TABLE_FORMAT:
        reason = Text(
            zh=f"其格式为 `{found}`，而本版 gspolicy 能读取的格式为 1 至 {TABLE_FORMAT}（请用写出它的 gspolicy 版本）",
            en=f"it is of format `{found}`, and this gspolicy reads formats 1 up to {TABLE_FORMAT} "
            "(use the gspolicy version that wrote it)",
        )
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason=reason)
    return data, where


def _manifest_packs(
    path: Path, where: str, manifest: Mapping[str, Any], policy_set: PolicySet
) -> tuple[CheckedPack, ...]:
    """The pack versions a manifest names, as the policy set holds them: `PolicyError` naming each
    one it does not hold (by key and content hash)."""
    by_key = {p.key: p for p in policy_set.packs}
    found: list[CheckedPack] = []
    problems: list[Diagnostic] = []
    for item in manifest["packs"]:
        key = str(item.get("pack")) if isinstance(item, Mapping) else "?"
        digest = str(item.get("content_hash")) if isinstance(item, Mapping) else "?"
        held = by_key.get(key)
        if held is not None and held.content_hash == digest:
            found.append(held)
            continue
        problems.append(
            Diagnostic(
                "ledger/policy-mismatch",
                None,
                {
                    "path": str(path),
                    "pack": key,
                    "hash": digest,
                    "held": Text(
                        zh=f"中该版本的内容哈希为 {held.content_hash}",
                        en=f"holds that version with content hash {held.content_hash}",
                    )
                    if held is not None
                    else Text(zh="中没有该版本", en="has no such version"),
                },
                suggestions=() if held is not None else suggest(key, by_key),
            )
        )
    if problems:
        raise PolicyError(problems)
    if not found:
        raise _table_fail("ledger/bad-manifest", path, manifest=where, reason="it lists no `packs`")
    return tuple(found)
