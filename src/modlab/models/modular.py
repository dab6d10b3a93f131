"""The modular network of docs/scaling.md §3: ``ŷ(x) = K̂^{-1/2} Σ_j g_j(Û_jᵀ x)``.

Each module g_j is a small ReLU MLP on its own learnable b̂-dimensional projection ``Û_j`` (D × b̂,
orthonormal columns at init, free during training). Module outputs are **summed** with the
``K̂^{-1/2}`` scale, never concatenated. ``read_all=True`` is the mixture-of-experts baseline the
reviewers asked for: the same sum of K̂ MLPs, each reading all of x (no projections).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from modlab.frames import random_orthonormal
from modlab.models.mlp import MLP, stacked_mlp


class ModularMLP(nn.Module):
    """K̂ modules. Parameters: ``projections`` (K̂, D, b̂) (absent when ``read_all``) and ``blocks``,
    one ``MLP(b̂ → hidden → out_dim)`` per module (``MLP(D → …)`` when ``read_all``).
    x (n, D) → (n, out_dim)."""

    def __init__(
        self,
        input_dim: int,
        n_modules: int,
        module_dim: int,
        hidden: Sequence[int],
        out_dim: int = 1,
        read_all: bool = False,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if min(input_dim, n_modules, module_dim) < 1:
            raise ValueError(
                f"input_dim, n_modules, module_dim = {input_dim}, {n_modules}, {module_dim}: each must be ≥ 1"
            )
        if not read_all and module_dim > input_dim:
            raise ValueError(f"module_dim = {module_dim}: must be ≤ input_dim = {input_dim}")
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        self.read_all = read_all
        if read_all:
            self.register_parameter("projections", None)
        else:
            frames = [random_orthonormal(input_dim, module_dim, gen) for _ in range(n_modules)]
            self.projections = nn.Parameter(torch.stack(frames))
        block_in = input_dim if read_all else module_dim
        self.blocks = nn.ModuleList(MLP(block_in, hidden, out_dim, gen) for _ in range(n_modules))

    @property
    def n_modules(self) -> int:
        return len(self.blocks)

    def module_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What each module reads: x (n, D) → (K̂, n, b̂) (``Û_jᵀ x``), or (K̂, n, D) when ``read_all``."""
        if self.read_all:
            return x.expand(self.n_modules, *x.shape)
        return torch.einsum("kdb,nd->knb", self.projections, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.module_inputs(x)
        outputs = torch.stack([block(z[j]) for j, block in enumerate(self.blocks)])
        return outputs.sum(0) / math.sqrt(self.n_modules)

    def stacked_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """S members at once: params name → (S, *shape), x (S, n, D) → (S, n, out_dim). The K̂
        modules' layers are stacked too, so each layer is one batched matmul over (S, K̂)."""
        if self.read_all:
            z = x.unsqueeze(1).expand(-1, self.n_modules, -1, -1)
        else:
            z = torch.einsum("skdb,snd->sknb", params["projections"], x)
        per_block = [block.layer_params(params, f"blocks.{j}.") for j, block in enumerate(self.blocks)]  # type: ignore[operator]  # blocks are MLPs; torch types them as Module
        layers = [
            (torch.stack([p[i][0] for p in per_block], 1), torch.stack([p[i][1] for p in per_block], 1))
            for i in range(len(per_block[0]))
        ]
        return stacked_mlp(layers, z).sum(1) / math.sqrt(self.n_modules)

    @staticmethod
    def n_params(
        input_dim: int, n_modules: int, module_dim: int, hidden: Sequence[int], out_dim: int = 1, read_all: bool = False
    ) -> int:
        """Parameters of ``ModularMLP(...)`` (projections included), without building it."""
        if read_all:
            return n_modules * MLP.n_params(input_dim, hidden, out_dim)
        return n_modules * (input_dim * module_dim + MLP.n_params(module_dim, hidden, out_dim))
