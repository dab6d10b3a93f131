"""The modular network (spec A §3): summed modules on learnable projections, and the MoE baseline."""

from __future__ import annotations

import math

import pytest
import torch

from modlab.models import MLP, ModularMLP, count_params


def test_shapes_and_orthonormal_projections():
    net = ModularMLP(10, 4, 2, (8, 8), generator=torch.Generator().manual_seed(0))
    x = torch.randn(6, 10)
    assert net.projections.shape == (4, 10, 2)
    assert net.module_inputs(x).shape == (4, 6, 2)
    assert net(x).shape == (6, 1)
    gram = net.projections.mT @ net.projections
    torch.testing.assert_close(gram, torch.eye(2).expand(4, 2, 2), atol=1e-5, rtol=0)


def test_outputs_are_summed_with_inverse_sqrt_scale():
    net = ModularMLP(5, 3, 1, (4,), out_dim=2)
    x = torch.randn(7, 5)
    z = net.module_inputs(x)
    expected = sum(block(z[j]) for j, block in enumerate(net.blocks)) / math.sqrt(3)
    torch.testing.assert_close(net(x), expected)
    torch.testing.assert_close(z[1], x @ net.projections[1])


def test_read_all_is_a_mixture_of_experts_without_projections():
    net = ModularMLP(5, 3, 1, (4,), read_all=True)
    assert net.projections is None and net.blocks[0].layers[0].in_features == 5
    x = torch.randn(7, 5)
    torch.testing.assert_close(net(x), sum(b(x) for b in net.blocks) / math.sqrt(3))


@pytest.mark.parametrize("read_all", [False, True])
def test_param_counts(read_all):
    net = ModularMLP(12, 3, 2, (16, 16), read_all=read_all)
    assert count_params(net) == ModularMLP.n_params(12, 3, 2, (16, 16), read_all=read_all)
    per_block = MLP.n_params(12 if read_all else 2, (16, 16))
    assert count_params(net) == 3 * per_block + (0 if read_all else 3 * 12 * 2)


@pytest.mark.parametrize("read_all", [False, True])
def test_stacked_forward_equals_each_member(read_all):
    nets = [
        ModularMLP(6, 3, 2, (5, 5), read_all=read_all, generator=torch.Generator().manual_seed(s)) for s in range(4)
    ]
    names = [name for name, _ in nets[0].named_parameters()]
    params = {name: torch.stack([dict(n.named_parameters())[name] for n in nets]) for name in names}
    x = torch.randn(4, 11, 6)
    out = nets[0].stacked_forward(params, x)
    for s, net in enumerate(nets):
        torch.testing.assert_close(out[s], net(x[s]))


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="module_dim = 5"):
        ModularMLP(4, 2, 5, (3,))
    with pytest.raises(ValueError, match="n_modules"):
        ModularMLP(4, 0, 1, (3,))
