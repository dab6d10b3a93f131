"""Parameter counts and width matching, so sweeps can compare networks at equal budgets."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def count_params(model: nn.Module) -> int:
    """Trainable parameters of a built model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def width_for_budget(budget: int, count: Callable[[int], int], max_width: int = 1 << 16) -> int:
    """The width w ≥ 1 whose ``count(w)`` (increasing in w) is closest to ``budget``.

    Example: ``width_for_budget(10_000, lambda w: MLP.n_params(16, (w, w)))``."""
    if budget < 1:
        raise ValueError(f"budget = {budget}: must be ≥ 1")
    lo, hi = 1, max_width
    while lo < hi:
        mid = (lo + hi) // 2
        if count(mid) < budget:
            lo = mid + 1
        else:
            hi = mid
    candidates = [w for w in (lo - 1, lo) if w >= 1]
    return min(candidates, key=lambda w: abs(count(w) - budget))
