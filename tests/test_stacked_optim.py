"""Stacked SGD/Adam: S elementwise updates at once, equal to torch.optim per member."""

from __future__ import annotations

import pytest
import torch

from modlab.train.stacked_optim import StackedOptimizer


@pytest.mark.parametrize("kind, momentum", [("adam", 0.0), ("sgd", 0.0), ("sgd", 0.8)])
def test_matches_torch_optim_per_member_with_per_member_lr(kind, momentum):
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(3, 4, 2, generator=gen)
    grads = [torch.randn(3, 4, 2, generator=gen) for _ in range(5)]
    lr = torch.tensor([0.1, 0.01, 0.3])
    params = {"w": start.clone()}
    optimizer = StackedOptimizer(kind, params, lr, momentum)
    active = torch.tensor([1.0, 1.0, 0.0])
    for g in grads:
        optimizer.step(params, {"w": g}, active)
    for i in range(2):
        w = start[i].clone().requires_grad_()
        cls = (
            torch.optim.Adam([w], lr=float(lr[i]))
            if kind == "adam"
            else torch.optim.SGD([w], lr=float(lr[i]), momentum=momentum)
        )
        for g in grads:
            w.grad = g[i].clone()
            cls.step()
        torch.testing.assert_close(params["w"][i], w.detach())
    assert torch.equal(params["w"][2], start[2])


def test_unknown_kind():
    with pytest.raises(ValueError, match="allowed sgd, adam"):
        StackedOptimizer("rmsprop", {}, torch.ones(1))
