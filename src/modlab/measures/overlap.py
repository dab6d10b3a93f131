"""Did a network find the task's modules? Principal-angle overlap of learned and true projections.

The overlap of a true projection U_i (D × b) with a learned one Û_j (D × b̂) is the mean squared
cosine of their min(b, b̂) principal angles, ``‖U_iᵀ Q_j‖²_F / min(b, b̂)`` with Q_j an orthonormal
basis of span(Û_j): 1 when one subspace contains the other, 0 when they are orthogonal, about
b̂/D for a random Û_j. It ignores scale and any rotation within the subspace, so it also applies to
projections that end-to-end training has moved off orthonormality. Unit: cos² (for b = b̂ = 1, cos²
of the angle between the two directions; |cos| = 0.93 is an overlap of 0.86, an overlap of 0.9 is
|cos| 0.95).

A true module's *best overlap* is its overlap with the best-matching learned projection (several
true modules may match the same learned one: that is how a rule that finds one strong module twice
shows up); a run's *mean overlap* averages the best overlaps over the true modules.
"""

from __future__ import annotations

import torch


def orthonormal_basis(frames: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis of each frame's column span (full column rank assumed): (..., D, b) → (..., D, b)."""
    return torch.linalg.qr(frames.double()).Q


def overlap_matrix(true: torch.Tensor, learned: torch.Tensor) -> torch.Tensor:
    """Overlap of every true projection with every learned one.
    Shapes: true (*lead, K, D, b), learned (*lead, K̂, D, b̂) (leading dimensions broadcast)
    → (*lead, K, K̂), float64."""
    q_true = orthonormal_basis(true)
    q_learned = orthonormal_basis(learned)
    cross = torch.einsum("...kdb,...jdc->...kjbc", q_true, q_learned)
    return (cross**2).sum((-2, -1)) / min(true.shape[-1], learned.shape[-1])


def best_overlaps(true: torch.Tensor, learned: torch.Tensor) -> torch.Tensor:
    """Each true module's overlap with its best-matching learned projection: → (*lead, K)."""
    return overlap_matrix(true, learned).amax(-1)


def mean_overlap(true: torch.Tensor, learned: torch.Tensor) -> torch.Tensor:
    """The mean over true modules of their best overlaps: → (*lead,)."""
    return best_overlaps(true, learned).mean(-1)


def overlap_matrix_reference(true: torch.Tensor, learned: torch.Tensor) -> torch.Tensor:
    """Plain loop over pairs via principal angles (singular values of Q_iᵀ Q̂_j): (K, D, b), (K̂, D, b̂) → (K, K̂)."""
    out = torch.zeros(len(true), len(learned), dtype=torch.float64)
    for i, u in enumerate(true):
        for j, u_hat in enumerate(learned):
            cosines = torch.linalg.svdvals(orthonormal_basis(u).T @ orthonormal_basis(u_hat))
            out[i, j] = (cosines**2).mean()
    return out
