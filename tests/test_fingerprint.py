"""The code fingerprint: it changes with the code that computes results and only with it."""

from __future__ import annotations

import shutil

import modlab
from modlab import fingerprint


def _fingerprint_of(package, monkeypatch) -> str:
    monkeypatch.setattr(fingerprint, "PACKAGE", package)
    return fingerprint.code_fingerprint.__wrapped__()


def test_every_module_is_either_result_code_or_presentation():
    """A new module must be classified, so that the fingerprint never silently misses result code."""
    classified = set(fingerprint.RESULT_CODE) | set(fingerprint.PRESENTATION_CODE)
    top_level = {path.name for path in fingerprint.PACKAGE.iterdir() if path.suffix == ".py" or path.is_dir()}
    assert top_level - {"__pycache__"} <= classified, sorted(top_level - {"__pycache__"} - classified)
    assert not set(fingerprint.RESULT_CODE) & set(fingerprint.PRESENTATION_CODE)


def test_fingerprint_follows_result_code_not_presentation(tmp_path, monkeypatch):
    package = tmp_path / "modlab"
    shutil.copytree(fingerprint.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    original = _fingerprint_of(package, monkeypatch)
    assert original.startswith(f"{modlab.__version__}:") and original == fingerprint.code_fingerprint()
    with open(package / "plots.py", "a") as handle:
        handle.write("\n# restyled\n")
    with open(package / "figures" / "registry.py", "a") as handle:
        handle.write("\n# restyled\n")
    assert _fingerprint_of(package, monkeypatch) == original
    rule = package / "rules" / "least_squares.py"
    source = rule.read_text()
    reworded = '"""Reworded docstring."""\n' + source.split('"""', 2)[2] + "\n# a comment, reformatted\n\n"
    rule.write_text(reworded + "\ndef helper(x: int, *rest: float) -> list[int]:\n    return [x]\n")
    hinted = _fingerprint_of(package, monkeypatch)
    rule.write_text(reworded + "\ndef helper(x, *rest):\n    return [x]\n")
    assert _fingerprint_of(package, monkeypatch) == hinted != original  # signature hints are not behaviour
    rule.write_text(reworded)
    assert _fingerprint_of(package, monkeypatch) == original  # how the code is written is not what it does
    rule.write_text(source + "\nSCALE = 2\n")
    assert _fingerprint_of(package, monkeypatch) != original


def test_git_state_is_recorded_not_compared():
    state = fingerprint.git_state()
    assert set(state) == {"git_commit", "git_dirty"}
    assert state["git_commit"] is None or len(state["git_commit"]) == 40
