"""Which code computed a run: the code fingerprint stored with every run, and the git state beside it.

The fingerprint is modlab's version plus a hash of the source of every module that computes results
(tasks, models, learning rules, theory, measures, training, experiments and the config and metrics
definitions). Modules that only present or move results (plots, figures, the command line, the
sweep machinery, the store) are left out, so restyling a figure keeps every stored run valid. A
stored run whose fingerprint differs from the running code's is stale: the runner recomputes it
unless told to reuse it.

The hash is taken over each file's syntax tree without docstrings and function-signature type hints,
so comments, docstrings, formatting and type hints can change without invalidating stored runs; any
change to what the code does cannot.

The git commit and dirty flag are recorded for provenance but never compared: the fingerprint
already says whether the computing code changed.
"""

from __future__ import annotations

import ast
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
    "progress.py",
    "reference.py",
    "table.py",
    "table_plot.py",
    "yaml12.py",
    "report",
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
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + code_text(path).encode() + b"\0")
    return f"{modlab.__version__}:{digest.hexdigest()[:16]}"


def code_text(path: Path) -> str:
    """What a source file does, without how it is written: its syntax tree without docstrings and
    without the type hints of function signatures (class fields keep theirs: pydantic reads them)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
    return ast.dump(tree, annotate_fields=False)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


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
