import numpy as np
import pytest
import torch

from modlab.theory import QUADRANTS, quadrant_norms, systematicity

OX, GX, OY, GY = np.array([0, 1]), np.array([2, 3, 4]), np.array([0]), np.array([1, 2])


def test_quadrant_norms_pick_the_right_blocks():
    w = np.zeros((3, 5))
    w[0, :2] = [3, 4]  # Ωy×Ωx: norm 5
    w[0, 2:] = [1, 0, 0]  # Ωy×Γx: norm 1
    w[1:, :2] = 2  # Γy×Ωx: norm 4
    w[1:, 2:] = 0
    q = quadrant_norms(w, OX, GX, OY, GY)
    assert [float(q[k]) for k in QUADRANTS] == pytest.approx([5, 1, 4, 0])
    assert systematicity(q) == pytest.approx(25 / 26)


def test_batched_torch_matches_per_member_numpy():
    w = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    batched = quadrant_norms(w, torch.as_tensor(OX), torch.as_tensor(GX), torch.as_tensor(OY), torch.as_tensor(GY))
    for member in range(4):
        single = quadrant_norms(w[member].numpy(), OX, GX, OY, GY)
        for k in QUADRANTS:
            assert float(batched[k][member]) == pytest.approx(float(single[k]))


def test_systematic_map_scores_one_and_leaning_map_less():
    w = np.zeros((3, 5))
    w[0, :2] = 1
    assert systematicity(quadrant_norms(w, OX, GX, OY, GY)) == 1.0
    w[0, 2] = 1
    assert systematicity(quadrant_norms(w, OX, GX, OY, GY)) == pytest.approx(2 / 3)
