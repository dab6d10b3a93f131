"""Paper B's ConvNets for Compositional MNIST: a dense net and an output-split pair.

``ConvNet``: three valid convolutions with ReLU, flatten, one linear read-out; every weight and bias
drawn from N(0, init_std²) (paper: 0.01). ``SplitConvNet``: two ConvNets of the same shape with
half the channels each, one for the systematic outputs and one for the non-systematic outputs;
their outputs are concatenated. The two share no parameter, so training the pair on the summed
squared error trains each module on its own loss, as the paper does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

Kernel = tuple[int, int]
PAPER_KERNELS: dict[int, tuple[Kernel, ...]] = {
    28: ((9, 27), (7, 21), (5, 15)),  # MNIST 28 × 84 composites (paper)
    8: ((3, 9), (3, 7), (2, 5)),  # load_digits 8 × 24 composites (the paper's kernels scaled to the image)
}


class ConvNet(nn.Module):
    """Input (B, C, H, W) → output (B, out_dim)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        channels: int,
        kernels: Sequence[Kernel],
        out_dim: int,
        init_std: float = 0.01,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        in_channels, height, width = in_shape
        layers: list[nn.Module] = []
        for kh, kw in kernels:
            if kh > height or kw > width:
                raise ValueError(f"kernel ({kh}, {kw}) does not fit a {height} × {width} feature map")
            layers += [nn.Conv2d(in_channels, channels, (kh, kw)), nn.ReLU()]
            in_channels, height, width = channels, height - kh + 1, width - kw + 1
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.readout = nn.Linear(channels * height * width, out_dim)
        with torch.no_grad():
            for param in self.parameters():
                param.normal_(0.0, init_std, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x))


class SplitConvNet(nn.Module):
    """Two ConvNets with ``channels`` each: outputs [systematic (n_systematic), non-systematic (out_dim − n_systematic)]."""

    def __init__(
        self,
        in_shape: Sequence[int],
        channels: int,
        kernels: Sequence[Kernel],
        out_dim: int,
        n_systematic: int,
        init_std: float = 0.01,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.systematic = ConvNet(in_shape, channels, kernels, n_systematic, init_std, generator)
        self.non_systematic = ConvNet(in_shape, channels, kernels, out_dim - n_systematic, init_std, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.systematic(x), self.non_systematic(x)], dim=1)


def paper_kernels(height: int) -> tuple[Kernel, ...]:
    """The kernel sizes for images of this height (28: MNIST, 8: load_digits)."""
    if height not in PAPER_KERNELS:
        raise ValueError(f"image height {height}: kernels are defined for {sorted(PAPER_KERNELS)}")
    return PAPER_KERNELS[height]


__all__ = ["ConvNet", "SplitConvNet", "paper_kernels"]
