import itertools

import numpy as np
import pytest

from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset
from modlab.theory import (
    Point,
    crossing_time,
    effective_u0,
    fixed_points,
    input_eigenvalues,
    loss_theory,
    mode_basis,
    module_points,
    modes,
    numerical_spectrum,
    quadrant_norms,
    quadrant_norms_theory,
    second_moments,
    singular_values,
    trajectory,
)

GRID = [
    p
    for p in itertools.product([0, 1, 2, 3, 4], [0, 1, 2, 3], [0, 1, 3], [0, 1, 2], [0.5, 1.0, 2.0])
    if p[1] <= p[0] and p[0] + p[2] > 0 and p[1] + p[3] > 0
]


def moments_of(n1, n2, k1, k2, r, **extra):
    cfg = DatasetSpaceConfig(n1=n1, n2=n2, k1=k1, k2=k2, r=r, **extra)
    data = make_dataset(cfg)
    return Point(n1, n2, k1, k2, r, cfg.n_points), *second_moments(data.x.numpy(), data.y.numpy())


@pytest.mark.parametrize("n1, n2, k1, k2, r", GRID)
def test_closed_forms_equal_numerical_svd(n1, n2, k1, k2, r):
    point, sigma_x, sigma_yx = moments_of(n1, n2, k1, k2, r)
    eig, sv = numerical_spectrum(sigma_x, sigma_yx)
    assert eig == pytest.approx(input_eigenvalues(point), abs=1e-10)
    assert sv == pytest.approx(singular_values(point), abs=1e-10)


def test_closed_forms_hold_with_more_points_than_systematic_features():
    point, sigma_x, sigma_yx = moments_of(1, 1, 2, 1, 1.5, n_features=3)
    eig, sv = numerical_spectrum(sigma_x, sigma_yx)
    assert eig == pytest.approx(input_eigenvalues(point)) and sv == pytest.approx(singular_values(point))


def test_default_modes_and_fixed_points():
    point = Point(3, 1, 3, 1, 1.0, 8)
    assert [(m.name, m.multiplicity) for m in modes(point)] == [("pi1", 1), ("pi2", 2), ("pi3", 5)]
    fixed = fixed_points(point)
    assert fixed["pi1"] == pytest.approx(np.sqrt(9 / 11)) and fixed["pi2"] == pytest.approx(np.sqrt(1 / 11))
    assert fixed["pi3"] == pytest.approx(np.sqrt(1 / 3))
    assert [m.name for m in modes(Point(3, 1, 3, 0, 1.0, 8))] == ["pi1"]


@pytest.mark.parametrize(
    "n1, n2, k1, k2, r", [(3, 1, 3, 1, 1.0), (3, 2, 1, 2, 2.0), (2, 0, 2, 1, 0.5), (4, 4, 1, 1, 1.0), (3, 1, 0, 1, 1.0)]
)
def test_quadrant_norms_closed_form_match_the_mode_sum(n1, n2, k1, k2, r):
    point, sigma_x, sigma_yx = moments_of(n1, n2, k1, k2, r)
    u, s, v = mode_basis(sigma_yx)
    strengths = {"pi1": 0.37, "pi2": 0.21, "pi3": 0.64}
    names = [modes(point)[g].name for g in np.abs(s[:, None] - np.array([m.s for m in modes(point)])).argmin(1)]
    w = (u * np.array([strengths[n] for n in names])) @ v.T
    data = make_dataset(DatasetSpaceConfig(n1=n1, n2=n2, k1=k1, k2=k2, r=r))
    simulated = quadrant_norms(w, *(t.numpy() for t in (data.omega_x, data.gamma_x, data.omega_y, data.gamma_y)))
    theory = quadrant_norms_theory(point, strengths["pi1"], strengths["pi2"], strengths["pi3"])
    for q in simulated:
        assert simulated[q] == pytest.approx(theory[q], abs=1e-10)
    loss = np.mean(np.sum((w @ data.x.numpy() - data.y.numpy()) ** 2, axis=0))
    assert loss == pytest.approx(loss_theory(point, strengths["pi1"], strengths["pi2"], strengths["pi3"]))


def test_dense_fixed_point_systematic_share_is_p_over_k1r2_plus_p():
    point = Point(3, 1, 3, 1, 1.0, 8)
    fixed = fixed_points(point)
    q = quadrant_norms_theory(point, fixed["pi1"], fixed["pi2"], fixed["pi3"])
    share = q["oy_ox"] ** 2 / (q["oy_ox"] ** 2 + q["oy_gx"] ** 2)
    assert share == pytest.approx(8 / 11) and q["oy_gx"] > 0.4


def test_sigmoid_solves_the_mode_ode():
    s, d, u0, tau = 0.9, 1.3, 1e-4, 6.25
    t = np.linspace(0, 100, 2001)
    u = trajectory(s, d, u0, t, tau)
    rhs = 2 * u * (s - d * u) / tau
    assert np.gradient(u, t)[1:-1] == pytest.approx(rhs[1:-1], abs=2e-4)
    assert u[0] == pytest.approx(u0) and u[-1] == pytest.approx(s / d, rel=1e-6)


def test_numerical_ode_matches_the_closed_form_at_depth_2_and_shallow_is_exponential():
    t = np.arange(0, 301.0)
    closed = trajectory([0.9, 0.2], [1.2, 0.4], 1e-5, t, 6.25, depth=2)
    from modlab.theory.linear_dynamics import _integrate_deep

    numeric = _integrate_deep(np.array([0.9, 0.2]), np.array([1.2, 0.4]), np.array([1e-5, 1e-5]), t, 6.25, 2)
    assert numeric == pytest.approx(closed, abs=1e-6)
    shallow = trajectory(0.9, 1.2, 0.1, t, 6.25, depth=1)
    assert shallow == pytest.approx(0.75 + (0.1 - 0.75) * np.exp(-1.2 * t / 6.25))


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_effective_u0_inverts_the_trajectory(depth):
    s, d, tau = 0.8, 1.1, 6.25
    t = np.arange(0, 2001.0)
    u = trajectory(s, d, 3e-4, t, tau, depth)
    t_half = crossing_time(t, u, s / (2 * d))
    assert np.isfinite(t_half)
    assert effective_u0(s, d, t_half, tau, depth) == pytest.approx(3e-4, rel=2e-3)
    with pytest.raises(ValueError, match="depth 1"):
        effective_u0(s, d, t_half, tau, depth=1)


def test_deeper_networks_have_longer_plateaus():
    t = np.arange(0, 400.0)
    half = [crossing_time(t, trajectory(1.0, 1.0, 1e-3, t, 6.25, depth), 0.5) for depth in (2, 3, 4)]
    assert half[0] < half[1] < half[2]


def test_crossing_time_interpolates_and_reports_never():
    assert crossing_time(np.array([0, 1, 2.0]), np.array([0, 1, 2.0]), 1.5) == pytest.approx(1.5)
    assert np.isnan(crossing_time(np.array([0, 1.0]), np.array([0, 0.1]), 1.0))


def test_module_points_of_each_architecture():
    p = Point(3, 1, 3, 1, 1.0, 8)
    assert module_points("dense", p) == {"dense": p}
    split = module_points("split", p)
    assert (split["systematic"].k2, split["nonsystematic"].n2) == (0, 0)
    assert module_points("segregated", p)["systematic"].k1 == 0
    assert list(module_points("split", Point(3, 0, 3, 1, 1.0, 8))) == ["nonsystematic"]
