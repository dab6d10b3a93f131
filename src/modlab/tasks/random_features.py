"""Data of paper A's linear random-features model: Gaussian features and targets, drawn explicitly.

A target is a sum of ``K`` modules (``K = 1`` for a plain task), each linear in its own Gaussian
features: ``y = Σ_k Φ⁽ᵏ⁾θ⁽ᵏ⁾ + ε``, with ``Φ⁽ᵏ⁾`` of ``N`` rows (``N = d·n``: ``d`` outputs per sample,
each output its own feature row) and independent ``N(0, f_j)`` entries in column ``j``, and
``θ⁽ᵏ⁾_j ~ N(0, v_j)``. The first ``P`` features of every module are drawn explicitly; the far tail
beyond them enters through its exact conditional law: given the tail coefficients ``θ₂``, ``Φ₂θ₂`` is
``N(0, Σ_j f_j θ₂ⱼ²)`` row by row, and that variance is set to its mean (``far_tail_power``). Every
expected loss is linear in it, so this leaves them unchanged. The network sees the first ``p``
features of every module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CHUNK_ENTRIES = 4_000_000  # unmodelled explicit features are drawn in blocks of this many entries


@dataclass(frozen=True)
class RFProblem:
    """A batch of S independent problems, K modules of p modelled features each.

    Shapes: ``features`` (S, N, K·p), the modelled columns module by module; ``targets`` (S, N);
    ``coef`` (S, K·p), the true coefficients on those columns; ``unmodelled_power`` (S,), the
    population variance of the target that the modelled columns cannot explain, noise excluded:
    ``Σ_k Σ_{p < j ≤ P} f_j θ⁽ᵏ⁾_j² + far_tail_power``.
    """

    features: torch.Tensor
    targets: torch.Tensor
    coef: torch.Tensor
    unmodelled_power: torch.Tensor


def sample_rf_problems(
    coef_var: torch.Tensor,
    feature_var: torch.Tensor,
    n_modelled: int,
    far_tail_power: float,
    noise_var: float,
    n_eqs: int,
    generators: list[torch.Generator],
) -> RFProblem:
    """Draw one problem per generator.

    ``coef_var``, ``feature_var``: (K, P), the variances ``v_j`` and ``f_j`` of each module's explicit
    features; the network's are the first ``n_modelled`` of each. ``far_tail_power``: the mean
    ``Σ f_j v_j`` of all modules' features beyond ``P``; ``noise_var``: ``σ²``.
    """
    stds = coef_var.sqrt(), feature_var.sqrt()
    problems = [_one_problem(*stds, n_modelled, far_tail_power, noise_var, n_eqs, gen) for gen in generators]
    return RFProblem(*(torch.stack(parts) for parts in zip(*problems)))


def _one_problem(coef_std, feature_std, n_modelled, far_tail_power, noise_var, n_eqs, gen):
    """(features (N, K·p), targets (N,), coef (K·p,), unmodelled power ()) of one problem.

    Unmodelled features enter only through ``Φθ = G (f^½ ⊙ θ)`` with ``G`` standard Gaussian, so only
    ``G`` is drawn for them, block by block, in float32."""
    n_modules, n_explicit = coef_std.shape
    coef = torch.randn(n_modules, n_explicit, generator=gen, dtype=torch.float64) * coef_std
    signal = coef * feature_std  # (K, P): f^½ ⊙ θ
    gaussian = torch.randn(n_eqs, n_modules, n_modelled, generator=gen, dtype=torch.float64)
    modelled = (gaussian * feature_std[:, :n_modelled]).reshape(n_eqs, -1)
    targets = modelled @ coef[:, :n_modelled].reshape(-1)
    block = max(1, CHUNK_ENTRIES // (n_eqs * n_modules))
    for start in range(n_modelled, n_explicit, block):
        columns = signal[:, start : start + block]
        gaussian = torch.randn(n_eqs, columns.numel(), generator=gen, dtype=torch.float32)
        targets += (gaussian @ columns.reshape(-1).float()).double()
    targets += torch.randn(n_eqs, generator=gen, dtype=torch.float64) * (far_tail_power + noise_var) ** 0.5
    unmodelled = (signal[:, n_modelled:] ** 2).sum() + far_tail_power
    return modelled, targets, coef[:, :n_modelled].reshape(-1), unmodelled
