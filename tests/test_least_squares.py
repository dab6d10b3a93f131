import numpy as np
import pytest
import torch

from modlab.rules import fit_least_squares, fit_least_squares_reference


@pytest.mark.parametrize("shape", [(40, 10), (10, 40), (25, 25)])
@pytest.mark.parametrize("ridge", [0.0, 0.05])
def test_batched_fit_equals_per_problem_loop(shape, ridge):
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(4, *shape, generator=gen, dtype=torch.float64)
    targets = torch.randn(4, shape[0], generator=gen, dtype=torch.float64)
    batched = fit_least_squares(features, targets, ridge).numpy()
    reference = fit_least_squares_reference(features.numpy(), targets.numpy(), ridge)
    assert np.allclose(batched, reference, atol=1e-8)


def test_min_norm_interpolates_when_overparameterised():
    gen = torch.Generator().manual_seed(1)
    features = torch.randn(2, 5, 30, generator=gen, dtype=torch.float64)
    targets = torch.randn(2, 5, generator=gen, dtype=torch.float64)
    weights = fit_least_squares(features, targets)
    assert torch.allclose((features @ weights.unsqueeze(-1)).squeeze(-1), targets, atol=1e-10)
    assert torch.allclose(weights, (torch.linalg.pinv(features) @ targets.unsqueeze(-1)).squeeze(-1), atol=1e-10)


def test_rank_deficient_design_still_gets_the_min_norm_solution():
    gen = torch.Generator().manual_seed(2)
    base = torch.randn(1, 12, 3, generator=gen, dtype=torch.float64)
    features = torch.cat([base, base], dim=-1)  # rank 3 of 6 columns
    targets = torch.randn(1, 12, generator=gen, dtype=torch.float64)
    weights = fit_least_squares(features, targets)
    expected = fit_least_squares_reference(features.numpy(), targets.numpy())
    assert np.allclose(weights.numpy(), expected, atol=1e-8)


def test_fit_is_bit_identical_on_every_call():
    gen = torch.Generator().manual_seed(3)
    features = torch.randn(3, 50, 20, generator=gen, dtype=torch.float64)
    targets = torch.randn(3, 50, generator=gen, dtype=torch.float64)
    first = fit_least_squares(features, targets)
    assert all(torch.equal(first, fit_least_squares(features, targets)) for _ in range(5))
