"""The extending guide's example runs, and a user's experiment is found on every backend: by
``--import FILE`` (the workers import it too) or by import path in the spec."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "own_experiment.py"
SMALL_GRID = "n_train: [16, 32]\n  seed: [0, 1]\nbase: {steps: 20, hidden: 4}\n"


def _run(*argv, cwd, extra_path=""):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), extra_path])),
    }
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_example_sweeps_stores_tabulates_and_plots(tmp_path):
    done = _run(str(EXAMPLE), str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0].split()
    assert header[:4] == ["hidden", "n_train", "count", "test_loss"]
    numbers = json.loads((tmp_path / "out" / "teacher.json").read_text())
    assert [line["hue"] for line in numbers["panels"][0]["lines"]] == [4, 32]
    assert (tmp_path / "out" / "teacher.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "backend", [["--workers", "2"], ["--backend", "ray", "--workers", "2"]], ids=["workers", "ray"]
)
def test_an_imported_experiment_runs_on_every_backend(tmp_path, backend):
    spec = tmp_path / "spec.yaml"
    spec.write_text("experiment: teacher\naxes:\n  " + SMALL_GRID)
    store = str(tmp_path / "s.sqlite")
    done = _run(
        "-m",
        "modlab.cli",
        "sweep",
        str(spec),
        "--import",
        str(EXAMPLE),
        "--store",
        store,
        "--no-progress",
        *backend,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and "4 runs: 0 reused, 4 computed, 0 failed" in done.stderr, done.stderr
    shown = _run(
        "-m", "modlab.cli", "results", str(spec), "--import", str(EXAMPLE), "--store", store, "--agg", cwd=tmp_path
    )
    assert shown.returncode == 0 and len(shown.stdout.splitlines()) == 1 + 2, shown.stderr


def test_a_spec_can_name_the_experiment_by_import_path(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("experiment: own_experiment:EXPERIMENT\naxes:\n  " + SMALL_GRID)
    store = str(tmp_path / "s.sqlite")
    argv = ("-m", "modlab.cli", "sweep", str(spec), "--store", store, "--no-progress", "--workers", "2")
    done = _run(*argv, cwd=tmp_path, extra_path=str(EXAMPLE.parent))
    assert done.returncode == 0 and "4 runs: 0 reused, 4 computed, 0 failed" in done.stderr, done.stderr
    missing = _run("-m", "modlab.cli", "sweep", str(spec), "--store", store, cwd=tmp_path)
    assert missing.returncode == 2 and "cannot import 'own_experiment'" in missing.stderr


def test_without_the_import_the_experiment_is_unknown_with_a_hint(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("experiment: teacher\n")
    done = _run("-m", "modlab.cli", "sweep", str(spec), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert done.returncode == 2 and "--import MODULE" in done.stderr and done.stderr.count("\n") == 1
