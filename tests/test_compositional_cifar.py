"""Experiment compositional-cifar on the offline digits variant: paper A's claims with tiny presets, the
kernel rule's scalar reduction, and bad configs."""

import numpy as np
import pytest
import torch

from modlab.errors import ConfigError
from modlab.experiments.compositional_cifar import (
    CompositionalCifarConfig,
    build_data,
    build_model,
    config_for,
    run_batch,
    scalar_kernel_layers,
    slot_accuracy,
    slot_loss,
)
from modlab.metrics import Array, Curve
from modlab.rules.module_kernels import ntk_kernel_reference, ntk_kernels

SEEDS = 6
TINY = dict(
    source="digits",
    n_train=100,
    n_test=300,
    epochs=40,
    batch_size=50,
    hidden=(256, 256),
    module_hidden=(64,),
    kernel_rule=dict(kernel="module", steps=50, batch_size=256, joint_restarts=2),
)
PAPER_GAP_K8 = 0.482 - 0.433  # the paper's kernel rule − modular at k = 8, read off its figure


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def unseen() -> dict[tuple[str, int], np.ndarray]:
    """Unseen-combination accuracy per seed, per (method, k). The methods of one seed see the same
    composites, so differences between methods are paired by seed."""
    torch.set_num_threads(1)
    out = {}
    for method, k in [("monolithic", 2), ("modular", 2), ("monolithic", 8), ("modular", 8), ("kernel_rule", 8)]:
        configs = [config_for(method, **TINY, n_slots=k, seed=s) for s in range(SEEDS)]
        out[method, k] = np.array([m["unseen_accuracy"] for m in run_batch(configs, torch.device("cpu"))])
    return out


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def test_modular_beats_monolithic_at_k8(unseen):
    """Paper A: at k = 8, n = 100 the modular network beats the monolithic one on unseen combinations
    by more than 3 s.e. of the paired difference (measured +0.025 ± 0.005 over 6 seeds)."""
    gap, se = _mean_se(unseen["modular", 8] - unseen["monolithic", 8])
    assert gap > 3 * se and gap > 0.01, (gap, se, unseen)


def test_modular_gap_over_monolithic_widens_with_k(unseen):
    """Paper A's Compositional CIFAR figure: the modular − monolithic gap grows from k = 2 to k = 8
    by more than 3 s.e. (measured −0.079 at k = 2, monolithic ahead, → +0.025 at k = 8: +0.104 ± 0.013)."""
    gaps = {k: unseen["modular", k] - unseen["monolithic", k] for k in (2, 8)}
    widening, se = _mean_se(gaps[8] - gaps[2])
    assert widening > 3 * se, (widening, se, unseen)


def test_kernel_rule_ties_with_modular_at_k8(unseen):
    """On digits the kernel rule and the plain modular network tie: their paired difference at k = 8
    is within ±0.015, under a third of the paper's +0.049 (measured −0.004 ± 0.002 over 6 seeds)."""
    difference, se = _mean_se(unseen["kernel_rule", 8] - unseen["modular", 8])
    assert abs(difference) < 0.015, (difference, se)


@pytest.mark.xfail(
    strict=True,
    reason="paper A's kernel rule > modular does not reproduce on digits: at k = 8, n = 100 kernel rule − "
    "modular = −0.004 ± 0.002 (6 seeds; paper, CIFAR-10: +0.049); the modules do not come to read one image each",
)
def test_kernel_rule_beats_modular_at_k8(unseen):
    difference, se = _mean_se(unseen["kernel_rule", 8] - unseen["modular", 8])
    assert difference > 3 * se and difference > PAPER_GAP_K8 / 3, (difference, se)


def test_metrics_and_shapes_of_one_run():
    cfg = config_for("kernel_rule_per_module", **{**TINY, "epochs": 1, "n_test": 50}, n_slots=3)
    (metrics,) = run_batch([cfg], torch.device("cpu"))
    for name in ("train", "seen", "unseen", "noisy"):
        assert 0 <= metrics[f"{name}_accuracy"] <= 1
    energy = metrics["slot_energy_end"]
    assert isinstance(energy, Array) and energy.shape == (3, 3) and np.allclose(energy.numpy().sum(1), 1)
    assert 1 / 3 <= metrics["slot_focus_start"] <= 1
    curve = metrics["unseen_accuracy_curve"]
    assert isinstance(curve, Curve) and curve.x_name == "epoch" and curve.x[-1] == 1 and len(curve.y) == len(curve.x)


def test_seen_and_unseen_sets_hold_their_combinations():
    data = build_data(config_for("monolithic", **TINY, n_slots=4))
    assert (data.train_y.sum(1) % 5 != 0).all() and (data.unseen_y.sum(1) % 5 == 0).all()
    assert data.train_x.shape == (100, 1 * 8 * 32) and not torch.equal(data.noisy_x, data.unseen_x)


def test_scalar_kernel_layers_give_the_ntk_of_the_probed_output():
    cfg = config_for("kernel_rule", **TINY, n_slots=2)
    model = build_model(cfg, 128)
    probe = torch.randn(20, generator=torch.Generator().manual_seed(0))
    probe = probe / probe.norm()
    z = torch.randn(7, cfg.module_dim, generator=torch.Generator().manual_seed(1))
    ours = ntk_kernels(z, [(w[1], b[1]) for w, b in scalar_kernel_layers(model.blocks, probe)])

    class Probed(torch.nn.Module):
        def __init__(self, block):
            super().__init__()
            self.block = block

        def forward(self, x):
            return self.block(x) @ probe

    assert torch.allclose(ours, ntk_kernel_reference(Probed(model.blocks[1]), z), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="unit vector"):
        scalar_kernel_layers(model.blocks, 2 * probe)


def test_slot_loss_and_accuracy():
    labels = torch.tensor([[1, 2], [3, 0]])
    logits = torch.full((2, 20), -10.0)
    logits[0, 1] = logits[0, 12] = logits[1, 3] = logits[1, 19] = 10.0
    assert slot_accuracy(logits, labels) == pytest.approx(0.75)
    loss = slot_loss(logits, labels)
    assert loss[0] < 1e-3 and loss[1] > 10


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(method="kernel_rule", kernel_rule=dict(variant="per_module")), "kernel_rule.variant"),
        (dict(n_slots=9), "n_slots"),
        (dict(holdout_modulus=3), "holdout_modulus"),
        (dict(hidden=[]), "hidden"),
    ],
)
def test_bad_configs_are_one_line_errors(fields, words):
    with pytest.raises(ConfigError, match=words) as err:
        CompositionalCifarConfig.parse(fields)
    assert "\n" not in str(err.value)
