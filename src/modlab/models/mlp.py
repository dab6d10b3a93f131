"""The monolithic network: a plain ReLU MLP (docs/scaling.md §3), no BatchNorm.

Every layer is initialised like ``torch.nn.Linear`` (weights and biases uniform on ±1/√fan_in) but
from an explicit ``torch.Generator``, so an ensemble member's init is reproducible from its own
generator. :func:`stacked_mlp` is the same network for parameters stacked over leading (ensemble)
dimensions: the hand-batched path of the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """``in_dim → hidden[0] → … → out_dim`` with ReLU between layers. x (..., in_dim) → (..., out_dim)."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int = 1, generator: torch.Generator | None = None):
        super().__init__()
        widths = (in_dim, *hidden, out_dim)
        if min(widths) < 1:
            raise ValueError(f"MLP widths {widths}: every width must be ≥ 1")
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        for layer in self.layers:
            init_linear_(layer, gen)  # type: ignore[arg-type]  # self.layers holds nn.Linear only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)

    def layer_params(
        self, params: dict[str, torch.Tensor], prefix: str = ""
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight, bias) per layer out of a stacked parameter dict whose names carry ``prefix``."""
        return [
            (params[f"{prefix}layers.{i}.weight"], params[f"{prefix}layers.{i}.bias"]) for i in range(len(self.layers))
        ]

    def stacked_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """S members at once: params name → (S, *shape), x (S, n, in_dim) → (S, n, out_dim)."""
        return stacked_mlp(self.layer_params(params), x)

    @staticmethod
    def n_params(in_dim: int, hidden: Sequence[int], out_dim: int = 1) -> int:
        """Weights and biases of ``MLP(in_dim, hidden, out_dim)``, without building it."""
        widths = (in_dim, *hidden, out_dim)
        return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


def stacked_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """The MLP with stacked parameters: weights (*lead, out, in), biases (*lead, out), x (*lead, n, in)
    → (*lead, n, out). One batched matmul per layer over all leading dimensions; the ReLU runs in
    place (neither matmul's backward needs its output), which saves a pass over the activations."""
    for i, (weight, bias) in enumerate(layers):
        x = torch.baddbmm(bias.unsqueeze(-2), x, weight.mT) if x.dim() == 3 else x @ weight.mT + bias.unsqueeze(-2)
        if i < len(layers) - 1:
            x = torch.relu_(x)
    return x


@torch.no_grad()
def init_linear_(layer: nn.Linear, gen: torch.Generator) -> None:
    """``nn.Linear``'s default init (uniform on ±1/√fan_in for weight and bias) from ``gen``."""
    bound = 1 / math.sqrt(layer.in_features)
    layer.weight.uniform_(-bound, bound, generator=gen)
    layer.bias.uniform_(-bound, bound, generator=gen)
