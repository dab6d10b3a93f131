"""Closed-form train/test loss of paper A's linear random-features model.

A target with ``d`` outputs per sample is linear in white Gaussian features,
``y = φᵀθ + ε``, ``θ ~ N(0, Λ)``, ``ε ~ N(0, σ²)``. A network with ``p`` parameters is linear in the
first ``p`` features and fitted by minimum-norm least squares (``ridge = 0``) or ridge regression on
``N = d·n`` equations. Losses are per sample, summed over the ``d`` outputs; the test loss is on fresh
noisy labels (it includes ``σ²``).

Ridge convention (modlab): minimise ``(1/N)‖y − Φθ‖² + ridge·‖θ‖²``.

Exact at finite ``N`` (``ridge = 0``, white features), with ``F = E‖R⁺‖²_F``:

- ``N ≥ p + 2``: test ``d(Tr Λ₂ + σ²)(1 + F)``, train ``d(Tr Λ₂ + σ²)(1 − p/N)``;
- ``p ≥ N + 2``: test ``d[(Tr Λ₂ + σ²)(1 + F) + Tr Λ₁(1 − N/p)]``, train ``0``;
- ``|N − p| < 2``: test infinite (the double-descent peak).

Otherwise (``ridge > 0``, or feature covariance ``Λ`` with over-parameterised fits) the losses are the
deterministic equivalent of ridge regression, exact only as ``N, p → ∞``: the result's ``exact``
flag says which points are which.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from modlab.theory.crossing import first_crossing
from modlab.theory.spectrum import Spectrum

Architecture = Literal["monolithic", "modular"]
Parameterisation = Literal["white", "feature_cov"]


def pinv_sq_norm(n_eqs: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``F(N, p) = E‖R⁺‖²_F`` for an ``N × p`` standard Gaussian ``R``; ``inf`` when ``|N − p| < 2``."""
    n_eqs, p = np.broadcast_arrays(np.asarray(n_eqs, float), np.asarray(p, float))
    value = np.full(n_eqs.shape, np.inf)
    under = n_eqs >= p + 2
    over = p >= n_eqs + 2
    value[under] = p[under] / (n_eqs[under] - p[under] - 1)
    value[over] = n_eqs[over] / (p[over] - n_eqs[over] - 1)
    return value


def min_norm_losses(n_eqs, p, head_trace, tail_trace, noise_var, n_outputs=1):
    """Exact expected (train, test) loss per sample of the min-norm fit; arrays broadcast together.

    Shapes: every argument broadcasts to a common grid shape; both results have that shape.
    """
    n_eqs, p, head, tail = np.broadcast_arrays(*(np.asarray(a, float) for a in (n_eqs, p, head_trace, tail_trace)))
    residual_var = tail + noise_var
    recovered = np.minimum(1.0, n_eqs / p)
    test = n_outputs * (residual_var * (1 + pinv_sq_norm(n_eqs, p)) + head * (1 - recovered))
    train = n_outputs * residual_var * np.maximum(1 - p / n_eqs, 0.0)
    return train, test


def ridge_losses(n_eqs, feature_eigs, target_var, tail_trace, noise_var, ridge, n_outputs=1):
    """Deterministic-equivalent (train, test) loss per sample of ridge regression (asymptotic).

    Shapes: ``feature_eigs`` and ``target_var`` are ``(G, P)`` (rows zero-padded past each point's
    number of parameters), ``n_eqs``, ``tail_trace``, ``ridge`` are ``(G,)``. Returns two ``(G,)``.
    ``κ`` solves ``1 − ridge/κ = df₁(κ)/N``; test excess ``= (κ² Σ tσ/(σ+κ)² + s²·df₂/N)/(1 − df₂/N)``
    with ``s² = Tr Λ₂ + σ²``; train ``= (1 − df₁/N)² · test``.
    """
    eigs = np.atleast_2d(np.asarray(feature_eigs, float))
    target = np.atleast_2d(np.asarray(target_var, float))
    n_eqs = np.asarray(n_eqs, float).reshape(-1)
    ridge = np.broadcast_to(np.asarray(ridge, float), n_eqs.shape)
    kappa = _solve_kappa(eigs, n_eqs, ridge)[:, None]
    ratio = eigs / (eigs + kappa)
    df1 = ratio.sum(axis=1)
    df2 = (ratio**2).sum(axis=1)
    kappa = kappa[:, 0]
    residual_var = np.asarray(tail_trace, float).reshape(-1) + noise_var
    bias = kappa**2 * (target * eigs / (eigs + kappa[:, None]) ** 2).sum(axis=1)
    test = (bias + residual_var * df2 / n_eqs) / (1 - df2 / n_eqs) + residual_var
    train = (1 - df1 / n_eqs) ** 2 * test
    return n_outputs * train, n_outputs * test


