"""Exact learning dynamics of linear networks on paper B's dataset space (docs/specialization.md §4), numpy only.

Σx shares its eigenvectors with the right singular vectors of Σyx, so training decouples into
three effective modes (π1 systematic, π2 systematic input whose output was dropped, π3
non-systematic), each with a singular value ``s`` of Σyx, an eigenvalue ``d`` of Σx and a
multiplicity. A mode's strength ``u`` follows ``τ du/dt = D u^{2−2/D} (s − d u)`` for a balanced
depth-``D`` network (``D = 2``: a closed-form sigmoid; ``D = 1``: ``τ du/dt = s − d u``, an
exponential; ``D > 2``: integrated numerically with ``scipy.integrate.solve_ivp``, Saxe et al.
2014), with fixed point ``s/d``. Time ``t`` is in epochs and ``τ = 1/(P·lr)``.

Training takes discrete steps of size ``1/τ``; :func:`discretisation_gap` measures how far the
discrete map of one balanced mode departs from the continuous curve, which grows with ``P·lr``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from modlab.theory.crossing import first_crossing

ODE_RTOL = 1e-10  # solve_ivp tolerances for depth > 2, on v = log u
ODE_ATOL = 1e-12


@dataclass(frozen=True)
class Point:
    """A point ``(n1, n2, k1, k2, r)`` of the dataset space with ``P`` data points."""

    n1: int
    n2: int
    k1: int
    k2: int
    r: float
    n_points: int

    @property
    def a(self) -> float:
        """A = k1 r² + P."""
        return self.k1 * self.r**2 + self.n_points

    @property
    def b(self) -> float:
        """B = k2 r² + P."""
        return self.k2 * self.r**2 + self.n_points


@dataclass(frozen=True)
class Mode:
    """One effective mode: singular value ``s`` of Σyx, eigenvalue ``d`` of Σx, ``multiplicity``."""

    name: str
    s: float
    d: float
    multiplicity: int

    @property
    def fixed_point(self) -> float:
        return self.s / self.d


def second_moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Σx = X Xᵀ / P`` and ``Σyx = Y Xᵀ / P`` for columns-as-points ``x`` (n_in, P), ``y`` (n_out, P)."""
    n_points = x.shape[1]
    return x @ x.T / n_points, y @ x.T / n_points


def input_eigenvalues(p: Point) -> np.ndarray:
    """Closed-form nonzero eigenvalues of Σx, descending, with multiplicity."""
    d1 = np.full(p.n1, p.a / p.n_points)
    d3 = np.full(p.n_points - p.n1, p.k1 * p.r**2 / p.n_points)
    values = np.concatenate([d1, d3])
    return values[values > 0]


def modes(p: Point) -> list[Mode]:
    """Closed-form modes of Σyx with nonzero singular value (π1, π2, π3 where present)."""
    P = p.n_points
    candidates = [
        Mode("pi1", np.sqrt(p.a * p.b) / P, p.a / P, p.n2),
        Mode("pi2", np.sqrt(p.a * p.k2 * p.r**2) / P, p.a / P, p.n1 - p.n2),
        Mode("pi3", np.sqrt(p.k1 * p.k2) * p.r**2 / P, p.k1 * p.r**2 / P, P - p.n1),
    ]
    return [m for m in candidates if m.multiplicity > 0 and m.s > 0]


def singular_values(p: Point) -> np.ndarray:
    """Closed-form nonzero singular values of Σyx, descending, with multiplicity."""
    values = np.concatenate([np.full(m.multiplicity, m.s) for m in modes(p)] or [np.zeros(0)])
    return np.sort(values)[::-1]


