"""Apply the kernel rule to your own task: find the directions your modules should read, then train.

Your task: any inputs x (n, D) and scalar targets y (n,) that you believe are a sum of functions of
a few projections of x. Here, a made-up one: ``y = tanh(2 u₁ᵀx) + cos(1.5 u₂ᵀx)`` in D = 10.

1. Build the modular network (K̂ modules, each a small MLP on a b̂-dimensional projection).
2. ``find_projections`` (joint variant: all projections against the network's summed kernel, best of
   R restarts) with the network's own initial modules (``stack_module_layers``).
3. Copy the found projections into the network and train every parameter end to end.

Run: ``python examples/kernel_rule_own_task.py`` (a few seconds on a CPU).
"""

from __future__ import annotations

import torch

from modlab.frames import random_orthonormal
from modlab.measures import best_overlaps
from modlab.models import ModularMLP
from modlab.rules import KernelRuleConfig, find_projections, stack_module_layers


def true_directions(gen: torch.Generator) -> torch.Tensor:
    """The two directions the made-up task depends on: (2, 10, 1)."""
    return random_orthonormal(10, 2, gen).T.reshape(2, 10, 1)


def make_data(n: int, directions: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, 10) ~ N(0, I), y = tanh(2 u₁ᵀx) + cos(1.5 u₂ᵀx) (n,)."""
    x = torch.randn(n, 10, generator=gen)
    z = torch.einsum("kdb,nd->kn", directions, x)
    return x, torch.tanh(2 * z[0]) + torch.cos(1.5 * z[1])


def train(model: ModularMLP, x: torch.Tensor, y: torch.Tensor, steps: int = 400) -> ModularMLP:
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        optimiser.zero_grad()
        ((model(x).squeeze(-1) - y) ** 2).mean().backward()
        optimiser.step()
    return model


def main() -> dict[str, float]:
    gen = torch.Generator().manual_seed(0)
    directions = true_directions(gen)
    x, y = make_data(250, directions, gen)
    x_test, y_test = make_data(2000, directions, gen)

    def fresh_network() -> ModularMLP:
        return ModularMLP(10, n_modules=2, module_dim=1, hidden=(32, 32), generator=torch.Generator().manual_seed(7))

    rule = KernelRuleConfig(kernel="rbf", steps=60, batch_size=128, joint_restarts=3)
    network = fresh_network()
    found = find_projections(
        x, y, rule, 2, 1, [torch.Generator().manual_seed(i) for i in range(3)], stack_module_layers(network.blocks)
    )
    with torch.no_grad():
        network.projections.copy_(found.projections)
    overlaps = best_overlaps(directions, found.projections)

    results = {"overlap_module_1": float(overlaps[0]), "overlap_module_2": float(overlaps[1])}
    for name, model in (("kernel rule", network), ("random start", fresh_network())):
        train(model, x, y)
        with torch.no_grad():
            results[f"test_nmse {name}"] = float(((model(x_test).squeeze(-1) - y_test) ** 2).mean() / y_test.var())
    return results


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key:>26}: {value:.3f}")
