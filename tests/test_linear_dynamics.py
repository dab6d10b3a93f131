import itertools

import numpy as np
import pytest

from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset
from modlab.theory import (
    Point,
    discrete_trajectory,
    discretisation_gap,
    effective_u0,
    first_crossing,
    fixed_points,
    input_eigenvalues,
    loss_theory,
    mode_basis,
    modes,
    module_points,
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
    t_half = first_crossing(t, u, s / (2 * d), direction="up", log=False).value
    assert np.isfinite(t_half)
    assert effective_u0(s, d, t_half, tau, depth) == pytest.approx(3e-4, rel=2e-3)
    with pytest.raises(ValueError, match="depth 1"):
        effective_u0(s, d, t_half, tau, depth=1)


def test_deeper_networks_have_longer_plateaus():
    t = np.arange(0, 400.0)
    half = [
        first_crossing(t, trajectory(1.0, 1.0, 1e-3, t, 6.25, depth), 0.5, direction="up", log=False).value
        for depth in (2, 3, 4)
    ]
    assert half[0] < half[1] < half[2]


def test_deep_ode_gives_the_numbers_the_fixed_step_integrator_gave():
    """Values of the former RK4 (20 steps per epoch), which was accurate at this τ, to 1e-7."""
    from modlab.theory.linear_dynamics import _integrate_deep

    t = np.array([0, 10, 20, 30, 40, 60, 80, 120.0])
    depth3 = _integrate_deep(np.array([0.9, 0.3]), np.array([1.2, 0.4]), np.array([1e-2, 1e-2]), t, 6.25, 3)
    assert depth3 == pytest.approx(
        np.array(
            [
                [0.01, 0.0295321936, 0.1400701442, 0.6172221011, 0.7466066604, 0.7499986694, 0.7499999995, 0.75],
                [0.01, 0.0137996209, 0.0197468878, 0.0295321936, 0.04659282, 0.1400701442, 0.4432504967, 0.7466066605],
            ]
        ),
        rel=1e-7,
    )
    depth4 = _integrate_deep(np.array([0.9]), np.array([1.2]), np.array([3e-2]), t, 6.25, 4)
    assert depth4[0] == pytest.approx(
        [0.03, 0.1034107132, 0.5694437124, 0.7481182277, 0.7499871235, 0.7499999994, 0.75, 0.75], rel=1e-7
    )


def test_deep_ode_holds_its_tolerance_where_a_fixed_step_would_not():
    """τ = 0.01 epochs (a fast mode): a step of 1/20 epoch is far past RK4's stability limit."""
    from modlab.theory.linear_dynamics import _integrate_deep

    t = np.linspace(0, 0.2, 41)
    s, d = np.array([0.9, 0.2]), np.array([1.2, 0.4])
    numeric = _integrate_deep(s, d, np.array([1e-5, 1e-5]), t, 0.01, 2)
    assert numeric == pytest.approx(trajectory(s, d, 1e-5, t, 0.01, depth=2), rel=1e-7)


def test_the_discrete_map_approaches_the_continuous_theory_as_the_step_shrinks():
    point = Point(5, 1, 4, 2, 2.0, 32)
    pi1 = modes(point)[0]
    gaps = [discretisation_gap(pi1.s, pi1.d, 1e-6, 32 * lr, int(6 / lr)) for lr in (0.02, 0.005, 0.001)]
    assert gaps[0] == pytest.approx(0.18, abs=0.01)  # P·lr = 0.64
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.01
    shallow = discrete_trajectory(0.9, 1.2, 0.0, 0.1, 50, depth=1)
    assert shallow == pytest.approx(0.75 * (1 - (1 - 0.12) ** np.arange(51)))
    assert np.isnan(discretisation_gap(0.9, 1.2, 1e-9, 0.01, 5))  # never reaches half in 5 epochs


def test_module_points_of_each_architecture():
    p = Point(3, 1, 3, 1, 1.0, 8)
    assert module_points("dense", p) == {"dense": p}
    split = module_points("split", p)
    assert (split["systematic"].k2, split["nonsystematic"].n2) == (0, 0)
    assert module_points("segregated", p)["systematic"].k1 == 0
    assert list(module_points("split", Point(3, 0, 3, 1, 1.0, 8))) == ["nonsystematic"]
