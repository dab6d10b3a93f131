"""Random orthonormal frames: the projections of tasks and of modular networks are drawn here."""

from __future__ import annotations

import torch


def random_orthonormal(rows: int, cols: int, gen: torch.Generator) -> torch.Tensor:
    """A uniformly (Haar) random rows × cols float32 matrix with orthonormal columns (cols ≤ rows)."""
    q, r = torch.linalg.qr(torch.randn(rows, cols, generator=gen, dtype=torch.float64))
    signs = torch.sign(torch.diagonal(r))
    return (q * torch.where(signs == 0, 1.0, signs)).float()
