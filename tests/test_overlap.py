"""Subspace overlap: 1 for the same subspace, 0 for orthogonal ones, batched equals the plain loop."""

from __future__ import annotations

import math

import torch

from modlab.frames import random_orthonormal
from modlab.measures import best_overlaps, mean_overlap, overlap_matrix, overlap_matrix_reference


def test_identical_orthogonal_and_rotated_subspaces():
    frame = random_orthonormal(8, 4, torch.Generator().manual_seed(0))
    true = torch.stack([frame[:, :2], frame[:, 2:]])
    rotation = torch.tensor([[math.cos(0.3), -math.sin(0.3)], [math.sin(0.3), math.cos(0.3)]])
    learned = torch.stack([3.0 * frame[:, 2:] @ rotation, frame[:, :2]])  # scaled, rotated, swapped
    matrix = overlap_matrix(true, learned)
    assert torch.allclose(matrix, torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64), atol=1e-10)
    assert abs(float(mean_overlap(true, learned)) - 1.0) < 1e-10


def test_a_direction_mixing_two_modules_scores_a_half_with_each():
    e = torch.eye(5)
    true = torch.stack([e[:, :1], e[:, 1:2]])
    learned = ((e[:, 0] + e[:, 1]) / math.sqrt(2)).reshape(1, 5, 1)
    assert torch.allclose(best_overlaps(true, learned), torch.tensor([0.5, 0.5], dtype=torch.float64))


def test_batched_equals_per_pair_principal_angles():
    gen = torch.Generator().manual_seed(3)
    true = torch.stack([random_orthonormal(9, 2, gen) for _ in range(3)])
    learned = torch.randn(4, 5, 9, 2, generator=gen)  # (S, K̂, D, b̂), not orthonormal
    batched = overlap_matrix(true, learned)
    for s in range(4):
        assert torch.allclose(batched[s], overlap_matrix_reference(true, learned[s]), atol=1e-10)
    per_member_true = true.expand(4, -1, -1, -1)
    assert torch.allclose(overlap_matrix(per_member_true, learned), batched)
