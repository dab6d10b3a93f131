"""Parameter counting and width matching to a budget."""

from __future__ import annotations

import pytest

from modlab.models import MLP, ModularMLP, count_params, width_for_budget


def test_width_for_budget_is_the_closest_width():
    count = lambda w: MLP.n_params(16, (w, w))  # noqa: E731
    w = width_for_budget(10_000, count)
    assert all(abs(count(w) - 10_000) <= abs(count(v) - 10_000) for v in range(1, 300))
    assert count_params(MLP(16, (w, w))) == count(w)


def test_width_for_budget_matches_modular_to_monolithic():
    budget = MLP.n_params(16, (256, 256))
    w = width_for_budget(budget, lambda w: ModularMLP.n_params(16, 4, 2, (w, w)))
    assert abs(ModularMLP.n_params(16, 4, 2, (w, w)) - budget) / budget < 0.02


def test_bad_budget():
    with pytest.raises(ValueError, match="budget = 0"):
        width_for_budget(0, lambda w: w)
