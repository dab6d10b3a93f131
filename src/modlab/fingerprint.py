"""Which code computed a run: the code fingerprint stored with every run, and the git state beside it.

The fingerprint is modlab's version plus a hash of the source of every module that computes results
(tasks, models, learning rules, theory, measures, training, experiments and the config and metrics
definitions). Modules that only present or move results (plots, figures, the command line, the
sweep machinery, the store) are left out, so restyling a figure keeps every stored run valid. A
stored run whose fingerprint differs from the running code's is stale: the runner recomputes it
unless told to reuse it.

The git commit and dirty flag are recorded for provenance but never compared: the fingerprint
already says whether the computing code changed.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from pathlib import Path

import modlab

PACKAGE = Path(modlab.__file__).parent
RESULT_CODE = (
    "tasks",
    "models",
    "rules",
    "theory",
    "measures",
    "train",
    "experiments",
    "config.py",
    "metrics.py",
    "frames.py",
    "seeding.py",
)
PRESENTATION_CODE = (
    "__init__.py",
    "cli.py",
    "plots.py",
    "figures",
    "sweep",
    "store.py",
    "fingerprint.py",
    "provenance.py",
    "recovery.py",
    "errors.py",
)


def result_sources() -> list[Path]:
    """The source files whose text the fingerprint hashes, in a fixed order."""
    files: list[Path] = []
    for name in RESULT_CODE:
        path = PACKAGE / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@functools.cache
def code_fingerprint() -> str:
    """``VERSION:HASH`` of the code that computes results (16 hex digits of SHA-256)."""
    digest = hashlib.sha256()
    for path in result_sources():
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{modlab.__version__}:{digest.hexdigest()[:16]}"


@functools.cache
def git_state() -> dict[str, str | bool | None]:
    """``{"git_commit": sha or None, "git_dirty": bool or None}`` of the checkout modlab runs from
    (None outside a git checkout or without git)."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=PACKAGE, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
