import numpy as np
import pytest
import torch

from modlab.models.linear import LinearModule, ModularLinear, layer_dims, module_layout, random_weights
from modlab.rules.gradient_flow import Moments, train, train_reference
from modlab.rules.hebbian import RULES, local_terms
from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset

DATA = make_dataset(DatasetSpaceConfig())
MOMENTS = Moments.of(DATA.x, DATA.y)


def dense(members=3, depth=2):
    gens = [torch.Generator().manual_seed(i) for i in range(members)]
    rows, cols = module_layout("dense", DATA.omega_x, DATA.gamma_x, DATA.omega_y, DATA.gamma_y)["dense"]
    return ModularLinear(
        {"dense": LinearModule(random_weights(layer_dims(27, 9, depth, 10), 0.05, gens), rows, cols)}, 9, 27
    )


def test_the_paper_settings():
    assert (RULES["hebbian"].nu, RULES["anti_hebbian"].nu) == (0.001, -0.001)
    assert (RULES["contrastive_hebbian"].gamma, RULES["predictive_coding"].gamma) == (1.0, -1.0)
    assert RULES["predictive_coding"].epochs == 3000 and local_terms(0, 0) is None


def test_terms_are_the_data_forms():
    w1 = torch.randn(10, 27, dtype=torch.float64) * 0.1
    w2 = torch.randn(9, 10, dtype=torch.float64) * 0.1
    h, x, y = w1 @ DATA.x, DATA.x, DATA.y
    y_hat = w2 @ h
    d1, d2 = local_terms(0.7, 0.3)([w1, w2], MOMENTS)
    assert torch.allclose(d1, 0.3 * h @ (x.T - h.T @ w1) / 8)
    assert torch.allclose(d2, 0.7 * (y @ y.T - y_hat @ y_hat.T) @ w2 / 8)
    d1_anti, _ = local_terms(0.0, -0.3)([w1, w2], MOMENTS)
    scale = torch.diag(1 / (1 - (w1**2).sum(1)))
    assert torch.allclose(d1_anti, -0.3 * scale @ h @ x.T / 8)


@pytest.mark.parametrize("rule", ["hebbian", "anti_hebbian", "contrastive_hebbian", "predictive_coding"])
def test_batched_rules_equal_the_per_member_loop(rule):
    setting = RULES[rule]
    net = dense()
    extra = local_terms(setting.gamma, setting.nu)
    reference = train_reference(net, MOMENTS, 8 * setting.lr, 30, extra)
    curves = train(net, MOMENTS, 8 * setting.lr, 30, lambda w: w.flatten(1), record_every=30, extra=extra)
    assert np.allclose(curves[-1].numpy().reshape(3, 9, 27), reference, atol=1e-12)


def test_local_rules_need_two_layers():
    with pytest.raises(ValueError, match="depth 2"):
        local_terms(1.0, 0.0)([torch.zeros(9, 27)], MOMENTS)
