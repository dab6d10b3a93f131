"""The results store: one SQLite file, one row per finished run, keyed by a hash of its config.

Every finished run is committed on its own, so a sweep killed at any moment (Ctrl-C, ``kill -9``)
loses only the runs that had not finished; rerunning skips every key already stored as ``done``.
WAL journaling and a busy timeout let several processes write one store at once. Commits are
``synchronous = NORMAL``: a killed process loses nothing committed; a power cut may lose the last
few commits (those runs rerun) but never corrupts the store — and a commit costs no disk flush.

A file that exists but is not a modlab store is never written to: opening it raises
:class:`~modlab.errors.StoreError`.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import torch

import modlab
from modlab.errors import StoreError
from modlab.metrics import encode
from modlab.table import flatten, tidy_table  # noqa: F401  (flatten: kept importable from here)

SCHEMA_VERSION = "1"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 60
PROVENANCE = ("modlab_version", "torch_version", "device", "host", "finished_at")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    metrics TEXT,
    error TEXT,
    seconds REAL,
    device TEXT,
    modlab_version TEXT,
    torch_version TEXT,
    host TEXT,
    finished_at REAL
);
"""


@dataclass
class RunRecord:
    """What the store keeps of one run."""

    key: str
    experiment: str
    config: dict[str, Any]
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    device: str = "cpu"


class Store:
    """A modlab results store at ``path`` (created if missing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        _check_is_store_or_new(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.DatabaseError) as err:
            raise StoreError(f"{self.path}: cannot create or open the store ({err})") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
            _use_wal(self._db)
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._init_schema()
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise StoreError(f"{self.path}: cannot open as a modlab store ({err})") from None

    @classmethod
    def create(cls, path: str | Path) -> "Store":
        """Open the store at ``path``, creating it first if it does not exist."""
        return cls(path)

    def _init_schema(self) -> None:
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('app', 'modlab')")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _transaction(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, record: RunRecord) -> None:
        """Commit one finished run (a later ``done`` replaces an earlier ``failed``)."""
        row = (
            record.key,
            record.experiment,
            json.dumps(record.config, sort_keys=True),
            record.status,
            json.dumps({name: encode(value) for name, value in record.metrics.items()}),
            record.error,
            record.seconds,
            record.device,
            modlab.__version__,
            torch.__version__,
            platform.node(),
            time.time(),
        )
        with self._transaction():
            current = self._db.execute("SELECT status FROM runs WHERE key = ?", (record.key,)).fetchone()
            if current is not None and current[0] == "done":
                return
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        """Key → 'done' | 'failed' for the keys that have a record."""
        return dict(self._select_by_key("status", keys))

    def _select_by_key(self, columns: str, keys: Iterable[str]) -> list[tuple]:
        """``SELECT key, columns`` of the runs with the given keys (in chunks SQLite accepts)."""
        keys = list(keys)
        rows: list[tuple] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self._db.execute(f"SELECT key, {columns} FROM runs WHERE key IN ({marks})", chunk).fetchall()
        return rows

    def records(self, keys: Iterable[str] | None = None, status: str | None = None) -> list[RunRecord]:
        """The stored runs (all, or those with the given keys), in key order of ``keys``."""
        query = "SELECT key, experiment, config, status, metrics, error, seconds, device FROM runs"
        rows = self._db.execute(query + (" WHERE status = ?" if status else ""), (status,) if status else ())
        by_key = {
            r[0]: RunRecord(r[0], r[1], json.loads(r[2]), r[3], json.loads(r[4] or "{}"), r[5], r[6], r[7])
            for r in rows
        }
        if keys is None:
            return list(by_key.values())
        return [by_key[k] for k in dict.fromkeys(keys) if k in by_key]

    def provenance(self, key: str) -> dict[str, Any]:
        """Versions, device and host a run was computed with."""
        row = self._db.execute(f"SELECT {', '.join(PROVENANCE)} FROM runs WHERE key = ?", (key,)).fetchone()
        return dict(zip(PROVENANCE, row)) if row else {}

    def provenance_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per stored run of ``keys`` (all runs if None): key, modlab and torch versions,
        device, host, finish time."""
        keys = (
            [row[0] for row in self._db.execute("SELECT key FROM runs")] if keys is None else list(dict.fromkeys(keys))
        )
        order = {key: i for i, key in enumerate(keys)}
        rows = sorted(self._select_by_key(", ".join(PROVENANCE), keys), key=lambda row: order[row[0]])
        return pd.DataFrame(rows, columns=["key", *PROVENANCE])

    def table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """The long table of finished runs (:func:`modlab.table.tidy_table`): one row per run × metric
        × point, with columns key, experiment, config fields…, metric, step, x, value."""
        return tidy_table(self.records(keys, status="done"))


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL journaling. SQLite answers "locked" at once, without waiting, when two
    processes make that switch on a new store together, so wait here (up to the busy timeout)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked (cannot switch to WAL journaling)")
        time.sleep(0.01)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error), for autocommit connections."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *exc) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _check_is_store_or_new(path: Path) -> None:
    """Refuse, without touching it, any existing file that is not a sound modlab store of this
    schema. An SQLite file with no tables yet is one that another process is creating: it is new."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a modlab store file")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as err:
        raise StoreError(f"{path}: cannot read ({err.strerror})") from None
    if not header.startswith(SQLITE_HEADER):
        raise StoreError(f"{path} is not a modlab store (not an SQLite file)")
    if problem := _size_problem(path, header):
        raise StoreError(f"{path} is damaged: {problem}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            problem = _store_problem(db)
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path} is not a readable modlab store ({err})") from None
    if problem:
        raise StoreError(f"{path} {problem}")


def _size_problem(path: Path, header: bytes) -> str | None:
    """A file shorter than its header says, or not whole pages: truncated. Only checked when no
    write-ahead log is pending, since a checkpoint cut short leaves the file short until replayed."""
    if len(header) < 100:
        return f"{len(header)} bytes, shorter than an SQLite header (truncated)"
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (int.from_bytes(header[i : i + 4], "big") for i in (28, 24, 92))
    size = path.stat().st_size
    if page_size < 512 or size % page_size:
        return f"{size} bytes is not a whole number of {page_size}-byte pages (truncated?)"
    if counter == valid_for and pages * page_size > size:
        return f"{size} bytes, but its header counts {pages} pages of {page_size} bytes (truncated)"
    return None


def _store_problem(db: sqlite3.Connection) -> str | None:
    """What makes this SQLite database unusable as a modlab store, or None."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    if "meta" not in tables:
        return f"is not a modlab store (an SQLite database with tables {', '.join(sorted(tables))})"
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('app', 'schema')").fetchall())
    if meta.get("app") != "modlab":
        return "is not a modlab store (no modlab metadata)"
    if meta.get("schema") != SCHEMA_VERSION:
        return f"has store schema {meta.get('schema')}, this modlab reads schema {SCHEMA_VERSION}"
    check = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    if check != "ok":
        return f"is damaged (truncated or overwritten): {check}"
    return None
