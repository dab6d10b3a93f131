"""Minimum-norm least squares and ridge regression, batched over independent problems.

Ridge convention: minimise ``(1/N)‖y − Φw‖² + ridge·‖w‖²``; ``ridge = 0`` gives the min-norm
solution ``Φ⁺y`` (LAPACK ``gelsy``: QR with column pivoting, rank-revealing, so exact at the interpolation threshold too; much faster than the SVD-based ``gelsd`` here). Ridge solves use one
Cholesky factorisation of the smaller Gram matrix (primal when p ≤ N, dual otherwise), never an
explicit inverse.
"""

from __future__ import annotations

import numpy as np
import torch


def fit_least_squares(features: torch.Tensor, targets: torch.Tensor, ridge: float = 0.0) -> torch.Tensor:
    """Batched fit. Shapes: features (S, N, p), targets (S, N) → weights (S, p)."""
    n_eqs, p = features.shape[-2:]
    rhs = targets.unsqueeze(-1)
    if ridge == 0:
        if features.device.type == "cpu":
            return torch.linalg.lstsq(features, rhs, driver="gelsy").solution.squeeze(-1)
        return (torch.linalg.pinv(features) @ rhs).squeeze(-1)
    shift = n_eqs * ridge
    if p <= n_eqs:
        gram = features.mT @ features + shift * torch.eye(p, dtype=features.dtype, device=features.device)
        return torch.cholesky_solve(features.mT @ rhs, torch.linalg.cholesky(gram)).squeeze(-1)
    gram = features @ features.mT + shift * torch.eye(n_eqs, dtype=features.dtype, device=features.device)
    dual = torch.cholesky_solve(rhs, torch.linalg.cholesky(gram))
    return (features.mT @ dual).squeeze(-1)


def fit_least_squares_reference(features: np.ndarray, targets: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """The plain per-problem loop in numpy that the batched path is checked against."""
    weights = []
    for design, y in zip(features, targets):
        if ridge == 0:
            weights.append(np.linalg.lstsq(design, y, rcond=None)[0])
        else:
            n_eqs, p = design.shape
            weights.append(np.linalg.solve(design.T @ design + n_eqs * ridge * np.eye(p), design.T @ y))
    return np.stack(weights)
