"""The appendix's other learning rules: gradient flow plus local terms, two layers.

With ``H = W1 X`` (hidden activity over the batch of ``P`` points) and ``Ŷ = W2 H``:

- W2 gains the term ``γ (Y Yᵀ − Ŷ Ŷᵀ) W2``;
- W1 gains Oja's subspace term ``ν H (Xᵀ − Hᵀ W1)`` when ν > 0 (Hebbian), or
  ``ν diag(1/(1 − ‖row_i W1‖²)) H Xᵀ`` when ν < 0 (anti-Hebbian).

How the terms are scaled, :data:`Scaling`:

- ``"batch_sums"`` (default, as in the paper's code): ``Y Yᵀ``, ``Ŷ Ŷᵀ`` and ``H Xᵀ`` are sums over
  the batch (``P · Σ``), the γ term is multiplied by the step ``1/τ`` like the gradient, and the ν term
  is added as it is, without ``1/τ``;
- ``"means_times_rate"``: the same products divided by ``P`` (the moments ``Σ``) and both terms
  multiplied by ``1/τ``. At the default point this makes the γ term 8× and the ν term 100× weaker
  than the paper's.

The functions work on numpy arrays and torch tensors alike (with a leading member axis or without),
so the batched trainer and the plain reference loop share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modlab.rules.gradient_flow import ExtraTerms, Moments

Scaling = Literal["batch_sums", "means_times_rate"]
SCALINGS: tuple[Scaling, ...] = ("batch_sums", "means_times_rate")


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


def local_terms(gamma: float, nu: float, scaling: Scaling = "batch_sums") -> ExtraTerms | None:
    """The increments ``extra(weights, moments, rate)`` a two-layer module gains per step for
    ``(γ, ν)``; ``None`` for plain gradient flow. ``rate`` is the step ``1/τ``."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling = {scaling!r}: allowed {', '.join(SCALINGS)}")
    if gamma == 0 and nu == 0:
        return None

    def extra(weights: list, m: Moments, rate: float) -> list:
        if len(weights) != 2:
            raise ValueError(f"the local learning rules need depth 2, got depth {len(weights)}")
        w1, w2 = weights
        if scaling == "batch_sums":
            batch, gamma_step, nu_step = m.n_points, rate, 1.0
        else:
            batch, gamma_step, nu_step = 1, rate, rate
        hidden_input = batch * (w1 @ m.sigma_x)  # H Xᵀ (batch sums) or H Xᵀ / P
        if nu > 0:
            d_w1 = nu * (hidden_input - hidden_input @ w1.mT @ w1)  # H Hᵀ W1 = H Xᵀ W1ᵀ W1
        else:
            d_w1 = nu * hidden_input / (1 - (w1**2).sum(-1))[..., None]
        total = w2 @ w1
        d_w2 = gamma * batch * (m.sigma_y - total @ m.sigma_x @ total.mT) @ w2  # (Y Yᵀ − Ŷ Ŷᵀ) W2
        return [nu_step * d_w1, gamma_step * d_w2]

    return extra