def _solve_kappa(eigs: np.ndarray, n_eqs: np.ndarray, ridge: np.ndarray, steps: int = 200) -> np.ndarray:
    """Vectorised bisection in log κ of the increasing ``h(κ) = 1 − ridge/κ − df₁(κ)/N``."""
    low = np.full(n_eqs.shape, -40.0)
    high = np.log(np.maximum(eigs.max(axis=1), ridge) * 1e6 + 1e-300)
    for _ in range(steps):
        mid = (low + high) / 2
        kappa = np.exp(mid)
        h = 1 - ridge / kappa - (eigs / (eigs + kappa[:, None])).sum(axis=1) / n_eqs
        positive = h > 0
        high = np.where(positive, mid, high)
        low = np.where(positive, low, mid)
    return np.exp(high)


def model_block(spectrum: Spectrum, architecture: Architecture, m, n_modules: int, module_dim: int, p):
    """The modelled block of a network: ``(p_total, dim, head_trace, tail_trace)``, broadcast over m, p.

    Monolithic: ``p`` parameters on the task's spectrum ``Λ(m)`` (the task's number of modules does not
    enter: the spectrum depends on m only). Modular: ``n_modules`` modules of ``p`` parameters each,
    each on its module's spectrum ``Λ(module_dim)/n_modules``, so traces are those of one module and
    m does not enter.
    """
    m, p = np.broadcast_arrays(np.asarray(m, float), np.asarray(p, float))
    if architecture == "monolithic":
        dim, p_total = m, p
    else:
        dim, p_total = np.full(m.shape, float(module_dim)), n_modules * p
    return p_total, dim, spectrum.head_trace(dim, p), spectrum.tail_trace(dim, p)


def block_eigenvalues(spectrum: Spectrum, architecture: Architecture, n_modules: int, dim: float, p: int) -> np.ndarray:
    """Eigenvalues of the modelled block, ``(p_total,)``: ``Λ₁(m)``, or ``Λ₁(b)/K`` tiled K times."""
    eigs = spectrum.eigenvalues(dim, int(p))
    if architecture == "modular":
        return np.tile(eigs / n_modules, n_modules)
    return eigs


def rf_losses(
    n: np.typing.ArrayLike,
    p: np.typing.ArrayLike,
    m: np.typing.ArrayLike,
    *,
    spectrum: Spectrum,
    architecture: Architecture = "monolithic",
    n_modules: int = 1,
    module_dim: int = 1,
    n_outputs: int = 1,
    noise: float = 0.0,
    ridge: float = 0.0,
    parameterisation: Parameterisation = "white",
) -> dict[str, np.ndarray]:
    """Expected train and test loss per sample over a grid of (n, p, m), broadcast together.

    ``p`` is the network's parameter count (monolithic) or per-module count (modular); ``m`` may be
    fractional (the spectra are continuous in the dimension). Returns ``{"train", "test", "exact"}``
    arrays of the broadcast shape (0-d for scalar arguments); ``exact`` is False where the value is the
    asymptotic deterministic equivalent.
    """
    _check_model(architecture, parameterisation, ridge)
    n, p, m = np.broadcast_arrays(np.asarray(n, float), np.asarray(p, float), np.asarray(m, float))
    shape = n.shape
    n, p, m = (a.reshape(-1) for a in (n, p, m))  # 1-d from here on: results are written by index
    p_total, dim, head, tail = model_block(spectrum, architecture, m, n_modules, module_dim, p)
    n_eqs = n_outputs * n
    noise_var = noise**2
    train, test = (np.array(a, float) for a in min_norm_losses(n_eqs, p_total, head, tail, noise_var, n_outputs))
    exact = np.full(n.shape, ridge == 0)
    if parameterisation == "feature_cov":
        exact &= n_eqs >= p_total + 2
    asymptotic = np.flatnonzero(~exact)
    if asymptotic.size:
        eigs, target = _padded_block(
            spectrum, architecture, n_modules, dim[asymptotic], p[asymptotic], parameterisation
        )
        train[asymptotic], test[asymptotic] = ridge_losses(
            n_eqs[asymptotic], eigs, target, tail[asymptotic], noise_var, ridge, n_outputs
        )
    return {"train": train.reshape(shape), "test": test.reshape(shape), "exact": exact.reshape(shape)}


