import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from modlab.sweep import SweepSpec, SweepStopped, run_sweep
from modlab.sweep import make_batches
from modlab.errors import ConfigError
from modlab.store import Store


def _probe(axes, base=None):
    return SweepSpec(experiment="probe", name="t", base=base or {}, axes=axes)


def test_grid_is_the_product_of_axes_in_order():
    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1, 2]})
    configs = spec.configs()
    assert len(configs) == 6
    assert [(c.value, c.seed) for c in configs[:3]] == [(1.0, 0), (1.0, 1), (1.0, 2)]
    assert spec.keys() == _probe({"value": [1.0, 2.0], "seed": [0, 1, 2]}).keys()


def test_dotted_axes_set_nested_fields():
    spec = SweepSpec(experiment="linear-rf", axes={"spectrum.omega": [1.1, 1.3]})
    assert [c.spectrum.omega for c in spec.configs()] == [1.1, 1.3]


def test_a_bad_point_names_its_index_axes_and_field():
    spec = _probe({"seed": [0, -1]})
    with pytest.raises(ConfigError, match=r"sweep point 1 \(seed=-1\): field 'seed' = -1"):
        spec.configs()
    with pytest.raises(ConfigError, match="unknown experiment 'nope'"):
        SweepSpec(experiment="nope").configs()
    with pytest.raises(ConfigError, match="axis 'seed' has no values"):
        _probe({"seed": []}).configs()


def test_batches_group_runs_that_differ_only_in_seed():
    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1, 2]})
    batches = make_batches("probe", dict(zip(spec.keys(), spec.configs())))
    assert sorted(len(b.keys) for b in batches) == [3, 3]


def test_resume_runs_only_what_is_missing(store):
    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1]})
    first = run_sweep(spec, store, progress=False)
    assert (first.done, first.skipped) == (4, 0)
    again = run_sweep(spec, store, progress=False)
    assert (again.done, again.skipped) == (0, 4)
    bigger = run_sweep(_probe({"value": [1.0, 2.0, 3.0], "seed": [0, 1]}), store, progress=False)
    assert (bigger.done, bigger.skipped) == (2, 4)


def test_failures_and_nans_are_recorded_and_the_sweep_goes_on(store):
    spec = _probe({"fail": [False, True], "nan": [False, True], "seed": [0]})
    report = run_sweep(spec, store, progress=False)
    assert (report.done, report.failed) == (1, 3)
    failed = store.records(spec.keys(), status="failed")
    errors = sorted(r.error for r in failed)
    assert any("probe asked to fail" in e for e in errors)
    assert any("NaN in metric(s): score" in e for e in errors)
    again = run_sweep(spec, store, progress=False)
    assert (again.done, again.failed, again.skipped) == (0, 0, 4)


def test_retry_failed_reruns_only_failed_runs(store):
    spec = _probe({"nan": [True], "seed": [0, 1]}, base={"value": 1.0})
    run_sweep(spec, store, progress=False)
    ok = _probe({"seed": [5]})
    run_sweep(ok, store, progress=False)
    report = run_sweep(spec, store, progress=False, retry_failed=True)
    assert (report.failed, report.skipped) == (2, 0)
    assert run_sweep(ok, store, progress=False, retry_failed=True).skipped == 1


def test_on_error_stop_stops_after_storing_the_failure(store):
    spec = _probe({"fail": [True, False], "seed": [0]})
    with pytest.raises(SweepStopped, match="probe asked to fail"):
        run_sweep(spec, store, progress=False, on_error="stop")
    assert list(store.statuses(spec.keys()).values()) == ["failed"]


def _table(path, spec_path):
    with Store(path) as store:
        table = store.table(SweepSpec.load(spec_path).keys())
    return table.sort_values(["key", "metric"]).reset_index(drop=True)


def test_sigkill_mid_sweep_then_rerun_equals_an_uninterrupted_run(tmp_path):
    spec = {
        "experiment": "linear-rf",
        "name": "crash",
        "base": {"p": 150, "m": 4},
        "axes": {"n": list(range(400, 1600, 40)), "seed": [0, 1, 2]},
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    cmd = [sys.executable, "-m", "modlab.cli", "sweep", str(spec_path), "--no-progress", "--device", "cpu"]
    killed = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(cmd + ["--store", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if killed.exists() and _count(killed) >= 6:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _count(killed)
    assert 0 < partial < 90, "the kill should land mid-sweep"
    subprocess.run(cmd + ["--store", str(killed)], check=True, capture_output=True)
    clean = tmp_path / "clean.sqlite"
    subprocess.run(cmd + ["--store", str(clean)], check=True, capture_output=True)
    killed_table, clean_table = _table(killed, spec_path), _table(clean, spec_path)
    assert len(killed_table) == 90 * 5
    pd.testing.assert_frame_equal(killed_table, clean_table)


def _count(path) -> int:
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_setting_one_nested_field_keeps_the_experiments_other_defaults():
    from modlab.experiments.sine import SineConfig

    default = SineConfig().train
    (config,) = SweepSpec(experiment="sine", base={"train": {"lr": 0.01}}).configs()
    assert config.train.lr == 0.01
    assert config.train.steps == default.steps and config.train.batch_size == default.batch_size


def test_repeated_axis_values_are_one_run(store):
    spec = _probe({"seed": [7, 7]})
    report = run_sweep(spec, store, progress=False)
    assert (report.total, report.done, report.skipped) == (1, 1, 0)
    assert len(store.table(spec.keys())) == 3


def test_nested_defaults_leave_dependent_fields_to_the_experiments_validators():
    (config,) = SweepSpec(
        experiment="sine",
        base={
            "model": {"kind": "modular"},
            "projection_init": "kernel_rule_per_module",
            "kernel_rule": {"steps": 7},
            "train": {"lr": 0.01},
        },
    ).configs()
    assert config.kernel_rule.variant == "per_module" and config.kernel_rule.steps == 7
    assert config.train.steps == 1500