def numerical_spectrum(sigma_x: np.ndarray, sigma_yx: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero eigenvalues of Σx and singular values of Σyx from ``eigvalsh``/``svd``, descending."""
    eig = np.sort(np.linalg.eigvalsh(sigma_x))[::-1]
    sv = np.linalg.svd(sigma_yx, compute_uv=False) if sigma_yx.size else np.zeros(0)
    return eig[eig > tol], sv[sv > tol]


def mode_basis(sigma_yx: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Singular vectors of Σyx with nonzero singular value: U (n_out, m), s (m,), V (n_in, m)."""
    u, s, vt = np.linalg.svd(sigma_yx, full_matrices=False)
    keep = s > tol
    return u[:, keep], s[keep], vt[keep].T


def group_of(s_values: np.ndarray, p: Point) -> np.ndarray:
    """For each numerical singular value, the index (into :func:`modes`) of the closed-form mode it
    belongs to (nearest ``s``; ties of equal ``s`` go to the first)."""
    ms = np.array([m.s for m in modes(p)])
    return np.abs(np.asarray(s_values)[:, None] - ms[None, :]).argmin(axis=1)


def trajectory(s, d, u0, t, tau: float, depth: int = 2) -> np.ndarray:
    """Mode strength ``u(t)`` of a balanced depth-``depth`` linear network from ``u(0) = u0``.

    ``s``, ``d``, ``u0`` broadcast against each other (a mode axis); ``t`` (T,) epochs. Returns an
    array of shape ``broadcast(s, d, u0).shape + (T,)``.
    """
    s, d, u0 = np.broadcast_arrays(*(np.asarray(v, float) for v in (s, d, u0)))
    t = np.asarray(t, float)
    s_, d_, u0_ = s[..., None], d[..., None], u0[..., None]
    if depth == 1:
        decay = np.exp(-d_ * t / tau)
        return (s_ / d_) * (1 - decay) + u0_ * decay
    if depth == 2:
        return (s_ / d_) / (1 - (1 - s_ / (d_ * u0_)) * np.exp(-2 * s_ * t / tau))
    return _integrate_deep(s, d, u0, t, tau, depth)


def _integrate_deep(s, d, u0, t, tau, depth):
    """``dv/dt = D e^{v(1−2/D)} (s − d e^v)/τ`` in ``v = log u`` (u spans many decades), every
    mode at once, by ``solve_ivp`` (DOP853, relative tolerance 1e-10, absolute 1e-12 in v; the
    modes' equations are independent, so one solve carries them all). ``t`` (T,) ascending, ≥ 0."""
    power = 1 - 2 / depth
    s_flat, d_flat = s.ravel(), d.ravel()

    def rate(_, v):
        u = np.exp(v)
        return depth * u**power * (s_flat - d_flat * u) / tau

    t = np.asarray(t, float)
    solution = solve_ivp(
        rate, (0.0, float(t[-1])), np.log(u0).ravel(), method="DOP853", t_eval=t, rtol=ODE_RTOL, atol=ODE_ATOL
    )
    if not solution.success:
        raise RuntimeError(f"mode ODE (depth {depth}, τ = {tau:g}): {solution.message}")
    return np.exp(solution.y).reshape(s.shape + t.shape)


def discrete_trajectory(s: float, d: float, u0: float, rate: float, epochs: int, depth: int = 2) -> np.ndarray:
    """Strength of one balanced mode under the discrete steps training takes, epochs 0…``epochs``.

    Each of the ``D`` layers carries ``a = u^{1/D}`` and moves by ``rate · a^{D−1} (s − d u)``
    (``rate = 1/τ``); depth 1 is ``u ← u + rate (s − d u)``. Returns (epochs + 1,)."""
    a = u0 ** (1 / depth)
    out = np.empty(epochs + 1)
    out[0] = u0
    for epoch in range(1, epochs + 1):
        u = a**depth
        a = a + rate * a ** (depth - 1) * (s - d * u)
        out[epoch] = a**depth
    return out


def discretisation_gap(s: float, d: float, u0: float, rate: float, epochs: int, depth: int = 2) -> float:
    """``max_t |u_discrete(t) − u_theory(t)| / (s/d)`` over epochs 0…``epochs``, the theory curve
    started, as the figures start it, from the effective u0 that matches the discrete curve's
    half-rise time (depth 1: from ``u0``). NaN when the discrete curve never reaches half ``s/d``."""
    t = np.arange(epochs + 1, dtype=float)
    tau, fixed = 1 / rate, s / d
    discrete = discrete_trajectory(s, d, u0, rate, epochs, depth)
    if depth == 1:
        start = u0
    else:
        half = first_crossing(t, discrete, fixed / 2, direction="up", log=False)
        if half.censored == "right":
            return float("nan")
        start = u0 if half.censored == "left" else float(effective_u0(s, d, half.value, tau, depth))
    theory = trajectory(s, d, start, t, tau, depth)
    return float(np.abs(discrete - theory).max() / fixed)


def effective_u0(s: float, d: float, t_level, tau: float, depth: int = 2, level: float | None = None) -> np.ndarray:
    """The starting strength whose theory curve reaches ``level`` (default half the fixed point,
    ``s/2d``) at time ``t_level`` (scalar or array of times; ``level < s/d``).

    Depth 2 inverts the sigmoid: ``u0 = (s/d) / (1 + (s/(d·level) − 1) e^{2 s t/τ})``. Deeper
    networks invert the time to reach ``level``, ``τ ∫ du / (D u^{2−2/D} (s − d u))``, tabulated
    on a fine grid of ``log u0``. (Depth 1 has no plateau: its u0 is the simulated value at t = 0.)
    """
    level = s / (2 * d) if level is None else level
    t_level = np.asarray(t_level, float)
    if depth == 1:
        raise ValueError("depth 1 (shallow): the effective u0 is the simulated strength at t = 0")
    if depth == 2:
        return (s / d) / (1 + (s / (d * level) - 1) * np.exp(2 * s * t_level / tau))
    log_u = np.linspace(np.log(level) - 80, np.log(level), 200_001)
    u = np.exp(log_u)
    integrand = tau / (depth * u ** (1 - 2 / depth) * (s - d * u))
    steps = (integrand[1:] + integrand[:-1]) / 2 * np.diff(log_u)
    time_from = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])  # time from u to level, decreasing
    return np.exp(np.interp(t_level, time_from[::-1], log_u[::-1]))