def _check_model(architecture: str, parameterisation: str, ridge: float) -> None:
    if architecture not in ("monolithic", "modular"):
        raise ValueError(f"architecture = {architecture!r}: allowed monolithic, modular")
    if parameterisation not in ("white", "feature_cov"):
        raise ValueError(f"parameterisation = {parameterisation!r}: allowed white, feature_cov")
    if not ridge >= 0:
        raise ValueError(f"ridge = {ridge}: must be a number ≥ 0")


def _padded_block(spectrum, architecture, n_modules, dims, ps, parameterisation):
    """Feature eigenvalues and target variances of each point's block, zero-padded: two (G, P)."""
    blocks = [block_eigenvalues(spectrum, architecture, n_modules, d, p) for d, p in zip(dims, ps)]
    width = max(b.size for b in blocks)
    eigs, target = np.zeros((len(blocks), width)), np.zeros((len(blocks), width))
    for row, lam in enumerate(blocks):
        if parameterisation == "white":
            eigs[row, : lam.size], target[row, : lam.size] = 1.0, lam
        else:
            eigs[row, : lam.size], target[row, : lam.size] = lam, 1.0
    return eigs, target


def sample_complexity(
    target_loss: float,
    m: np.typing.ArrayLike,
    *,
    n_grid: np.ndarray,
    p_grid: np.ndarray,
    **model,
) -> dict[str, np.ndarray]:
    """Fewest samples whose best network size reaches ``test ≤ target_loss``, for each ``m``.

    The network size is tuned: for each ``n`` in ``n_grid`` the test loss is minimised over ``p_grid``;
    the answer is the first crossing of that curve (:func:`~modlab.theory.crossing.first_crossing`,
    log-log). Returns ``{"n": (M,), "p": (M,), "censored": (M,) of None | "left" | "right"}``: ``n`` is
    ``n_grid[0]`` when the grid starts below the target (left-censored) and ``nan`` when it never
    reaches it (right-censored); ``p`` is the best size at the first grid point that reaches it.
    """
    m = np.atleast_1d(np.asarray(m, float))
    n_grid = np.asarray(n_grid)
    p_grid = np.asarray(p_grid)
    grid_n, grid_p, grid_m = np.meshgrid(n_grid, p_grid, m, indexing="ij")
    test = rf_losses(grid_n, grid_p, grid_m, **model)["test"]
    best_p = p_grid[np.argmin(test, axis=1)]  # (n, m)
    best = np.min(test, axis=1)
    needed, size, censored = np.full(m.shape, np.nan), np.full(m.shape, np.nan), np.full(m.shape, None, object)
    for j in range(m.size):
        crossing = first_crossing(n_grid, best[:, j], target_loss)
        needed[j], censored[j] = crossing.value, crossing.censored
        reached = np.flatnonzero(best[:, j] <= target_loss)
        if reached.size:
            size[j] = best_p[reached[0], j]
    return {"n": needed, "p": size, "censored": censored}
