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


class StackedOptimizer:
    """``kind`` 'sgd' | 'adam' over a dict of stacked parameters (name → (S, *shape))."""

    def __init__(self, kind: str, params: dict[str, torch.Tensor], lr: torch.Tensor, momentum: float = 0.0):
        if kind not in ("sgd", "adam"):
            raise ValueError(f"optimizer {kind!r}: allowed sgd, adam")
        self.kind = kind
        self.lr = lr
        self.momentum = momentum
        self.t = 0
        uses_first = kind == "adam" or momentum > 0
        self.first = {k: torch.zeros_like(v) for k, v in params.items()} if uses_first else {}
        self.second = {k: torch.zeros_like(v) for k, v in params.items()} if kind == "adam" else {}

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], active: torch.Tensor) -> None:
        """One step, updating ``params`` in place."""
        self.t += 1
        rate = -self.lr * active
        for name, value in params.items():
            value.addcmul_(rate.view(-1, *([1] * (value.dim() - 1))), self._direction(name, grads[name]))

    def _direction(self, name: str, grad: torch.Tensor) -> torch.Tensor:
        if self.kind == "sgd":
            if not self.momentum:
                return grad
            self.first[name] = self.first[name] * self.momentum + grad
            return self.first[name]
        beta1, beta2 = ADAM_BETAS
        self.first[name] = torch.lerp(self.first[name], grad, 1 - beta1)
        self.second[name] = self.second[name] * beta2 + (1 - beta2) * grad * grad
        correction1 = 1 - beta1**self.t
        correction2 = math.sqrt(1 - beta2**self.t)
        return (self.first[name] / correction1) / (self.second[name].sqrt() / correction2 + ADAM_EPS)
