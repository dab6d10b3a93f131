"""The same spec and seeds give bit-identical results on the CPU: across runs, after an
interruption, and across backends when runs get the same intra-op threads (LAPACK's least squares
differs in the last bits between thread counts; Ray: tests/test_backends.py). A run's last bits can
also depend on its batch (BLAS's matrix-vector kernel differs between a batch of one and a larger
one), so a batch an interrupted sweep had partly stored is recomputed whole. Every stored run
records the modlab and torch versions, the device and its batch, and ``modlab results
--provenance`` shows them."""

from __future__ import annotations

import contextlib
import io
import sqlite3

import pandas as pd
import pytest
import torch
from backend_probes import torch_threads

import modlab
from modlab.cli import main
from modlab.store import Store
from modlab.sweep import LocalBackend, SweepSpec, plan_sweep, run_sweep
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


WIDE = SPEC.model_copy(update={"base": {"m": 4, "p": 400}, "axes": {"n": [650], "seed": [0, 1, 2, 3]}})
"""Four runs, one batch, large enough that BLAS computes a batch of one with another kernel."""


def sweep_table(path, spec: SweepSpec = SPEC, backend=None) -> pd.DataFrame:
    with Store.create(path) as store:
        run_sweep(spec, store, backend=backend, progress=False, device="cpu")
        return store.table(spec.keys())


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
    """Seeds 1 and 3 first (two-seed batches), then the rest: every run is its own random stream
    (linear-rf's batches of two or more share their kernels)."""
    path = tmp_path / "s.sqlite"
    sweep_table(path, SPEC.model_copy(update={"axes": {**SPEC.axes, "seed": [3, 1]}}))
    pd.testing.assert_frame_equal(sweep_table(path), first_run, check_exact=True)


def test_a_batch_interrupted_between_its_commits_is_recomputed_whole(tmp_path):
    """A sweep stopped after storing three of a batch's four runs (as a kill between two commits
    leaves it): the rerun recomputes the batch, stores only the missing run, and that run has the
    bits of an uninterrupted sweep (computed alone, a matrix-vector product would take another
    kernel)."""
    uninterrupted = sweep_table(tmp_path / "uninterrupted.sqlite", WIDE)
    path = tmp_path / "interrupted.sqlite"
    sweep_table(path, WIDE)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM runs WHERE key = ?", (WIDE.keys()[-1],))
    with Store(path) as store:
        assert (
            str(plan_sweep(WIDE, store))
            == "4 runs: 3 stored, 1 to run (with 3 runs of their batches recomputed, not stored again)"
        )
        report = run_sweep(WIDE, store, progress=False, device="cpu")
        resumed = store.table(WIDE.keys())
        batches = {state.batch_id for state in store.states(WIDE.keys()).values()}
    assert (report.reused, report.computed) == (3, 1)
    assert len(batches) == 1 and None not in batches
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)
    with Store(path) as store:
        assert str(plan_sweep(WIDE, store)) == "4 runs: 4 stored, 0 to run"


def test_runs_stored_by_another_batching_are_not_recomputed(tmp_path):
    """Seeds 0 and 1 first, then all four: only seeds 2 and 3 are computed, as a batch of their own."""
    path = tmp_path / "s.sqlite"
    sweep_table(path, SPEC.model_copy(update={"axes": {**SPEC.axes, "seed": [0, 1]}}))
    with Store(path) as store:
        report = run_sweep(SPEC, store, progress=False, device="cpu")
        runs_per_batch = {p["batch_runs"] for p in map(store.provenance, SPEC.keys())}
    assert (report.reused, report.computed) == (len(SPEC.keys()) // 2, len(SPEC.keys()) // 2)
    assert runs_per_batch == {2}


def test_a_spec_extended_by_one_seed_computes_it_beside_a_stored_run(tmp_path):
    """Seeds 0–2 first, then all four: seed 3 is computed in a batch of two (seed 0 recomputed, not
    stored again) and has the bits it has in the batch of four."""
    path = tmp_path / "s.sqlite"
    sweep_table(path, WIDE.model_copy(update={"axes": {**WIDE.axes, "seed": [0, 1, 2]}}))
    with Store(path) as store:
        report = run_sweep(WIDE, store, progress=False, device="cpu")
        extended = store.table(WIDE.keys())
        batch_runs = store.provenance(WIDE.keys()[-1])["batch_runs"]
    assert (report.reused, report.computed, batch_runs) == (3, 1, 2)
    pd.testing.assert_frame_equal(extended, sweep_table(tmp_path / "whole.sqlite", WIDE), check_exact=True)


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
    assert (
        set(table["batch_runs"]) == {4} and table["batch_id"].nunique() == len(SPEC.keys()) // 4
    )  # a batch per 4 seeds
