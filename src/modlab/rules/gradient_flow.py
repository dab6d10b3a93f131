"""Full-batch gradient descent on linear networks as the discretised gradient flow (docs/specialization.md §3).

For a module ``W = W_D ⋯ W_1`` with error ``E = Σyx − W Σx``, each layer moves by
``W_l ← W_l + (1/τ) (W_D ⋯ W_{l+1})ᵀ E (W_{l−1} ⋯ W_1)ᵀ`` (all layers from the same old weights),
``1/τ = P · lr``. Depth 2 is the paper's ``W1 ← W1 + (1/τ) W2ᵀ E``, ``W2 ← W2 + (1/τ) E W1ᵀ``;
depth 1 is ``W ← W + (1/τ) E``. Each module of a modular network uses its own block of the
moments. Members (seeds) are one batch: every product is a batched matmul over the member axis.
:func:`train_reference` is the plain per-member loop the batched path is tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from modlab.models.linear import ModularLinear

# extra(weights, moments, rate) → one increment per layer (same shapes), added to the weights beside
# ``rate × gradient-flow direction``; each term chooses its own scaling (e.g. the Hebbian terms)
ExtraTerms = Callable[[list, "Moments", float], list]


@dataclass(frozen=True)
class Moments:
    """Second moments of a data set (columns are points): ``Σx`` (n_in, n_in), ``Σyx`` (n_out,
    n_in), ``Σy`` (n_out, n_out), each divided by ``n_points``, the number of points (a batch sum
    such as ``X Xᵀ`` is ``n_points · Σx``)."""

    sigma_x: torch.Tensor
    sigma_yx: torch.Tensor
    sigma_y: torch.Tensor
    n_points: int

    @classmethod
    def of(cls, x: torch.Tensor, y: torch.Tensor) -> Moments:
        n_points = x.shape[1]
        return cls(x @ x.T / n_points, y @ x.T / n_points, y @ y.T / n_points, n_points)

    def block(self, rows: torch.Tensor, cols: torch.Tensor) -> Moments:
        """The moments a module reading inputs ``cols`` and writing outputs ``rows`` sees."""
        return Moments(
            self.sigma_x[cols][:, cols], self.sigma_yx[rows][:, cols], self.sigma_y[rows][:, rows], self.n_points
        )

    def to(self, device: torch.device) -> Moments:
        return Moments(self.sigma_x.to(device), self.sigma_yx.to(device), self.sigma_y.to(device), self.n_points)


def flow_updates(weights: list[torch.Tensor], moments: Moments) -> list[torch.Tensor]:
    """Gradient-flow direction of every layer, ``(above)ᵀ E (below)ᵀ``; shapes as ``weights``."""
    below = [None]
    for w in weights[:-1]:
        below.append(w if below[-1] is None else w @ below[-1])  # type: ignore[arg-type]  # below[0] is None, the rest are tensors
    total = weights[0] if len(weights) == 1 else weights[-1] @ below[-1]  # type: ignore[operator]  # below[-1] is a tensor here
    error = moments.sigma_yx - total @ moments.sigma_x
    updates, above = [], None
    for l in range(len(weights) - 1, -1, -1):
        grad = error if above is None else above.mT @ error
        updates.append(grad if below[l] is None else grad @ below[l].mT)  # type: ignore[attr-defined]  # below[l] is a tensor here
        above = weights[l] if above is None else above @ weights[l]
    return updates[::-1]


def train(
    network: ModularLinear,
    moments: Moments,
    rate: float,
    epochs: int,
    observe: Callable[[torch.Tensor], torch.Tensor],
    record_every: int = 1,
    extra: ExtraTerms | None = None,
) -> torch.Tensor:
    """Train every module in place for ``epochs`` steps of size ``rate = 1/τ``.

    ``observe(total_map)`` maps (S, n_out, n_in) to (S, k) measurements, taken at epoch 0 and
    every ``record_every`` epochs. Returns (R, S, k), R = epochs // record_every + 1.
    """
    blocks = {name: moments.block(part.rows, part.cols) for name, part in network.parts.items()}  # type: ignore[arg-type]  # parts are LinearModules; torch types them as Module
    records = [observe(network.total_map())]
    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            for name, part in network.parts.items():
                weights = list(part.weights)  # type: ignore[arg-type]  # parts are LinearModules; torch types them as Module
                steps = [rate * u for u in flow_updates(weights, blocks[name])]
                if extra is not None:
                    steps = [u + e for u, e in zip(steps, extra(weights, blocks[name], rate))]
                for w, step in zip(weights, steps):
                    w.add_(step)
            if epoch % record_every == 0:
                records.append(observe(network.total_map()))
    return torch.stack(records)


def train_reference(
    network: ModularLinear, moments: Moments, rate: float, epochs: int, extra: ExtraTerms | None = None
) -> np.ndarray:
    """The plain per-member, per-module numpy loop; returns the final total maps (S, n_out, n_in)
    without touching ``network``."""
    sigma_x, sigma_yx, sigma_y = (m.cpu().numpy() for m in (moments.sigma_x, moments.sigma_yx, moments.sigma_y))
    n_members = next(iter(network.parts.values())).weights[0].shape[0]  # type: ignore[index]  # parts are LinearModules; torch types them as Module
    maps = np.zeros((n_members, network.n_out, network.n_in))
    for member in range(n_members):
        for part in network.parts.values():
            rows, cols = part.rows.cpu().numpy(), part.cols.cpu().numpy()  # type: ignore[operator]  # parts are LinearModules; torch types them as Module
            block = Moments(
                sigma_x[np.ix_(cols, cols)],
                sigma_yx[np.ix_(rows, cols)],
                sigma_y[np.ix_(rows, rows)],
                moments.n_points,
            )
            weights = [w[member].detach().cpu().numpy().copy() for w in part.weights]  # type: ignore[union-attr]  # parts are LinearModules; torch types them as Module
            for _ in range(epochs):
                weights = _reference_step(weights, block, rate, extra)
            product = weights[0]
            for w in weights[1:]:
                product = w @ product
            maps[member][np.ix_(rows, cols)] = product
    return maps


def _reference_step(weights: list[np.ndarray], m: Moments, rate: float, extra: ExtraTerms | None) -> list[np.ndarray]:
    """One step of one member's module, written out layer by layer with explicit products."""
    depth = len(weights)
    identity_in = np.eye(weights[0].shape[1])
    identity_out = np.eye(weights[-1].shape[0])
    product = np.linalg.multi_dot([*weights[::-1], identity_in]) if depth > 1 else weights[0]
    error = m.sigma_yx - product @ m.sigma_x
    new = []
    for l in range(depth):
        above = np.linalg.multi_dot([identity_out, *weights[:l:-1], np.eye(weights[l].shape[0])])
        below = (
            np.linalg.multi_dot([np.eye(weights[l].shape[1]), *weights[l - 1 :: -1], identity_in]) if l else identity_in
        )
        new.append(weights[l] + rate * above.T @ error @ below.T)
    if extra is not None:
        new = [w + e for w, e in zip(new, extra(weights, m, rate))]
    return new
