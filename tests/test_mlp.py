"""The monolithic MLP: shapes, parameter counts, generator-reproducible init, stacked path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from modlab.models import MLP, count_params, stacked_mlp


def test_shapes_and_param_count():
    net = MLP(7, (16, 8), out_dim=3)
    assert net(torch.randn(5, 7)).shape == (5, 3)
    assert count_params(net) == MLP.n_params(7, (16, 8), 3) == 7 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


def test_init_is_reproducible_from_generator_and_matches_linear_bounds():
    a = MLP(4, (32,), generator=torch.Generator().manual_seed(5))
    b = MLP(4, (32,), generator=torch.Generator().manual_seed(5))
    c = MLP(4, (32,), generator=torch.Generator().manual_seed(6))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    assert a.layers[0].weight.abs().max() <= 0.5 and a.layers[1].weight.abs().max() <= 32**-0.5
    assert a.layers[0].weight.abs().max() > 0.45


def test_stacked_forward_equals_each_member():
    nets = [MLP(6, (10, 10), 2, torch.Generator().manual_seed(s)) for s in range(3)]
    params = {
        name: torch.stack([dict(n.named_parameters())[name] for n in nets]) for name, _ in nets[0].named_parameters()
    }
    x = torch.randn(3, 9, 6)
    out = nets[0].stacked_forward(params, x)
    for s, net in enumerate(nets):
        torch.testing.assert_close(out[s], net(x[s]))
    four_d = stacked_mlp([(w.unsqueeze(1), b.unsqueeze(1)) for w, b in nets[0].layer_params(params)], x.unsqueeze(1))
    torch.testing.assert_close(four_d.squeeze(1), out)


def test_non_positive_width_is_an_error():
    with pytest.raises(ValueError, match="width"):
        MLP(3, (0,))
