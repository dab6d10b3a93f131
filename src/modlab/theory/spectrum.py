"""Eigenvalue spectra of paper A's linear random-features model.

A task of intrinsic dimension ``dim`` has target coefficients ``θ ~ N(0, Λ(dim))`` on white features.
Three families, all with total power ``scale`` (= Tr Λ, the variance of the target):

- ``power_increment`` (the paper preset): ``λ_i = c[i^(−a) − (i+1)^(−a)]`` with ``a = Ω^(−dim)``;
  infinitely many features, ``Tr Λ₂(p) = c (p+1)^(−a)``. The samples needed for a target loss then
  grow faster than exponentially in ``dim``.
- ``equal``: ``N(dim) = round(Ω^dim)`` features of weight ``c / N(dim)`` (log samples linear in dim).
- ``truncated_power``: ``λ_i ∝ i^(−alpha)`` for ``i ≤ N(dim)``, normalised to total ``c``.

``Ω`` (``omega``) = 1.2 reproduces the shape of the paper's Fig. 3, a modlab estimate: the samples
needed for test loss 0.3 then grow from 28 at m = 2 to 7.7·10³ at m = 9, log n convex in m.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import zeta

SpectrumFamily = Literal["power_increment", "equal", "truncated_power"]
EULER_MACLAURIN_START = 64


@dataclass(frozen=True)
class Spectrum:
    """A family of spectra indexed by task dimension. Fields: family, scale c, omega Ω, alpha."""

    family: SpectrumFamily = "power_increment"
    scale: float = 1.0
    omega: float = 1.2
    alpha: float = 1.5

    def __post_init__(self) -> None:
        if self.family not in ("power_increment", "equal", "truncated_power"):
            raise ValueError(f"spectrum.family = {self.family!r}: allowed power_increment, equal, truncated_power")
        if not self.scale > 0:
            raise ValueError(f"spectrum.scale = {self.scale}: must be > 0")
        if not self.omega > 1:
            raise ValueError(f"spectrum.omega = {self.omega}: must be > 1")
        if not self.alpha > 0:
            raise ValueError(f"spectrum.alpha = {self.alpha}: must be > 0")

    def n_features(self, dim: np.ndarray | float) -> np.ndarray:
        """Number of non-zero eigenvalues: ``round(Ω^dim)`` (infinite for power_increment)."""
        dim = np.asarray(dim, dtype=float)
        if self.family == "power_increment":
            return np.full(dim.shape, np.inf)
        return np.maximum(np.round(self.omega**dim), 1.0)

    def head_trace(self, dim: np.ndarray | float, p: np.ndarray | float) -> np.ndarray:
        """``Tr Λ₁``: total power of the first ``p`` eigenvalues (broadcast over dim and p)."""
        dim, p = np.broadcast_arrays(np.asarray(dim, dtype=float), np.asarray(p, dtype=float))
        return self.scale - self.tail_trace(dim, p)

    def tail_trace(self, dim: np.ndarray | float, p: np.ndarray | float) -> np.ndarray:
        """``Tr Λ₂``: total power beyond the first ``p`` eigenvalues (broadcast over dim and p)."""
        dim, p = np.broadcast_arrays(np.asarray(dim, dtype=float), np.asarray(p, dtype=float))
        if self.family == "power_increment":
            return self.scale * (p + 1.0) ** (-(self.omega ** (-dim)))
        count = self.n_features(dim)
        if self.family == "equal":
            return self.scale * np.maximum(count - p, 0.0) / count
        kept = np.minimum(p, count)
        return self.scale * (1.0 - _harmonic(kept, self.alpha) / _harmonic(count, self.alpha))

    def eigenvalues(self, dim: np.ndarray | float, count: int) -> np.ndarray:
        """The first ``count`` eigenvalues ``λ_1 ≥ … ≥ λ_count`` (zeros past the spectrum's end)."""
        index = np.arange(1, count + 1, dtype=float)
        return self.tail_trace(dim, index - 1) - self.tail_trace(dim, index)


def _harmonic(n: np.ndarray, alpha: float) -> np.ndarray:
    """Generalised harmonic number ``H(n, α) = Σ_{i ≤ n} i^(−α)``, elementwise, for any finite n ≥ 0.

    ``α > 1``: ``ζ(α) − ζ(α, n + 1)`` (Hurwitz zeta; scipy's is nan for α ≤ 1). Otherwise the terms
    below ``EULER_MACLAURIN_START`` are summed exactly and the rest by Euler–Maclaurin with three
    Bernoulli corrections, whose remainder is below ``1e-15`` of the sum.
    """
    n = np.floor(np.asarray(n, dtype=float))
    if alpha > 1:
        return np.where(n > 0, zeta(alpha, 1) - zeta(alpha, n + 1), 0.0)
    start = EULER_MACLAURIN_START
    exact = np.concatenate([[0.0], np.cumsum(np.arange(1, start, dtype=float) ** -alpha)])
    head = exact[np.minimum(n, start - 1).astype(int)]
    return np.where(n < start, head, exact[-1] + _euler_maclaurin_sum(np.maximum(n, start), start, alpha))


def _euler_maclaurin_sum(stop: np.ndarray, start: int, alpha: float) -> np.ndarray:
    """``Σ_{start ≤ i ≤ stop} i^(−α)``: integral, end-point terms, and B₂, B₄, B₆ corrections."""
    a, b = float(start), stop
    integral = np.log(b / a) if alpha == 1 else (b ** (1 - alpha) - a ** (1 - alpha)) / (1 - alpha)
    total = integral + (a**-alpha + b**-alpha) / 2
    # f^(2k−1)(x) = −α(α+1)…(α+2k−2) x^(−α−2k+1); coefficient B_2k / (2k)!
    for k, bernoulli in ((1, 1 / 12), (2, -1 / 720), (3, 1 / 30240)):
        rising = np.prod(alpha + np.arange(2 * k - 1))
        power = -alpha - 2 * k + 1
        total = total + bernoulli * (-rising) * (b**power - a**power)
    return total
