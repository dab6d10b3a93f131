"""Experiment ``sine``: config checks, metrics, batching of seeds/data/sizes, resumable sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modlab.config import config_key
from modlab.engine.backends import LocalBackend
from modlab.engine.sweep import SweepSpec, make_batches, run_sweep
from modlab.errors import ConfigError
from modlab.experiments.sine import SineConfig, build_model, run_batch
from modlab.measures import mean_overlap
from modlab.models import count_params
from modlab.store import Store
from modlab.tasks.sine import make_sine_task

TINY = dict(
    task=dict(layout="orthogonal", input_dim=6, n_modules=2, module_dim=2, rho=0.5, n_train=40, n_test=30),
    model=dict(kind="modular", hidden=[8]),
    train=dict(steps=30, batch_size=16, lr=1e-2, eval_every=10),
)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**changes) -> SineConfig:
    fields = {**TINY, **changes}
    return SineConfig.parse(fields)


def test_metrics_of_a_modular_run():
    [metrics] = run_batch([tiny()], torch.device("cpu"))
    for name in ("test", "ood", "scale", "train"):
        assert metrics[f"{name}_nmse"] >= 0 and metrics[f"{name}_mse"] >= 0
    assert len(metrics["test_curve_nmse"]) == len(metrics["curve_steps"]) == 4
    assert metrics["curve_steps"] == [0.0, 10.0, 20.0, 30.0]
    assert 0 <= metrics["projection_overlap"] <= 1 + 1e-6
    assert metrics["n_params"] == count_params(build_model(tiny(), make_sine_task(tiny().task)))


def test_random_layout_has_no_combinatorial_ood_metric():
    cfg = tiny(task=dict(layout="random", input_dim=3, n_modules=2, n_train=30, n_test=20), projection_init="true")
    [metrics] = run_batch([cfg], torch.device("cpu"))
    assert "ood_nmse" not in metrics and "scale_nmse" in metrics


def test_true_projection_init_starts_at_the_task_projections():
    cfg = tiny(projection_init="true")
    assert SineConfig.from_yaml("projection_init: true\nmodel: {kind: modular}").projection_init == "true"
    task = make_sine_task(cfg.task)
    model = build_model(cfg, task)
    assert torch.equal(model.projections.detach(), task.projections)
    assert float(mean_overlap(task.projections, model.projections.detach())) == pytest.approx(1.0, abs=1e-6)
    random = build_model(tiny(), task)
    assert float(mean_overlap(task.projections, random.projections.detach())) < 0.9


def test_batched_members_equal_runs_alone():
    """Members differing in seed, task seed, n_train and lr, trained together, equal each run alone."""
    configs = [tiny(seed=s, task={**TINY["task"], "seed": t, "n_train": n}, train={**TINY["train"], "lr": lr})
               for s, t, n, lr in ((0, 0, 40, 1e-2), (1, 0, 25, 1e-2), (0, 3, 60, 3e-2))]
    batch = make_batches("sine", {config_key("sine", c): c for c in configs})
    assert len(batch) == 1 and len(batch[0].keys) == 3
    together = run_batch(configs, torch.device("cpu"))
    for cfg, joint in zip(configs, together):
        [alone] = run_batch([cfg], torch.device("cpu"))
        for name in ("test_nmse", "ood_nmse", "train_nmse", "projection_overlap"):
            assert joint[name] == pytest.approx(alone[name], rel=1e-4, abs=1e-6), name


def test_modular_recovers_more_with_true_projections_than_monolithic():
    """At small n, true projections beat a monolithic MLP (spec A §2 sanity reference)."""
    common = dict(task=dict(layout="orthogonal", input_dim=16, n_modules=2, module_dim=2, n_train=250, n_test=500),
                  train=dict(steps=400, batch_size=128, lr=3e-3, eval_every=400))
    modular = run_batch([SineConfig.parse({**common, "model": {"kind": "modular"}, "projection_init": "true"})], torch.device("cpu"))
    mono = run_batch([SineConfig.parse({**common, "model": {"kind": "monolithic", "hidden": [64, 64]}})], torch.device("cpu"))
    assert modular[0]["test_nmse"] < 0.5 * mono[0]["test_nmse"]


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(model=dict(kind="monolithic"), projection_init="true"), "needs model.kind 'modular'"),
        (dict(model=dict(kind="modular", n_modules=3), projection_init="true"), "K̂, b̂"),
        (dict(model=dict(kind="modular", module_dim=7)), "model.module_dim = 7"),
        (dict(model=dict(kind="modular", hidden=[])), "model.hidden"),
        (dict(model=dict(kind="transformer")), "model.kind"),
        (dict(projection_init="kernel"), "projection_init"),
        (dict(task=dict(layout="orthogonal", input_dim=3, n_modules=2, module_dim=2)), "n_modules·module_dim = 4"),
    ],
)
def test_bad_configs(changes, words):
    with pytest.raises(ConfigError) as err:
        SineConfig.parse({**TINY, **changes}, where="sine")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_param_budget_matches_the_monolithic_count():
    mono = tiny(model=dict(kind="monolithic", hidden=[64, 64]))
    budget = mono.count(mono.hidden)
    matched = tiny(model=dict(kind="modular", hidden=[8, 8], param_budget=budget))
    assert abs(matched.count(matched.hidden) - budget) / budget < 0.05 and len(matched.hidden) == 2


class StopAfterFirstBatch(LocalBackend):
    """Yields the first batch's records, then dies like a killed driver."""

    def map(self, fn, items, device):
        for i, records in enumerate(super().map(fn, items, device)):
            if i == 1:
                raise KeyboardInterrupt
            yield records


def test_ensemble_sweep_resumes_without_recomputing(tmp_path):
    spec = SweepSpec(experiment="sine", name="resume", base=TINY,
                     axes={"model.kind": ["modular", "moe"], "task.n_train": [20, 40], "seed": [0, 1]})
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(spec, store, backend=StopAfterFirstBatch(), progress=False)
        first = store.table(spec.keys())
        assert first["key"].nunique() == 4
        report = run_sweep(spec, store, progress=False)
        assert (report.skipped, report.done) == (4, 4)
        again = run_sweep(spec, store, progress=False)
        assert (again.skipped, again.done) == (8, 0)
        table = store.table(spec.keys())
    assert table["key"].nunique() == 8
    kept = table[table["key"].isin(first["key"]) & (table["metric"] == "test_nmse")]
    assert kept.sort_values("key")["value"].tolist() == first[first["metric"] == "test_nmse"].sort_values("key")["value"].tolist()


def test_example_sweep_batches_sizes_and_seeds_together():
    spec = SweepSpec.load(Path(__file__).parents[1] / "examples" / "sine_sweep.yaml")
    configs = spec.configs()
    batches = make_batches("sine", {config_key("sine", c): c for c in configs})
    assert len(configs) == 24 and sorted(len(b.keys) for b in batches) == [12, 12]
