"""SGD (with momentum) and Adam on parameters stacked over ensemble members.

Both updates are elementwise, so one update of a stacked tensor is exactly S independent updates;
the learning rate is a per-member vector (S,), and ``active`` (S,) freezes members that stopped
early. The maths follows ``torch.optim.SGD`` / ``torch.optim.Adam`` (defaults: β = (0.9, 0.999),
ε = 1e-8, no weight decay), which the per-model reference loop uses; a test checks they agree.
"""

from __future__ import annotations

import math

import torch

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def initial_state(kind: str, momentum: float, params: dict[str, torch.Tensor]):
    """Zero first and second moments where ``kind`` uses them (else empty dicts)."""
    uses_first = kind == "adam" or momentum > 0
    first = {k: torch.zeros_like(v) for k, v in params.items()} if uses_first else {}
    second = {k: torch.zeros_like(v) for k, v in params.items()} if kind == "adam" else {}
    return first, second


class StackedOptimizer:
    """``kind`` 'sgd' | 'adam' over a dict of stacked parameters (name → (S, *shape))."""

    def __init__(self, kind: str, params: dict[str, torch.Tensor], lr: torch.Tensor, momentum: float = 0.0):
        if kind not in ("sgd", "adam"):
            raise ValueError(f"optimizer {kind!r}: allowed sgd, adam")
        self.kind = kind
        self.lr = lr
        self.momentum = momentum
        self.t = 0
        self.first, self.second = initial_state(kind, momentum, params)

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], active: torch.Tensor) -> None:
        """One step, updating ``params`` in place."""
        self.t += 1
        rate = -self.lr * active
        corrections = adam_corrections(self.t)
        for name, value in params.items():
            step, first, second = direction(
                self.kind, self.momentum, grads[name], self.first.get(name), self.second.get(name), *corrections
            )
            if first is not None:
                self.first[name] = first
            if second is not None:
                self.second[name] = second
            value.addcmul_(member_view(rate, value), step)


def member_view(rate: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """A per-member vector (S,) shaped to broadcast against ``value`` (S, *shape)."""
    return rate.view(-1, *([1] * (value.dim() - 1)))


def adam_corrections(t: int) -> tuple[float, float]:
    """Adam's bias corrections after ``t`` steps: 1 − β₁ᵗ and √(1 − β₂ᵗ)."""
    beta1, beta2 = ADAM_BETAS
    return 1 - beta1**t, math.sqrt(1 - beta2**t)


def direction(kind, momentum, grad, first, second, correction1, correction2):
    """The update direction of one stacked parameter and the new optimiser state (pure: the
    eager optimiser and the compiled step share it). Returns (direction, first, second); a state
    the optimiser does not use stays None."""
    if kind == "sgd":
        if not momentum:
            return grad, first, second
        first = first * momentum + grad
        return first, first, second
    beta1, beta2 = ADAM_BETAS
    first = torch.lerp(first, grad, 1 - beta1)
    second = second * beta2 + (1 - beta2) * grad * grad
    return (first / correction1) / (second.sqrt() / correction2 + ADAM_EPS), first, second
