"""Fuzzing the decision log (the "damaged logs" family): a small log, damaged at random — bytes of
the SQLite file flipped, columns overwritten with odd values through SQL, tables dropped, the
checkpoint file edited — is verified, shown and replayed, through the API and the command line.
Nothing raises but `PolicyError`; the command line exits 0, 1 or 2 without a traceback; a log
whose entries were changed never verifies."""

from __future__ import annotations

import atexit
import datetime as dt
import io
import shutil
import sqlite3
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, check_api, check_cli, count
from gspolicy.api import load_households
from gspolicy.cli import main
from gspolicy.store.log import DecisionLog, checkpoint_path

from support.bundled import shared_policies

REPO = Path(__file__).resolve().parents[2]
POLICIES = shared_policies()
_BUILT: list[Path] = []


def built_log() -> Path:
    """A log of three entries, made once (in a folder removed when the process ends)."""
    if not _BUILT:
        folder = Path(tempfile.mkdtemp(prefix="gspolicy-fuzz-log-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        households = load_households(REPO / "examples" / "households.jsonl", policies=POLICIES)[:3]
        with DecisionLog.open(folder / "log.db") as log:
            for household in households:
                decision = POLICIES.evaluate(household, dt.date(2018, 12, 31))
                log.record(household, decision, POLICIES.policy_set, actor="fuzz")
        _BUILT.append(folder / "log.db")
    return _BUILT[0]


COLUMNS = st.sampled_from(
    [
        "outcome",
        "record",
        "dictionary",
        "context",
        "as_of",
        "hash",
        "prev_hash",
        "record_hash",
        "outcome_hash",
        "household",
        "verdict",
        "kind",
        "manifest",
        "recorded_at",
    ]
)
ODD = st.one_of(
    st.sampled_from(["", "nope", "{}", "[]", "[{}]", '[{"hash": 1}]', "2018-13-45", "null", "\x00"]),
    st.binary(max_size=8),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=20),
)


@st.composite
def damages(draw: st.DrawFn) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "column", "drop", "delete", "checkpoint"]))
        if kind == "flip":
            out.append(("flip", (draw(st.integers(0, 60_000)), draw(st.integers(1, 255)))))
        elif kind == "column":
            out.append(("column", (draw(COLUMNS), draw(st.integers(1, 3)), draw(ODD))))
        elif kind == "drop":
            out.append(
                ("drop", draw(st.sampled_from(["entries", "blobs", "dictionaries", "migrations", "plans"])))
            )
        elif kind == "delete":
            out.append(("delete", draw(st.integers(1, 3))))
        else:
            out.append(("checkpoint", draw(st.sampled_from(["", "{", '{"checkpoint": 1}', "[]", "\x00"]))))
    return out


def damage(db: Path, edits: list[tuple[str, object]]) -> bool:
    """Apply the edits; True when the entries themselves were changed."""
    changed = False
    for kind, arg in edits:
        if kind == "flip":
            at, mask = arg  # type: ignore[misc]
            data = bytearray(db.read_bytes())
            if at < len(data):
                data[at] ^= mask
                db.write_bytes(bytes(data))
        elif kind == "checkpoint":
            checkpoint_path(db).write_text(str(arg), encoding="utf-8", errors="surrogatepass")
        else:
            conn = sqlite3.connect(db)
            try:
                if kind == "column":
                    column, entry, value = arg  # type: ignore[misc]
                    cursor = conn.execute(f"UPDATE entries SET {column} = ? WHERE id = ?", (value, entry))
                    changed |= cursor.rowcount > 0
                elif kind == "drop":
                    conn.execute(f"DROP TABLE IF EXISTS {arg}")
                else:
                    changed |= conn.execute("DELETE FROM entries WHERE id = ?", (arg,)).rowcount > 0
                conn.commit()
            except (sqlite3.Error, UnicodeDecodeError):
                pass  # a file already too damaged for SQLite to edit (its messages need not be text)
            finally:
                conn.close()
    return changed


def _open_and(db: Path, what: str) -> object:
    with DecisionLog.open(db, create=False) as log:
        if what == "verify":
            return log.verify()
        if what == "show":
            return log.entry(2).outcome_data()
        return log.replay(2)


@budget(10)
@given(damages())
def test_a_damaged_log_is_reported_never_a_crash(edits: list[tuple[str, object]]) -> None:
    count("damaged logs")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "log.db"
        shutil.copy(built_log(), db)
        shutil.copy(checkpoint_path(built_log()), checkpoint_path(db))
        changed = damage(db, edits)
        verified = check_api(lambda: _open_and(db, "verify"))
        if changed and verified is not None:
            assert not verified.ok  # type: ignore[attr-defined]
        check_api(lambda: _open_and(db, "show"))
        check_api(lambda: _open_and(db, "replay"))
        for argv in (
            ["log", "verify", "--db", str(db)],
            ["log", "show", "--db", str(db), "2"],
            ["log", "replay", "--db", str(db), "2"],
        ):
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main([*argv, "--lang", "en"])
            check_cli(code, out.getvalue(), err.getvalue())
