"""The results store: one SQLite file, one row per finished run, keyed by a hash of its config.

Every finished run is committed on its own, so a sweep killed at any moment (Ctrl-C, ``kill -9``)
loses only the runs that had not finished; rerunning skips every key already stored as ``done``.
WAL journaling and a busy timeout let several processes write one store at once. Commits are
``synchronous = NORMAL``: a killed process loses nothing committed; a power cut may lose the last
few commits (those runs rerun) but never corrupts the store — and a commit costs no disk flush.

Each run is stored with the fingerprint of the code that computed it and its provenance (versions,
git state, device, engine, threads, host, data files' SHA-256, start, finish, duration). A record
replaced by a recomputation under other code is kept in the ``history`` table.

Opening is explicit about writing. ``Store(path)`` opens an existing store for writing,
``Store(path, create=True)`` (or :meth:`Store.create`) also creates a missing one — atomically: the
schema is written to a temporary file that is then linked into place, so a store is either absent or
whole, and concurrent creators all end up with the same store. ``Store(path, readonly=True)``
neither creates, migrates nor writes. A file that is not a modlab store (empty, another program's
database, a device such as ``/dev/null``) is never written to: opening it raises
:class:`~modlab.errors.StoreError`. Stores of schema 1 (no fingerprints) are read as they are and
migrated in place by the first writer; their runs have an unknown fingerprint.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pandas as pd

from modlab import metrics as metric_codec
from modlab.errors import StoreError, StoreWriteError
from modlab.table import flatten, tidy_table  # noqa: F401  (flatten: kept importable from here)

SCHEMA_VERSION = "2"
READABLE_SCHEMAS = ("1", "2")
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 60
FS_IOC_GETFLAGS, FS_IMMUTABLE_FL = 0x80086601, 0x10  # Linux ioctl: a file's attribute flags
V1_COLUMNS = (
    "key",
    "experiment",
    "config",
    "status",
    "metrics",
    "error",
    "seconds",
    "device",
    "modlab_version",
    "torch_version",
    "host",
    "finished_at",
)
COLUMNS = (*V1_COLUMNS, "fingerprint", "provenance")
_COLUMN_TYPES = "TEXT,TEXT,TEXT,TEXT,TEXT,TEXT,REAL,TEXT,TEXT,TEXT,TEXT,REAL,TEXT,TEXT".split(",")
_RUNS = ", ".join(f"{name} {kind}" for name, kind in zip(COLUMNS, _COLUMN_TYPES))
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs ({_RUNS.replace("key TEXT", "key TEXT PRIMARY KEY", 1)},
    CHECK (status IN ('done', 'failed')));
CREATE TABLE history ({_RUNS}, replaced_at REAL NOT NULL);
INSERT INTO meta VALUES ('app', 'modlab');
INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
"""
_MIGRATE_FROM_1 = f"""
ALTER TABLE runs ADD COLUMN fingerprint TEXT;
ALTER TABLE runs ADD COLUMN provenance TEXT;
CREATE TABLE history ({_RUNS}, replaced_at REAL NOT NULL);
UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema';
"""


class RunState(NamedTuple):
    """What the runner needs to know of a stored run: its status, the code fingerprint that computed
    it, the intra-op threads it ran with and the id of the batch it was computed in (None where an
    older store did not record them)."""

    status: str
    fingerprint: str | None
    threads: int | None
    batch_id: str | None


