"""What a run was computed with, noted while it runs: the data files it read and the engine choices.

Science code calls :func:`note_data_file` when it reads a data file and :func:`note` for a choice made
at run time (the training engine's path, its thread count). The sweep runner calls :func:`reset`
before each batch and :func:`collect` after it, and stores the result with each run of the batch.
The notes live in the process that computes the batch, so they work on every backend.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

_notes: dict[str, Any] = {}
_data_files: dict[str, str] = {}
_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_of(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes (cached per path, size and modification time)."""
    path = Path(path).resolve()
    stat = path.stat()
    cache_key = (str(path), stat.st_size, stat.st_mtime_ns)
    if cache_key not in _hash_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _hash_cache[cache_key] = digest.hexdigest()
    return _hash_cache[cache_key]


def note_data_file(path: str | Path) -> None:
    """Record that the current batch read ``path`` (stored as its SHA-256)."""
    _data_files[str(Path(path).resolve())] = sha256_of(path)


def note(key: str, value: Any) -> None:
    """Record a run-time choice of the current batch (JSON-able ``value``), e.g. ``engine``."""
    _notes[key] = value


def reset() -> None:
    """Forget every note (called before each batch)."""
    _notes.clear()
    _data_files.clear()


def collect() -> dict[str, Any]:
    """The notes of the current batch: each noted choice, and ``data_files`` (path → SHA-256) if any."""
    out = dict(_notes)
    if _data_files:
        out["data_files"] = dict(sorted(_data_files.items()))
    return out
