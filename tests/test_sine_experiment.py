"""Experiment ``sine``: config checks, metrics, batching of seeds/data/sizes, resumable sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from modlab.config import config_key
from modlab.errors import ConfigError
from modlab.experiments.sine import SineConfig, build_model, run_batch, train_flops
from modlab.measures import mean_overlap
from modlab.models import count_params
from modlab.store import Store
from modlab.sweep import SweepSpec, make_batches, run_sweep
from modlab.sweep.backends import LocalBackend
from modlab.tasks.sine import make_sine_task

TINY = dict(
    task=dict(layout="orthogonal", input_dim=6, n_modules=2, module_dim=2, rho=0.5, n_train=40, n_test=30),
    model=dict(kind="modular", hidden=[8]),
    train=dict(steps=30, batch_size=16, lr=1e-2, eval_every=10),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(**changes) -> SineConfig:
    fields = {**TINY, **changes}
    return SineConfig.parse(fields)


def test_metrics_of_a_modular_run():
    [metrics] = run_batch([tiny()], torch.device("cpu"))
    for name in ("test", "ood", "scale", "train"):
        assert metrics[f"{name}_nmse"] >= 0 and metrics[f"{name}_mse"] >= 0
    assert metrics["test_curve_nmse"].x == metrics["train_curve_nmse"].x == (0, 10, 20, 30)  # curves over steps
    assert metrics["test_curve_nmse"].x_name == "step" and len(metrics["test_curve_nmse"].y) == 4
    assert 0 <= metrics["projection_overlap"] <= 1 + 1e-6
    assert isinstance(metrics["n_params"], int) and isinstance(metrics["stopped_at"], int)
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
    configs = [
        tiny(seed=s, task={**TINY["task"], "seed": t, "n_train": n}, train={**TINY["train"], "lr": lr})
        for s, t, n, lr in ((0, 0, 40, 1e-2), (1, 0, 25, 1e-2), (0, 3, 60, 3e-2))
    ]
    batch = make_batches("sine", {config_key("sine", c): c for c in configs})
    assert len(batch) == 1 and len(batch[0].keys) == 3
    together = run_batch(configs, torch.device("cpu"))
    for cfg, joint in zip(configs, together):
        [alone] = run_batch([cfg], torch.device("cpu"))
        for name in ("test_nmse", "ood_nmse", "train_nmse", "projection_overlap"):
            assert joint[name] == pytest.approx(alone[name], rel=1e-4, abs=1e-6), name


def test_modular_recovers_more_with_true_projections_than_monolithic():
    """At small n, true projections beat a monolithic MLP (spec A §2 sanity reference)."""
    common = dict(
        task=dict(layout="orthogonal", input_dim=16, n_modules=2, module_dim=2, n_train=250, n_test=500),
        train=dict(steps=400, batch_size=128, lr=3e-3, eval_every=400),
    )
    modular = run_batch(
        [SineConfig.parse({**common, "model": {"kind": "modular"}, "projection_init": "true"})], torch.device("cpu")
    )
    mono = run_batch(
        [SineConfig.parse({**common, "model": {"kind": "monolithic", "hidden": [64, 64]}})], torch.device("cpu")
    )
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
    spec = SweepSpec(
        experiment="sine",
        name="resume",
        base=TINY,
        axes={"model.kind": ["modular", "moe"], "task.n_train": [20, 40], "seed": [0, 1]},
    )
    with Store.create(tmp_path / "s.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(spec, store, backend=StopAfterFirstBatch(), progress=False)
        first = store.table(spec.keys())
        assert first["key"].nunique() == 4
        report = run_sweep(spec, store, progress=False)
        assert (report.reused, report.computed) == (4, 4)
        again = run_sweep(spec, store, progress=False)
        assert (again.reused, again.computed) == (8, 0)
        table = store.table(spec.keys())
    assert table["key"].nunique() == 8
    kept = table[table["key"].isin(first["key"]) & (table["metric"] == "test_nmse")]
    assert (
        kept.sort_values("key")["value"].tolist()
        == first[first["metric"] == "test_nmse"].sort_values("key")["value"].tolist()
    )


# --- kernel-rule initialisation (issue 10) ---

RULE_TINY = dict(steps=5, batch_size=16, joint_restarts=2, eval_size=20, record_every=5)


@pytest.mark.parametrize("init, variant", [("kernel_rule", "joint"), ("kernel_rule_per_module", "per_module")])
def test_kernel_rule_init_picks_its_variant_and_reports_the_search(init, variant):
    cfg = tiny(projection_init=init, kernel_rule=RULE_TINY)
    assert cfg.kernel_rule.variant == variant
    [metrics] = run_batch([cfg], torch.device("cpu"))
    assert metrics["search_overlap_curve"].x == (0, 5) and len(metrics["search_overlap_curve"].y) == 2
    assert metrics["overlap_curve"].x == metrics["test_curve_nmse"].x
    assert metrics["search_seconds"] > 0 and metrics["search_flops"] > 0
    assert metrics["total_flops"] == pytest.approx(metrics["train_flops"] + metrics["search_flops"])
    assert metrics["overlap_matrix"].shape == (2, 2)
    assert metrics["overlap_curve"].y[-1] == pytest.approx(metrics["projection_overlap"], abs=1e-5)
    per_module = variant == "per_module"
    assert ("module_objective_true" in metrics) == per_module and ("module_objective_found" in metrics) == per_module
    if per_module:
        assert len(metrics["module_objective_true"]) == len(metrics["module_objective_found"]) == 2
        assert metrics["search_objective"] == pytest.approx(sum(metrics["module_objective_found"]) / 2)


def test_kernel_rule_init_starts_training_at_the_found_projections():
    cfg = tiny(projection_init="kernel_rule", kernel_rule=RULE_TINY)
    [metrics] = run_batch([cfg], torch.device("cpu"))
    assert metrics["overlap_curve"].y[0] == pytest.approx(metrics["search_overlap_curve"].y[-1], abs=1e-5)


@pytest.mark.parametrize(
    "changes, words",
    [
        (
            dict(projection_init="kernel_rule_per_module", kernel_rule=dict(variant="joint")),
            "kernel_rule.variant = 'joint'",
        ),
        (dict(model=dict(kind="moe"), projection_init="kernel_rule"), "needs model.kind 'modular'"),
        (dict(projection_init="kernel_rule", kernel_rule=dict(steps=0)), "kernel_rule.steps"),
    ],
)
def test_bad_kernel_rule_configs(changes, words):
    with pytest.raises(ConfigError) as err:
        SineConfig.parse({**TINY, **changes}, where="sine")
    assert words in str(err.value) and "\n" not in str(err.value)


# The spec's random layout (m = 8, K = 3, b = 1) at n = 500, two task draws; the default kernel rule
# (joint, module kernel, the spec's search: 200 steps × batch 512 × 6 restarts). Measured: a search of
# 100 steps × batch 256 missed a module in one of the two draws (overlap 0.87 after training).
CLAIM = dict(
    task=dict(layout="random", input_dim=8, n_modules=3, module_dim=1, n_train=500, n_test=1000),
    train=dict(steps=500, batch_size=128, lr=3e-3, eval_every=500),
)
CLAIM_METHODS = {
    "monolithic": ({"kind": "monolithic", "hidden": [64, 64]}, "random"),
    "plain GD": ({"kind": "modular"}, "random"),
    "kernel rule": ({"kind": "modular"}, "kernel_rule"),
}


@pytest.fixture(scope="module")
def claim_runs():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    for name, (model, init) in CLAIM_METHODS.items():
        configs = [
            SineConfig.parse({**CLAIM, "model": model, "projection_init": init, "task": {**CLAIM["task"], "seed": t}})
            for t in (0, 1)
        ]
        out[name] = run_batch(configs, torch.device("cpu"))
    torch.set_num_threads(before)
    return out


def _mean(runs, metric):
    return sum(r[metric] for r in runs) / len(runs)


def test_joint_kernel_rule_finds_the_projections_plain_gd_does_not(claim_runs):
    assert min(r["projection_overlap"] for r in claim_runs["kernel rule"]) > 0.9
    assert _mean(claim_runs["plain GD"], "projection_overlap") < 0.9


@pytest.mark.parametrize("metric", ["test_nmse", "scale_nmse"])
def test_kernel_rule_beats_plain_gd_and_monolithic_in_and_out_of_distribution(claim_runs, metric):
    rule = _mean(claim_runs["kernel rule"], metric)
    assert rule < _mean(claim_runs["plain GD"], metric) and rule < _mean(claim_runs["monolithic"], metric)


def test_example_sweep_batches_sizes_and_seeds_together():
    spec = SweepSpec.load(Path(__file__).parents[1] / "examples" / "sine_sweep.yaml")
    configs = spec.configs()
    batches = make_batches("sine", {config_key("sine", c): c for c in configs})
    assert len(configs) == 24 and sorted(len(b.keys) for b in batches) == [12, 12]


@pytest.mark.parametrize("kind", ["monolithic", "modular", "moe"])
def test_train_flops_bound_torchs_count_of_one_step(kind):
    """6 × parameters × batch per step: ≥ torch's matmul count of a forward and backward pass, within 20%."""
    cfg = SineConfig.parse(
        {
            "task": {"layout": "random", "input_dim": 6, "n_modules": 3, "module_dim": 1, "n_train": 64, "n_test": 10},
            "model": {"kind": kind, "hidden": [16, 16]},
        }
    )
    task = make_sine_task(cfg.task)
    model = build_model(cfg, task)
    with FlopCounterMode(display=False) as counter:
        ((model(task.x_train[:32]).squeeze(-1) - task.y_train[:32]) ** 2).mean().backward()
    estimate = train_flops(count_params(model), 32, 1)
    assert 0.8 * estimate <= counter.get_total_flops() <= estimate