def quadrant_norms_theory(p: Point, pi1, pi2, pi3) -> dict[str, np.ndarray]:
    """Frobenius norms of the four quadrants of the dense network's map from its mode strengths
    (arrays broadcast; a missing mode's strength is ignored). Keys ``oy_ox``, ``oy_gx``,
    ``gy_ox``, ``gy_gx`` (rows Ωy/Γy, columns Ωx/Γx)."""
    A, B, P = p.a, p.b, p.n_points
    present = {m.name for m in modes(p)}
    pi1, pi2, pi3 = (np.asarray(v, float) * (name in present) for v, name in ((pi1, "pi1"), (pi2, "pi2"), (pi3, "pi3")))
    k1r2, k2r2 = p.k1 * p.r**2, p.k2 * p.r**2
    return {
        "oy_ox": np.sqrt(p.n2 * P**2 / (A * B)) * pi1,
        "oy_gx": np.sqrt(p.n2 * P * k1r2 / (A * B)) * pi1,
        "gy_ox": np.sqrt(k2r2 * p.n2 * P / (A * B) * pi1**2 + (p.n1 - p.n2) * P / A * pi2**2),
        "gy_gx": np.sqrt(
            k2r2 * p.n2 * k1r2 / (A * B) * pi1**2 + (p.n1 - p.n2) * k1r2 / A * pi2**2 + (P - p.n1) * pi3**2
        ),
    }


def loss_theory(p: Point, pi1, pi2, pi3) -> np.ndarray:
    """Training loss (squared error summed over outputs, mean over points) of a mode-aligned map
    with the given strengths: ``tr Σy + Σ_α mult_α (d_α u_α² − 2 s_α u_α)``, ``tr Σy = n2 + k2 r²``."""
    strengths = {"pi1": pi1, "pi2": pi2, "pi3": pi3}
    total = np.asarray(p.n2 + p.k2 * p.r**2, float)
    for m in modes(p):
        u = np.asarray(strengths[m.name], float)
        total = total + m.multiplicity * (m.d * u**2 - 2 * m.s * u)
    return total


def min_norm_map(x_train: np.ndarray, y_train: np.ndarray) -> np.ndarray:
    """The map ``W* = Y X⁺`` (n_out, n_in) that gradient flow from a small start converges to:
    it fits the training columns and is zero on directions no training input spans."""
    return y_train @ np.linalg.pinv(x_train)


def fixed_points(p: Point) -> dict[str, float]:
    """``s/d`` of every present mode: π1* = √(B/A), π2* = √(k2 r²/A), π3* = √(k2/k1)."""
    return {m.name: m.fixed_point for m in modes(p)}


def module_points(architecture: str, p: Point) -> dict[str, Point]:
    """The dataset point each module of an architecture learns, by role.

    ``dense``: one module on ``p``. ``split``: ``systematic`` (outputs Ωy, all inputs: ``k2 = 0``)
    and ``nonsystematic`` (outputs Γy, all inputs: ``n2 = 0``). ``segregated``: as split, but the
    systematic module sees only Ωx (``k1 = k2 = 0``). Modules without outputs are left out.
    """
    if architecture == "dense":
        return {"dense": p}
    sys_k1 = 0 if architecture == "segregated" else p.k1
    points = {
        "systematic": Point(p.n1, p.n2, sys_k1, 0, p.r, p.n_points),
        "nonsystematic": Point(p.n1, 0, p.k1, p.k2, p.r, p.n_points),
    }
    has_rows = {"systematic": p.n2 > 0, "nonsystematic": p.k2 > 0}
    return {role: q for role, q in points.items() if has_rows[role]}
