"""Deep linear networks and their modular variants (docs/specialization.md §3), batched over S members (seeds).

A :class:`LinearModule` is a depth-``D`` stack of bias-free linear maps that reads the input rows
``cols`` and writes the output rows ``rows``; its weights are stored with a leading member axis,
``weights[l]`` (S, d_{l+1}, d_l). A :class:`ModularLinear` network is a set of modules writing
disjoint output rows; its total map (S, n_out, n_in) is zero outside each module's block.

Architectures (:func:`module_layout`): ``dense`` (one module, all rows, all inputs), ``split``
(output-split: a systematic module on Ωy and a non-systematic module on Γy, each seeing the whole
input) and ``segregated`` (as split, but the systematic module's input is masked to Ωx). Depth 1 is
the shallow network ``Ŷ = W X``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Architecture = Literal["dense", "split", "segregated"]


class LinearModule(nn.Module):
    """One module: ``Ŷ[rows] = W_D ⋯ W_1 X[cols]``, batched over members."""

    def __init__(self, weights: list[torch.Tensor], rows: torch.Tensor, cols: torch.Tensor):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in weights])
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)

    def product(self) -> torch.Tensor:
        """The module's map ``W_D ⋯ W_1``, shape (S, len(rows), len(cols))."""
        out = self.weights[0]
        for w in self.weights[1:]:
            out = w @ out
        return out


class ModularLinear(nn.Module):
    """Modules writing disjoint output rows; ``forward(x)`` maps (n_in, P) → (S, n_out, P)."""

    def __init__(self, modules: dict[str, LinearModule], n_out: int, n_in: int):
        super().__init__()
        self.parts = nn.ModuleDict(modules)
        self.n_out, self.n_in = n_out, n_in

    def total_map(self) -> torch.Tensor:
        """The network's linear map, shape (S, n_out, n_in)."""
        first = next(iter(self.parts.values())).weights[0]  # type: ignore[index]  # parts are LinearModules; torch types them as Module
        out = first.new_zeros(first.shape[0], self.n_out, self.n_in)
        for part in self.parts.values():
            out[:, part.rows.unsqueeze(1), part.cols.unsqueeze(0)] = part.product()  # type: ignore[operator]  # parts are LinearModules; torch types them as Module
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.total_map() @ x


def module_layout(
    architecture: Architecture,
    omega_x: torch.Tensor,
    gamma_x: torch.Tensor,
    omega_y: torch.Tensor,
    gamma_y: torch.Tensor,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Each module's (output rows, input columns), by role; modules with no rows or inputs dropped."""
    every_input = torch.cat([omega_x, gamma_x])
    if architecture == "dense":
        layout = {"dense": (torch.cat([omega_y, gamma_y]), every_input)}
    else:
        sys_inputs = omega_x if architecture == "segregated" else every_input
        layout = {"systematic": (omega_y, sys_inputs), "nonsystematic": (gamma_y, every_input)}
    return {role: (rows, cols) for role, (rows, cols) in layout.items() if len(rows) and len(cols)}


def layer_dims(n_in: int, n_out: int, depth: int, hidden: int) -> list[int]:
    """Widths ``[n_in, hidden, …, hidden, n_out]`` of a depth-``depth`` stack."""
    return [n_in, *[hidden] * (depth - 1), n_out]


def random_weights(dims: list[int], scale: float, generators: list[torch.Generator]) -> list[torch.Tensor]:
    """I.i.d. N(0, scale²) weights, one generator per member: ``[(S, dims[l+1], dims[l])]``."""
    per_member = [
        [torch.randn(d_out, d_in, generator=gen, dtype=torch.float64) * scale for d_in, d_out in zip(dims, dims[1:])]
        for gen in generators
    ]
    return [torch.stack(layer) for layer in zip(*per_member)]


def aligned_weights(
    dims: list[int], u: torch.Tensor, v: torch.Tensor, u0: float, generators: list[torch.Generator]
) -> list[torch.Tensor]:
    """The decoupled, balanced start: ``W_D ⋯ W_1 = u0 · U Vᵀ`` exactly.

    ``u`` (n_out, m), ``v`` (n_in, m): the singular vectors of Σyx. Each layer is
    ``u0^{1/D} O_l O_{l-1}ᵀ`` with ``O_0 = V``, ``O_D = U`` and random orthonormal ``O_l``
    (hidden × m, one generator per member), so every layer has the same Gram matrix.
    """
    depth, m = len(dims) - 1, u.shape[1]
    if any(h < m for h in dims[1:-1]):
        raise ValueError(f"aligned init: hidden width {min(dims[1:-1])} is below the {m} modes of Σyx")
    c = u0 ** (1 / depth)
    per_member = []
    for gen in generators:
        frames = (
            [v] + [torch.linalg.qr(torch.randn(h, m, generator=gen, dtype=torch.float64))[0] for h in dims[1:-1]] + [u]
        )
        per_member.append([c * frames[l + 1] @ frames[l].T for l in range(depth)])
    return [torch.stack(layer) for layer in zip(*per_member)]
