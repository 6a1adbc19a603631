"""The ids admitted so far in one load, to refuse a record whose id an earlier record holds.

Kept as sorted runs of hashes in Polars frames, so a registry of millions stays small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gspolicy._location import RecordLocation
from gspolicy.errors import Diagnostic
from gspolicy.schema.model import Record, RecordSpec

__all__ = ["IdLedger"]

_LINES = 1 << 48  # a file's lines, counted in one int with the file's index (`stream_records`)


class IdLedger:
    """The id of every record admitted across the files of a run, each with where it was.

    Held compactly for a million households: runs of (hash, id, place) sorted by hash, merged as
    they grow (a place is the file's index and the line in one int), looked up by binary search
    a block of ids at a time."""

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self.runs: list[Any] = []  # Polars frames, each sorted by the ids' hashes
        self.files: list[str] = []
        self.file_index: dict[str, int] = {}

    def admit_records(self, records: Sequence[Record], default_file: str) -> list[Diagnostic | None]:
        """Admit records in order; for each, a `record/duplicate-id` diagnostic when its id was
        admitted before (then it is not admitted)."""
        key = self.spec.key
        entries: list[tuple[object, str, int, RecordLocation | None]] = []
        where: list[int] = []
        for index, rec in enumerate(records):
            if key is None or key not in rec:
                continue
            line = rec.origin.line if rec.origin and rec.origin.line is not None else 0
            entries.append((rec[key], rec.origin.file if rec.origin else default_file, line, rec.origin))
            where.append(index)
        out: list[Diagnostic | None] = [None] * len(records)
        for index, found in zip(where, self.admit(entries), strict=True):
            out[index] = found
        return out

    def admit(
        self, entries: Sequence[tuple[object, str, int, RecordLocation | None]]
    ) -> list[Diagnostic | None]:
        """Admit ids in order, each as (id, file, line, location — None: the file and line): for
        each, a duplicate diagnostic when the id was admitted before, by an earlier call or
        earlier in `entries`."""
        if not entries:
            return []
        import polars as pl  # noqa: PLC0415  # only for runs that admit ids

        for _ident, file, _line, _origin in entries:
            if file not in self.file_index:
                self.file_index[file] = len(self.files)
                self.files.append(file)
        texts = pl.Series("id", [str(e[0]) for e in entries], dtype=pl.String())
        batch = pl.DataFrame(
            {
                "h": texts.hash(),
                "id": texts,
                "at": pl.Series([self.file_index[e[1]] * _LINES + e[2] for e in entries], dtype=pl.Int64()),
            }
        )
        first_at: list[int | None] = [None] * len(entries)
        for run in self.runs:
            positions = run["h"].search_sorted(batch["h"], "left").clip(0, max(run.height - 1, 0))
            candidates = run[positions]
            hit = (candidates["h"] == batch["h"]) & (candidates["id"] == batch["id"])
            collide = (candidates["h"] == batch["h"]) & ~hit
            for i in hit.arg_true().to_list():
                first_at[i] = first_at[i] if first_at[i] is not None else candidates["at"][i]
            for i in collide.arg_true().to_list():  # two ids of one hash: look at every one
                same = run.filter((pl.col("h") == batch["h"][i]) & (pl.col("id") == batch["id"][i]))
                if same.height and first_at[i] is None:
                    first_at[i] = same["at"][0]
        earlier = batch.with_row_index("i").filter(~pl.col("id").is_first_distinct())
        if earlier.height:  # an id given twice in `entries`: the later ones refer to the first
            firsts = dict(batch.filter(pl.col("id").is_first_distinct()).select("id", "at").iter_rows())
            for i, ident in zip(earlier["i"].to_list(), earlier["id"].to_list(), strict=True):
                if first_at[i] is None:
                    first_at[i] = firsts[ident]
        admitted = pl.Series([at is None for at in first_at])
        self._add(batch.filter(admitted))
        out: list[Diagnostic | None] = []
        for (ident, file, line, origin), at in zip(entries, first_at, strict=True):
            if at is None:
                out.append(None)
                continue
            first_file, first_line = divmod(at, _LINES)
            first = f"{self.files[first_file]}:{first_line}" if first_line else self.files[first_file]
            where = origin if origin is not None else RecordLocation(file, line)
            out.append(
                Diagnostic(
                    "record/duplicate-id", where, {"what": self.spec.title, "id": ident, "first": first}
                )
            )
        return out

    def _add(self, batch: Any) -> None:
        if not batch.height:
            return
        self.runs.append(batch.sort("h"))
        # as a binary counter: runs of falling sizes, each id merged about log2(ids / block) times
        while len(self.runs) > 1 and self.runs[-2].height <= self.runs[-1].height:
            last = self.runs.pop()
            self.runs[-1] = self.runs[-1].merge_sorted(last, key="h").rechunk()
