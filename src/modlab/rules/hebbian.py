"""The appendix's other learning rules (spec B §3): gradient flow plus local terms, two layers.

With ``H = W1 X`` and the moments divided by the number of points:

- W2 gains ``γ (Y Yᵀ − Ŷ Ŷᵀ) W2 / P = γ (Σy − W Σx Wᵀ) W2``;
- W1 gains Oja's subspace term ``ν H (Xᵀ − Hᵀ W1) / P = ν (W1 Σx − W1 Σx W1ᵀ W1)`` when ν > 0
  (Hebbian), or ``ν diag(1/(1 − ‖row_i W1‖²)) H Xᵀ / P = ν diag(…) W1 Σx`` when ν < 0
  (anti-Hebbian).

Both terms are scaled by the same ``1/τ`` as the gradient. The functions work on numpy arrays and
torch tensors alike (with a leading member axis or without), so the batched trainer and the plain
reference loop share them.
"""

from __future__ import annotations

from dataclasses import dataclass

from modlab.rules.gradient_flow import ExtraTerms, Moments


@dataclass(frozen=True)
class RuleSetting:
    """One of the appendix's rules with the paper's learning rate and epochs."""

    gamma: float
    nu: float
    lr: float
    epochs: int


RULES: dict[str, RuleSetting] = {
    "gradient": RuleSetting(gamma=0.0, nu=0.0, lr=0.02, epochs=300),
    "hebbian": RuleSetting(gamma=0.0, nu=0.001, lr=0.01, epochs=1500),
    "anti_hebbian": RuleSetting(gamma=0.0, nu=-0.001, lr=0.01, epochs=1500),
    "contrastive_hebbian": RuleSetting(gamma=1.0, nu=0.0, lr=0.005, epochs=1500),
    "predictive_coding": RuleSetting(gamma=-1.0, nu=0.0, lr=0.01, epochs=3000),
}


def local_terms(gamma: float, nu: float) -> ExtraTerms | None:
    """The extra updates of a two-layer module for ``(γ, ν)``; ``None`` for plain gradient flow."""
    if gamma == 0 and nu == 0:
        return None

    def extra(weights: list, m: Moments) -> list:
        if len(weights) != 2:
            raise ValueError(f"the local learning rules need depth 2, got depth {len(weights)}")
        w1, w2 = weights
        hidden_input = w1 @ m.sigma_x  # H Xᵀ / P
        if nu > 0:
            d_w1 = nu * (hidden_input - hidden_input @ w1.mT @ w1)
        else:
            d_w1 = nu * hidden_input / (1 - (w1**2).sum(-1))[..., None]
        total = w2 @ w1
        d_w2 = gamma * (m.sigma_y - total @ m.sigma_x @ total.mT) @ w2
        return [d_w1, d_w2]

    return extra
