"""Recovery files: computed runs the store could not take (disk full, file-size limit, store locked
too long) are written here instead of being lost, and the next run imports them.

A recovery file is JSON, written whole (temporary file renamed into place): beside the store
(``STORE.recovered-*.json``), else — since beside a full disk the write fails too — in ``$TMPDIR``
(``modlab-recovered-HASH-*.json``, HASH naming the store's path), else as one JSON line on stderr,
which the user can save under the first name to have it imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from modlab.store import RunRecord, Store


def save(records: list[RunRecord], store_path: Path) -> str:
    """Write ``records`` where they survive; returns where (a path, or ``stderr``)."""
    payload = json.dumps({"store": str(store_path.resolve()), "records": [r.to_json() for r in records]})
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    for folder, name in _places(store_path):
        target = folder / f"{name}{stamp}.json"
        try:
            _write_whole(target, payload)
            return str(target)
        except OSError:
            continue
    print(payload, file=sys.stderr)
    return f"stderr (the JSON line above; save it as {_places(store_path)[0][1]}manual.json beside the store)"


def pending(store_path: Path) -> list[Path]:
    """The recovery files of this store, oldest first."""
    found = [path for folder, name in _places(store_path) for path in folder.glob(f"{name}*.json")]
    return sorted(found, key=lambda path: path.stat().st_mtime)


def load(path: Path) -> list[RunRecord]:
    return [RunRecord.from_json(item) for item in json.loads(path.read_text())["records"]]


def import_pending(store: Store) -> int:
    """Put the runs of every recovery file of ``store`` into it (a run stored ``done`` meanwhile is
    kept) and delete each file once all its runs are in; returns how many runs were read."""
    count = 0
    for path in pending(store.path):
        records = load(path)
        done = {key for key, status in store.statuses(r.key for r in records).items() if status == "done"}
        for record in records:
            if record.key not in done:
                store.put(record)
        path.unlink()
        count += len(records)
    return count


def _places(store_path: Path) -> list[tuple[Path, str]]:
    """(folder, file-name prefix) for recovery files: beside the store, then in ``$TMPDIR``."""
    real = store_path.resolve()
    tag = hashlib.sha256(str(real).encode()).hexdigest()[:12]
    return [(real.parent, f"{real.name}.recovered-"), (Path(tempfile.gettempdir()), f"modlab-recovered-{tag}-")]


def _write_whole(target: Path, text: str) -> None:
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
