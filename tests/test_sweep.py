import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pandas as pd
import pytest
import yaml

from modlab.errors import ConfigError
from modlab.fingerprint import code_fingerprint
from modlab.store import Store
from modlab.sweep import SweepSpec, SweepStopped, make_batches, run_sweep


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


def test_every_invalid_point_is_counted_and_each_problem_named_once():
    spec = SweepSpec(experiment="linear-rf", axes={"n": [10, -5, -7], "p": [0, 20]})
    with pytest.raises(ConfigError) as caught:
        spec.configs()
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith("sweep point 0 (n=10, p=0): field 'p' = 0: Input should be greater than or equal to 1")
    assert "5 of 6 points are invalid" in line
    assert line.count("field 'p' = 0") == 1 and line.count("field 'n' = -5") == 1 and line.count("field 'n' = -7") == 1


def test_batches_group_runs_that_differ_only_in_seed():
    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1, 2]})
    batches = make_batches("probe", dict(zip(spec.keys(), spec.configs())))
    assert sorted(len(b.keys) for b in batches) == [3, 3]


def _seed_batches(seeds, stored_batch_ids=None, todo_seeds=None, retried_seeds=()):
    """The seeds of each batch that computes ``todo_seeds`` (default: all) of a one-group probe spec,
    of which ``retried_seeds`` are stored (failed runs retried), the others absent from the store."""
    spec = _probe({"seed": seeds})
    runs = dict(zip(spec.keys(), spec.configs()))
    todo = {key: cfg for key, cfg in runs.items() if todo_seeds is None or cfg.seed in todo_seeds}
    absent = {key for key, cfg in todo.items() if cfg.seed not in retried_seeds}
    batches = make_batches("probe", runs, todo=todo, absent=absent, stored_batch_ids=stored_batch_ids)
    return [[runs[key].seed for key in batch.keys] for batch in batches]


def _stored_ids(batch_seeds, stored_seeds):
    """Key → batch id of the ``stored_seeds`` runs, each computed in one batch of ``batch_seeds``."""
    spec = _probe({"seed": batch_seeds})
    (batch,) = make_batches("probe", dict(zip(spec.keys(), spec.configs())))
    return {key: batch.id for key, cfg in zip(spec.keys(), spec.configs()) if cfg.seed in stored_seeds}


def test_an_interrupted_batch_is_computed_whole_and_other_runs_only_where_missing():
    seeds = [0, 1, 2, 3]
    killed = _stored_ids(seeds, [0, 1])  # the batch of all four stored seeds 0, 1, then the sweep was killed
    assert _seed_batches(seeds, killed, todo_seeds={2, 3}) == [[0, 1, 2, 3]]
    earlier_spec = _stored_ids([0, 1], [0, 1])  # an earlier spec of seeds 0, 1 only
    assert _seed_batches(seeds, earlier_spec, todo_seeds={2, 3}) == [[2, 3]]
    extended_then_killed = earlier_spec | _stored_ids([2, 3], [2])  # the extension's batch of 2, 3 stored 2
    assert _seed_batches(seeds, extended_then_killed, todo_seeds={3}) == [[2, 3]]
    assert _seed_batches(seeds, _stored_ids(seeds, seeds), todo_seeds=set()) == []  # all stored: nothing recomputed


def test_a_failed_run_retried_is_not_a_reason_to_recompute_its_batch():
    """Seed 3 failed inside the batch of four (stored, retried): beside one stored run, not with all
    three; but a run the same batch never stored brings the whole batch back."""
    stored = _stored_ids([0, 1, 2, 3], [0, 1, 2])
    assert _seed_batches([0, 1, 2, 3], stored, todo_seeds={3}, retried_seeds={3}) == [[0, 3]]
    two_stored = _stored_ids([0, 1, 2, 3], [0, 1])
    assert _seed_batches([0, 1, 2, 3], two_stored, todo_seeds={2, 3}, retried_seeds={3}) == [[0, 1, 2, 3]]


def test_a_lone_missing_run_is_computed_beside_a_stored_run_of_its_batch():
    assert _seed_batches([0, 1, 2, 3], _stored_ids([0, 1, 2], [0, 1, 2]), todo_seeds={3}) == [[0, 3]]
    assert _seed_batches([5]) == [[5]]  # a spec of one run: alone, as always


def test_resume_runs_only_what_is_missing(store):
    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1]})
    first = run_sweep(spec, store, progress=False)
    assert (first.computed, first.reused) == (4, 0)
    again = run_sweep(spec, store, progress=False)
    assert (again.computed, again.reused) == (0, 4)
    assert str(again) == "4 runs: 4 reused, 0 computed, 0 failed"
    bigger = run_sweep(_probe({"value": [1.0, 2.0, 3.0], "seed": [0, 1]}), store, progress=False)
    assert (bigger.computed, bigger.reused) == (2, 4)


