"""Members' samples padded to one length, and each member's mini-batch gathered from them.

Members may have different sample counts n_i: their tensors are padded with zeros to the longest,
and a weight per sample (1/n_i on real samples, 0 on padding) makes each member's loss its own mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from modlab.train.minibatch import padded_weights


@dataclass
class Padded:
    """Members' samples padded to one length. x (S, n_max, ...), y (S, n_max, ...), weights (S, n_max)."""

    x: torch.Tensor
    y: torch.Tensor
    weights: torch.Tensor
    sizes: list[int]


def pad_members(xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor], device: torch.device) -> Padded:
    sizes = [len(x) for x in xs]
    width = max(sizes)

    def pad(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([t, t.new_zeros(width - len(t), *t.shape[1:])]) if len(t) < width else t

    x = torch.stack([pad(t) for t in xs]).to(device)
    y = torch.stack([pad(t) for t in ys]).to(device)
    return Padded(x, y, padded_weights(sizes, width).to(device), sizes)


def gather_batch(data: Padded, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``indices`` (S, B) of each member: x (S, B, ...), y (S, B, ...)."""

    def take(t: torch.Tensor) -> torch.Tensor:
        return torch.take_along_dim(t, indices.view(*indices.shape, *([1] * (t.dim() - 2))), dim=1)

    return take(data.x), take(data.y)