@dataclass
class RunRecord:
    """What the store keeps of one run. ``metrics`` holds :mod:`modlab.metrics` values (curves,
    arrays, numbers); ``fingerprint`` is the code fingerprint (None: unknown, schema 1);
    ``provenance`` what it was computed with."""

    key: str
    experiment: str
    config: dict[str, Any]
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    device: str = "cpu"
    fingerprint: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (metrics in their stored form) that :meth:`from_json` reads back."""
        return {**self.__dict__, "metrics": encode_metrics(self.metrics)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(**{**data, "metrics": decode_metrics(data.get("metrics") or {})})


def encode_metrics(values: dict[str, Any]) -> dict[str, Any]:
    return {name: metric_codec.encode(value) for name, value in values.items()}


def decode_metrics(data: dict[str, Any]) -> dict[str, Any]:
    return {name: metric_codec.decode(value) for name, value in data.items()}


class Store:
    """The modlab results store at ``path``.

    ``create``: create it if missing (else a missing path is an error). ``readonly``: open it with
    SQLite's read-only mode (immutable where no writer can exist), for commands that only read.
    """

    def __init__(self, path: str | Path, *, create: bool = False, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            real = _checked_location(self.path, create and not readonly)
            if create and not readonly and not real.exists():
                _create_atomically(real)
            self.schema = _check_is_store(real)
            self._db = _connect(real, readonly)
        except OSError as err:
            raise StoreError(f"{self.path}: cannot create or open the store ({err.strerror or err})") from None
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: cannot open as a modlab store ({err})") from None
        if not readonly and self.schema != SCHEMA_VERSION:
            self._migrate()

    @classmethod
    def create(cls, path: str | Path) -> Store:
        """Open the store at ``path``, creating it first if it does not exist."""
        return cls(path, create=True)

    def _migrate(self) -> None:
        try:
            with self._transaction():
                if self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "1":
                    for statement in filter(str.strip, _MIGRATE_FROM_1.split(";")):
                        self._db.execute(statement)
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise StoreError(f"{self.path}: cannot migrate the store to schema {SCHEMA_VERSION} ({err})") from None
        self.schema = SCHEMA_VERSION

    def _transaction(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, record: RunRecord, *, replace: bool = False) -> bool:
        """Commit one finished run; True if it was stored. It replaces a stored ``failed`` record,
        a record of another code fingerprint, or (``replace``) any record; the replaced record
        moves to the ``history`` table. A stored ``done`` of the same fingerprint is kept.
        Raises :class:`~modlab.errors.StoreWriteError` when the write fails."""
        row = _row(record)
        try:
            with self._transaction():
                current = self._db.execute("SELECT status, fingerprint FROM runs WHERE key = ?", (record.key,))
                current = current.fetchone()
                if current is not None and not (replace or current[0] == "failed" or current[1] != record.fingerprint):
                    return False
                if current is not None:
                    columns = ", ".join(COLUMNS)
                    self._db.execute(
                        f"INSERT INTO history ({columns}, replaced_at) SELECT {columns}, ? FROM runs WHERE key = ?",
                        (time.time(), record.key),
                    )
                marks = ",".join("?" * len(COLUMNS))
                self._db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({marks})", row)
        except sqlite3.DatabaseError as err:
            raise StoreWriteError(describe_write_error(err)) from None
        return True

    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        """Key → 'done' | 'failed' for the keys that have a record."""
        return dict(self._select_by_key("status", keys))

    def run_seconds(self, keys: Iterable[str]) -> float:
        """The summed run times (s) of the stored runs with these keys."""
        return sum(seconds or 0.0 for _, seconds in self._select_by_key("seconds", keys))

    def states(self, keys: Iterable[str]) -> dict[str, RunState]:
        """Key → :class:`RunState` of the stored keys."""
        rows = self._select_by_key(f"status, {self._optional('fingerprint')}, {self._optional('provenance')}", keys)
        states = {}
        for key, status, fingerprint, stored_provenance in rows:
            notes = json.loads(stored_provenance or "{}")
            states[key] = RunState(status, fingerprint, notes.get("threads"), notes.get("batch_id"))
        return states

    def _optional(self, column: str) -> str:
        """A column of schema 2, read as NULL from a schema-1 store."""
        return column if self.schema != "1" or column in V1_COLUMNS else f"NULL AS {column}"

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
        columns = ", ".join(self._optional(c) for c in COLUMNS[1:])
        if keys is None:
            where = " WHERE status = ?" if status else ""
            cursor = self._db.execute(f"SELECT key, {columns} FROM runs{where}", (status,) if status else ())
            return [_record_of(row) for row in cursor]
        wanted = list(dict.fromkeys(keys))
        by_key = {row[0]: row for row in self._select_by_key(columns, wanted)}
        at_status = COLUMNS.index("status")
        rows = [by_key[k] for k in wanted if k in by_key and status in (None, by_key[k][at_status])]
        return [_record_of(row) for row in rows]

    def history(self, key: str) -> list[RunRecord]:
        """The records of ``key`` that recomputations replaced, oldest first."""
        if self.schema == "1":
            return []
        rows = self._db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM history WHERE key = ? ORDER BY replaced_at", (key,)
        ).fetchall()
        return [_record_of(row) for row in rows]

    def provenance(self, key: str) -> dict[str, Any]:
        """What a run was computed with (readable: ISO-8601 times), or {} if it is not stored."""
        records = self.records([key])
        return readable_provenance(records[0]) if records else {}

    def provenance_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per stored run of ``keys`` (all runs if None), in that order: key, versions, git
        state, fingerprint, device, engine, threads, host, data files, start, finish, duration, and
        the batch it was computed in (its id and how many runs it held)."""
        rows = [{"key": r.key, **readable_provenance(r)} for r in self.records(keys)]
        return pd.DataFrame(rows, columns=["key", *PROVENANCE_COLUMNS])

    def table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """The tidy table of finished runs: one row per run × metric (× step for curves)."""
        return tidy_table(self.records(keys, status="done"))


