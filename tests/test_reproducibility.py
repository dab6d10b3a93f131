"""The same spec and seeds give bit-identical results on the CPU: across runs, however the seeds
are batched, and across backends when runs get the same intra-op threads (LAPACK's least squares
differs in the last bits between thread counts; Ray: tests/test_backends.py). Every stored run
records the modlab and torch versions and the device, and ``modlab results --provenance`` shows them."""

from __future__ import annotations

import contextlib
import io

import pandas as pd
import pytest
import torch
from backend_probes import torch_threads

import modlab
from modlab.cli import main
from modlab.store import Store
from modlab.sweep import LocalBackend, SweepSpec, run_sweep
from modlab.sweep.backends import threads_per_worker

SPEC = SweepSpec(
    experiment="linear-rf",
    name="repro",
    base={"m": 6, "noise": 0.1},
    axes={
        "n": [10, 40],
        "p": [5, 30],
        "architecture": ["monolithic", "modular"],
        "n_modules": [2],
        "seed": [0, 1, 2, 3],
    },
)


def sweep_table(path, spec: SweepSpec = SPEC, backend=None) -> pd.DataFrame:
    with Store.create(path) as store:
        run_sweep(spec, store, backend=backend, progress=False, device="cpu")
        return store.table(SPEC.keys())


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> pd.DataFrame:
    return sweep_table(tmp_path_factory.mktemp("first") / "s.sqlite")


def test_a_second_run_is_bit_identical(tmp_path, first_run):
    assert len(first_run) == len(SPEC.keys()) * 2
    pd.testing.assert_frame_equal(sweep_table(tmp_path / "s.sqlite"), first_run, check_exact=True)


def test_worker_processes_give_the_in_process_bits_at_equal_threads(tmp_path):
    with torch_threads(threads_per_worker(2)):
        in_process = sweep_table(tmp_path / "in-process.sqlite")
    pd.testing.assert_frame_equal(
        sweep_table(tmp_path / "s.sqlite", backend=LocalBackend(workers=2)), in_process, check_exact=True
    )


def test_batching_seeds_differently_gives_the_same_bits(tmp_path, first_run):
    """Seeds 1 and 3 first (two-seed batches), then the rest: every run is its own random stream."""
    path = tmp_path / "s.sqlite"
    sweep_table(path, SPEC.model_copy(update={"axes": {**SPEC.axes, "seed": [3, 1]}}))
    pd.testing.assert_frame_equal(sweep_table(path), first_run, check_exact=True)


def test_every_run_records_versions_and_device(tmp_path):
    path = tmp_path / "s.sqlite"
    sweep_table(path)
    with Store(path) as store:
        provenance = store.provenance_table(SPEC.keys())
    assert list(provenance["key"]) == SPEC.keys()
    assert set(provenance["modlab_version"]) == {modlab.__version__}
    assert set(provenance["torch_version"]) == {torch.__version__}
    assert set(provenance["device"]) == {"cpu"}
    assert provenance["host"].str.len().min() > 0


def test_results_provenance_shows_them_for_every_row(tmp_path):
    path, spec_file = tmp_path / "s.sqlite", tmp_path / "spec.yaml"
    spec_file.write_text(SPEC.to_yaml())
    sweep_table(path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["results", str(spec_file), "--store", str(path), "--format", "csv", "--provenance"]) == 0
    table = pd.read_csv(io.StringIO(out.getvalue()))
    assert len(table) == len(SPEC.keys())  # one row per run
    assert set(table["modlab_version"]) == {modlab.__version__}
    assert set(table["torch_version"]) == {torch.__version__}
    assert set(table["device"]) == {"cpu"}
