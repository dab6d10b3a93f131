import numpy as np
import pytest
import torch

from modlab.models.linear import LinearModule, ModularLinear, layer_dims, module_layout, random_weights
from modlab.rules.gradient_flow import Moments, flow_updates, train, train_reference
from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset

DATA = make_dataset(DatasetSpaceConfig())
MOMENTS = Moments.of(DATA.x, DATA.y)


def network(architecture, depth, members=4, scale=0.05):
    gens = [torch.Generator().manual_seed(i) for i in range(members)]
    parts = {
        role: LinearModule(random_weights(layer_dims(len(c), len(r), depth, 10), scale, gens), r, c)
        for role, (r, c) in module_layout(architecture, DATA.omega_x, DATA.gamma_x, DATA.omega_y, DATA.gamma_y).items()
    }
    return ModularLinear(parts, 9, 27)


@pytest.mark.parametrize("architecture", ["dense", "split", "segregated"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_batched_training_equals_the_per_member_loop(architecture, depth):
    net = network(architecture, depth)
    reference = train_reference(net, MOMENTS, 0.16, 40)
    curves = train(net, MOMENTS, 0.16, 40, lambda w: w.flatten(1), record_every=20)
    assert curves.shape == (3, 4, 243)
    assert np.allclose(curves[-1].numpy().reshape(4, 9, 27), reference, atol=1e-12)


def test_depth_two_updates_are_the_spec_formulas():
    w1 = torch.randn(2, 10, 27, dtype=torch.float64)
    w2 = torch.randn(2, 9, 10, dtype=torch.float64)
    error = MOMENTS.sigma_yx - w2 @ w1 @ MOMENTS.sigma_x
    d1, d2 = flow_updates([w1, w2], MOMENTS)
    assert torch.allclose(d1, w2.mT @ error) and torch.allclose(d2, error @ w1.mT)


def test_updates_are_minus_the_loss_gradient():
    weights = [
        torch.randn(10, 27, dtype=torch.float64, requires_grad=True),
        torch.randn(6, 10, dtype=torch.float64, requires_grad=True),
        torch.randn(9, 6, dtype=torch.float64, requires_grad=True),
    ]
    total = weights[2] @ weights[1] @ weights[0]
    loss = 0.5 * ((total @ DATA.x - DATA.y) ** 2).sum() / 8
    loss.backward()
    for w, update in zip(weights, flow_updates([w.detach() for w in weights], MOMENTS)):
        assert torch.allclose(update, -w.grad)


def test_training_converges_to_the_least_squares_map():
    net = network("dense", 2, members=2, scale=0.01)
    curves = train(net, MOMENTS, 8 * 0.02, 800, lambda w: ((w @ DATA.x - DATA.y) ** 2).sum((1, 2)).unsqueeze(1) / 8)
    assert curves[0].min() > 1.0 and curves[-1].max() < 1e-8


def test_moment_blocks():
    block = MOMENTS.block(DATA.omega_y, DATA.omega_x)
    assert block.sigma_x.shape == (3, 3) and block.sigma_yx.shape == (1, 3) and block.sigma_y.shape == (1, 1)
    assert torch.allclose(block.sigma_x, torch.eye(3, dtype=torch.float64))