PROVENANCE_COLUMNS = (
    "modlab_version",
    "git_commit",
    "git_dirty",
    "fingerprint",
    "torch_version",
    "device",
    "engine",
    "threads",
    "host",
    "data_files",
    "started_at",
    "finished_at",
    "duration_s",
    "batch_id",
    "batch_runs",
)


def readable_provenance(record: RunRecord) -> dict[str, Any]:
    """A record's provenance as printable values: data files as ``name sha256`` pairs, None where
    unknown (runs stored before provenance was recorded)."""
    prov = {name: record.provenance.get(name) for name in PROVENANCE_COLUMNS}
    prov["fingerprint"] = record.fingerprint or "unknown"
    if files := record.provenance.get("data_files"):
        prov["data_files"] = "; ".join(f"{Path(path).name} {digest}" for path, digest in files.items())
    return prov


def iso_time(seconds: float) -> str:
    """Seconds since the epoch → ISO-8601 UTC with milliseconds (``2026-12-01T22:52:45.123+00:00``)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def describe_write_error(err: sqlite3.DatabaseError) -> str:
    """A failed write's cause in words."""
    text = str(err)
    if "full" in text:
        return "the disk is full or a file-size limit (ulimit -f) was reached"
    if "locked" in text or "busy" in text:
        return f"another process held the store locked for longer than the {BUSY_TIMEOUT_S} s busy timeout"
    if "readonly" in text:
        return "the store cannot be written (read-only file or medium)"
    return f"the write failed ({text})"


def _row(record: RunRecord) -> tuple:
    """The ``runs`` row of a record (the schema-1 columns filled too, from its provenance)."""
    prov = record.provenance
    return (
        record.key,
        record.experiment,
        json.dumps(record.config, sort_keys=True),
        record.status,
        json.dumps(encode_metrics(record.metrics)),
        record.error,
        record.seconds,
        record.device,
        prov.get("modlab_version"),
        prov.get("torch_version"),
        prov.get("host", platform.node()),
        time.time(),
        record.fingerprint,
        json.dumps(prov, sort_keys=True),
    )


def _record_of(row: tuple) -> RunRecord:
    """A ``runs`` row (all :data:`COLUMNS`) → its record; a schema-1 row's provenance is rebuilt
    from its columns."""
    values = dict(zip(COLUMNS, row))
    if values["provenance"] is not None:
        provenance = json.loads(values["provenance"])
    else:
        finished = values["finished_at"]
        provenance = {
            "modlab_version": values["modlab_version"],
            "torch_version": values["torch_version"],
            "device": values["device"],
            "host": values["host"],
            "finished_at": iso_time(finished) if finished is not None else None,
        }
    return RunRecord(
        values["key"],
        values["experiment"],
        json.loads(values["config"]),
        values["status"],
        decode_metrics(json.loads(values["metrics"] or "{}")),
        values["error"],
        values["seconds"],
        values["device"],
        values["fingerprint"],
        provenance,
    )


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error), for autocommit connections."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *exc) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.DatabaseError:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise


