"""Data of paper A's linear random-features model (spec A §1): Gaussian features and targets.

One problem has ``N = d·n`` equations (``d`` outputs per sample, each output its own feature row).
The modelled block has ``p`` features ``Φ₁ = G·diag(√feature_var)`` (``G`` standard Gaussian) and
coefficients ``θ₁ ~ N(0, diag(coef_var))``. The unmodelled features enter only through ``Φ₂θ₂``,
which given ``θ₂`` is ``N(0, ‖θ₂‖²)`` row-wise; it is drawn that way (with ``‖θ₂‖²`` at its mean
``Tr Λ₂``, which leaves every expected loss unchanged) instead of materialising an infinite ``Φ₂``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RFProblem:
    """A batch of S independent problems. Shapes: features (S, N, p), targets (S, N), coef (S, p)."""

    features: torch.Tensor
    targets: torch.Tensor
    coef: torch.Tensor


def sample_rf_problems(
    coef_var: torch.Tensor,
    feature_var: torch.Tensor,
    residual_var: float,
    n_eqs: int,
    generators: list[torch.Generator],
) -> RFProblem:
    """Draw one problem per generator. ``coef_var``, ``feature_var``: (p,); ``residual_var`` is
    ``Tr Λ₂ + σ²``, the variance of what the modelled features cannot explain."""
    p = coef_var.numel()
    features, targets, coefs = [], [], []
    for gen in generators:
        coef = torch.randn(p, generator=gen, dtype=torch.float64) * coef_var.sqrt()
        design = torch.randn(n_eqs, p, generator=gen, dtype=torch.float64) * feature_var.sqrt()
        residual = torch.randn(n_eqs, generator=gen, dtype=torch.float64) * residual_var**0.5
        features.append(design)
        targets.append(design @ coef + residual)
        coefs.append(coef)
    return RFProblem(torch.stack(features), torch.stack(targets), torch.stack(coefs))
