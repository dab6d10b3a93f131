"""Paper B's ConvNets: shapes, the paper's init and the split into two half-width modules."""

import pytest
import torch

from modlab.models.convnet import ConvNet, SplitConvNet, paper_kernels


def test_paper_mnist_convnet_shapes():
    net = ConvNet((1, 28, 84), 32, paper_kernels(28), 1030, generator=torch.Generator().manual_seed(0))
    assert net.readout.in_features == 32 * 10 * 24
    assert net(torch.zeros(2, 1, 28, 84)).shape == (2, 1030)
    weights = torch.cat([p.detach().flatten() for p in net.parameters()])
    assert abs(float(weights.std()) - 0.01) < 0.001 and abs(float(weights.mean())) < 0.001


def test_split_net_halves_channels_and_separates_outputs():
    gen = torch.Generator().manual_seed(1)
    split = SplitConvNet((1, 8, 24), 16, paper_kernels(8), 1030, 30, generator=gen)
    dense = ConvNet((1, 8, 24), 32, paper_kernels(8), 1030, generator=gen)
    assert split.systematic.readout.out_features == 30 and split.non_systematic.readout.out_features == 1000
    assert split.systematic.features[0].out_channels == 16
    x = torch.rand(3, 1, 8, 24)
    out = split(x)
    assert out.shape == dense(x).shape == (3, 1030)
    out[:, :30].sum().backward()  # the systematic outputs depend on the systematic module only
    assert all(p.grad is None or not p.grad.any() for p in split.non_systematic.parameters())
    assert all(p.grad.any() for p in split.systematic.parameters())


def test_kernel_larger_than_the_image_is_an_error():
    with pytest.raises(ValueError, match="does not fit"):
        ConvNet((1, 8, 24), 4, paper_kernels(28), 10)
    with pytest.raises(ValueError, match="image height 9"):
        paper_kernels(9)