def _checked_location(path: Path, may_create: bool) -> Path:
    """The store's real path (links resolved), once it is known to be a regular file or, with
    ``may_create``, a place where none exists yet. Raises StoreError otherwise."""
    real = path.resolve()
    if real.is_dir():
        raise StoreError(f"{path} is a directory, not a modlab store file")
    if real.exists():
        if not stat.S_ISREG(real.stat().st_mode):
            raise StoreError(f"{path} is not a regular file (it resolves to {real}): refused as a store")
        return real
    if path.is_symlink():
        raise StoreError(f"{path} is a link to {real}, which does not exist: refused as a store")
    if not may_create:
        raise StoreError(f"no store at {path} (commands that store runs create it; in Python: Store.create(path))")
    return real


def _create_atomically(path: Path) -> None:
    """Write a new store's schema into a temporary file beside ``path`` and link it into place. If
    another process linked its own first, that one is kept (both are empty and identical)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".modlab-new-{uuid.uuid4().hex}.sqlite")
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
        finally:
            db.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: rename, unless a store appeared meanwhile
            if not path.exists():
                os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _no_writer_can_exist(path: Path) -> bool:
    """True on a read-only mount or for an immutable file (``chattr +i``): nobody can write it."""
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return True
    try:
        with open(path, "rb") as handle:
            flags = bytearray(4)
            fcntl.ioctl(handle.fileno(), FS_IOC_GETFLAGS, flags)
    except OSError:
        return False
    return bool(int.from_bytes(flags, "little") & FS_IMMUTABLE_FL)


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        return _connect_readonly(path)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise sqlite3.OperationalError("cannot switch to WAL journaling")
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """SQLite's ``mode=ro``, or ``immutable=1`` where no writer can exist (a read-only medium, where
    ``mode=ro`` cannot open a WAL store since it cannot create the ``-shm`` file)."""
    mode = "immutable=1" if _no_writer_can_exist(path) else "mode=ro"
    db = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    return db


def _check_is_store(path: Path) -> str:
    """The schema version of the sound modlab store at ``path``; StoreError, without touching the
    file, for anything else."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as err:
        raise StoreError(f"{path}: cannot read ({err.strerror})") from None
    if not header:
        raise StoreError(f"{path} is an empty file, not a modlab store")
    if not header.startswith(SQLITE_HEADER):
        raise StoreError(f"{path} is not a modlab store (not an SQLite file)")
    if problem := _size_problem(path, header):
        raise StoreError(f"{path} is damaged: {problem}")
    try:
        db = _connect_readonly(path)
        try:
            problem, schema = _store_problem(db)
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path} is not a readable modlab store ({err})") from None
    if problem:
        raise StoreError(f"{path} {problem}")
    return schema


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


def _store_problem(db: sqlite3.Connection) -> tuple[str | None, str]:
    """(What makes this SQLite database unusable as a modlab store or None, its schema version)."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return "is not a modlab store (an SQLite database with no tables)", ""
    if "meta" not in tables or _columns(db, "meta") != {"key", "value"}:
        return f"is not a modlab store (an SQLite database with tables {', '.join(sorted(tables))})", ""
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('app', 'schema')").fetchall())
    schema = meta.get("schema")
    if meta.get("app") != "modlab":
        return "is not a modlab store (no modlab metadata)", ""
    if schema not in READABLE_SCHEMAS:
        return f"has store schema {schema}, this modlab reads schemas {', '.join(READABLE_SCHEMAS)}", ""
    expected = set(V1_COLUMNS if schema == "1" else COLUMNS)
    if "runs" not in tables or not expected <= _columns(db, "runs"):
        return f"is damaged: its runs table lacks the columns of store schema {schema}", ""
    check = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    if check != "ok":
        return f"is damaged (truncated or overwritten): {check}", ""
    return None, str(schema)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