def test_failures_and_non_finite_metrics_are_recorded_and_the_sweep_goes_on(store):
    spec = _probe({"fail": [False, True], "nan": [False, True], "inf": [False, True], "seed": [0]})
    report = run_sweep(spec, store, progress=False)
    assert (report.computed, report.failed) == (1, 7)
    errors = {tuple(r.config[f] for f in ("fail", "nan", "inf")): r.error for r in store.records(spec.keys())}
    assert "probe asked to fail" in errors[True, False, False]
    assert errors[False, True, False].endswith("in metric(s): score")
    assert errors[False, False, True].endswith("in metric(s): score")
    assert "theory_score" not in errors[False, False, True]
    again = run_sweep(spec, store, progress=False)
    assert (again.computed, again.failed, again.reused) == (0, 7, 1)


def test_retry_failed_reruns_only_failed_runs(store):
    spec = _probe({"nan": [True], "seed": [0, 1]}, base={"value": 1.0})
    run_sweep(spec, store, progress=False)
    ok = _probe({"seed": [5]})
    run_sweep(ok, store, progress=False)
    report = run_sweep(spec, store, progress=False, retry_failed=True)
    assert (report.failed, report.reused, report.computed) == (2, 0, 0)
    assert run_sweep(ok, store, progress=False, retry_failed=True).reused == 1


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
    assert len(killed_table) == 90 * 2
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
    assert (report.total, report.computed, report.reused) == (1, 1, 0)
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


def _age_records(store, fingerprint):
    """Make every stored record look computed by other code (``None``: a schema-1 store's runs)."""
    store._db.execute("UPDATE runs SET fingerprint = ?", (fingerprint,))


@pytest.mark.parametrize("old_fingerprint", ["0.0.1:0123456789abcdef", None])
def test_runs_of_other_code_are_recomputed_unless_reuse_stale(store, old_fingerprint):
    spec = _probe({"seed": [0, 1]})
    run_sweep(spec, store, progress=False)
    _age_records(store, old_fingerprint)
    assert str(run_sweep(spec, store, progress=False, reuse_stale=True)) == "2 runs: 2 reused, 0 computed, 0 failed"
    report = run_sweep(spec, store, progress=False)
    assert str(report) == "2 runs: 0 reused, 2 computed, 0 failed"
    assert {state.fingerprint for state in store.states(spec.keys()).values()} == {code_fingerprint()}
    assert [r.fingerprint for r in store.history(spec.keys()[0])] == [old_fingerprint]
    assert (
        run_sweep(spec, store, progress=False).reused,
        run_sweep(spec, store, rerun=True, progress=False).computed,
    ) == (
        2,
        2,
    )
    assert len(store.history(spec.keys()[0])) == 2


def test_every_run_records_its_provenance(store, monkeypatch):
    from modlab import provenance

    spec = _probe({"seed": [0, 1]})
    run_sweep(spec, store, progress=False)
    prov = store.provenance(spec.keys()[0])
    assert prov["fingerprint"] == code_fingerprint() and prov["modlab_version"] == code_fingerprint().split(":")[0]
    assert prov["threads"] >= 1 and prov["device"] == "cpu" and prov["host"] and prov["torch_version"]
    assert "git_commit" in prov and "git_dirty" in prov
    started, finished = (datetime.fromisoformat(prov[k]) for k in ("started_at", "finished_at"))
    assert started <= finished and prov["duration_s"] >= 0
    provenance.reset()
    assert provenance.collect() == {}


def test_dry_run_counts_without_computing_and_warns_of_mixed_threads(store, one_thread):
    from modlab.sweep import LocalBackend, plan_sweep

    spec = _probe({"seed": [0, 1, 2]})
    assert str(plan_sweep(spec, None)) == "3 runs: 0 stored, 3 to run"
    run_sweep(_probe({"seed": [0]}), store, progress=False)
    assert str(plan_sweep(spec, store)) == "3 runs: 1 stored, 2 to run"
    assert store.statuses(spec.keys()) == {spec.keys()[0]: "done"}
    store._db.execute("UPDATE runs SET provenance = json_set(provenance, '$.threads', 7)")
    mixed = str(plan_sweep(spec, store, backend=LocalBackend(1)))
    assert mixed.startswith("3 runs: 1 stored, 2 to run (resuming would mix intra-op thread counts: stored runs used 7")


def test_a_batch_the_store_cannot_take_goes_to_a_recovery_file_that_the_next_run_imports(store, monkeypatch):
    from modlab.errors import StoreWriteError
    from modlab.store import Store as StoreClass
    from modlab.sweep import runner

    spec = _probe({"value": [1.0, 2.0], "seed": [0, 1]})
    real_put = StoreClass.put
    monkeypatch.setattr(runner, "WRITE_RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setattr(
        StoreClass,
        "put",
        lambda self, record, replace=False: (_ for _ in ()).throw(StoreWriteError("the disk is full")),
    )
    with pytest.raises(StoreWriteError, match=r"the disk is full; 2 computed run\(s\) saved to .*recovered-.*\.json"):
        run_sweep(spec, store, progress=False)
    monkeypatch.setattr(StoreClass, "put", real_put)
    [saved] = store.path.parent.glob("*.recovered-*.json")
    report = run_sweep(spec, store, progress=False)
    assert (report.reused, report.computed) == (2, 2)
    assert not saved.exists()
