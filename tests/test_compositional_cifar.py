"""Experiment a-ccifar on the offline digits variant: paper A's claims with tiny presets, the
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
from modlab.rules.module_kernels import ntk_kernel_reference, ntk_kernels

SEEDS = 2
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


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def unseen():
    """Mean unseen-combination accuracy over seeds, per (method, k)."""
    torch.set_num_threads(1)
    out = {}
    for k in (2, 8):
        for method in ("monolithic", "modular", "kernel_rule"):
            configs = [config_for(method, **TINY, n_slots=k, seed=s) for s in range(SEEDS)]
            out[method, k] = float(np.mean([m["unseen_accuracy"] for m in run_batch(configs, torch.device("cpu"))]))
    return out


def test_paper_ordering_kernel_rule_modular_monolithic(unseen):
    """Paper A: kernel rule ≥ modular ≥ monolithic on unseen combinations (k = 8, n = 100)."""
    assert unseen["kernel_rule", 8] >= unseen["modular", 8] >= unseen["monolithic", 8], unseen


def test_kernel_rule_gap_over_monolithic_widens_with_k(unseen):
    """Paper A's Compositional CIFAR figure: the kernel-rule − monolithic gap grows with k."""
    gap = {k: unseen["kernel_rule", k] - unseen["monolithic", k] for k in (2, 8)}
    assert gap[8] > gap[2], (gap, unseen)


def test_metrics_and_shapes_of_one_run():
    cfg = config_for("kernel_rule_per_module", **{**TINY, "epochs": 1, "n_test": 50}, n_slots=3)
    (metrics,) = run_batch([cfg], torch.device("cpu"))
    for name in ("train", "seen", "unseen", "noisy"):
        assert 0 <= metrics[f"{name}_accuracy"] <= 1
    energy = np.array(metrics["slot_energy_end"]).reshape(3, 3)
    assert np.allclose(energy.sum(1), 1) and 1 / 3 <= metrics["slot_focus_start"] <= 1
    assert len(metrics["unseen_accuracy_curve"]) == len(metrics["curve_epochs"]) and metrics["curve_epochs"][-1] == 1


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
