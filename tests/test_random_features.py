"""The closed forms of paper A's linear random-features model against Monte-Carlo simulation.

The simulation (experiment ``linear-rf``) draws features and coefficients explicitly and shares no code
with the closed forms, so agreement here is evidence, not an identity. Statements that hold by
construction of the model (the monolithic loss ignores the task's number of modules, the modular loss
ignores m) are tested as identities and named so.
"""

import numpy as np
import pytest
import torch

from modlab.experiments.linear_rf import LinearRFConfig, simulate
from modlab.theory import Spectrum, pinv_sq_norm, rf_losses, sample_complexity

CPU = torch.device("cpu")
N_GRID = np.unique(np.logspace(0.5, 6, 300).astype(int))
P_GRID = np.unique(np.logspace(0, 5.5, 250).astype(int))

# (n, p, ridge, parameterisation, exact): every branch of rf_losses, under- and over-parameterised
BRANCHES = {
    "min-norm under": (400, 100, 0.0, "white", True),
    "min-norm over": (60, 400, 0.0, "white", True),
    "ridge under": (300, 100, 0.05, "white", False),
    "ridge over": (100, 300, 0.05, "white", False),
    "feature-cov under": (400, 80, 0.0, "feature_cov", True),
    "feature-cov over": (100, 300, 0.0, "feature_cov", False),
}


def _simulated(seeds: int, **fields) -> tuple[np.ndarray, np.ndarray]:
    runs = simulate([LinearRFConfig(seed=s, **fields) for s in range(seeds)], CPU)
    return np.array([r["train"] for r in runs]), np.array([r["test"] for r in runs])


def _theory(**fields) -> dict[str, np.ndarray]:
    cfg = LinearRFConfig(**fields)
    return rf_losses(cfg.n, cfg.p, cfg.m, **cfg.model_kwargs())


@pytest.mark.parametrize("branch", BRANCHES)
def test_every_branch_gives_the_same_loss_for_0d_1d_and_broadcast_inputs(branch):
    n, p, ridge, parameterisation, exact = BRANCHES[branch]
    model = dict(spectrum=Spectrum(), ridge=ridge, parameterisation=parameterisation)
    scalar = rf_losses(n, p, 4, **model)
    vector = rf_losses(np.array([n, 2 * n]), np.array([p, p]), np.array([4, 4]), **model)
    grid = rf_losses(np.array([[n], [2 * n]]), np.array([p, 3 * p]), 4, **model)  # (2, 1) × (2,) → (2, 2)
    assert scalar["test"].shape == () and grid["test"].shape == (2, 2)
    for key in ("train", "test", "exact"):
        assert np.isclose(scalar[key], vector[key][0], rtol=1e-12) and np.isclose(
            scalar[key], grid[key][0, 0], rtol=1e-12
        )
        assert np.isclose(vector[key][1], grid[key][1, 0], rtol=1e-12)
    assert bool(scalar["exact"]) is exact
    alone = rf_losses(2 * n, 3 * p, 4, **model)
    assert np.isclose(alone["test"], grid["test"][1, 1])
    if not exact:  # the asymptotic branches must not fall back to the min-norm formula
        assert not np.isclose(scalar["test"], rf_losses(n, p, 4, spectrum=Spectrum())["test"])


def test_scalar_ridge_point_of_the_issue_matches_its_simulation():
    fields = dict(n=100, p=80, m=4, ridge=0.01)
    _, test = _simulated(300, **fields)
    theory = _theory(**fields)
    assert abs(theory["test"] - 0.460) < 0.001
    assert abs(test.mean() - theory["test"]) < 0.03 * theory["test"] + 3 * test.std() / np.sqrt(test.size)


@pytest.mark.parametrize(
    "fields, seeds",
    [
        (dict(n=120, p=30, m=4), 400),
        (dict(n=60, p=20, m=6, noise=0.3, n_outputs=2), 400),
        (dict(n=30, p=150, m=10, spectrum=dict(family="equal", omega=2.0)), 400),
        (dict(n=100, p=15, m=5, architecture="modular", n_modules=3, module_dim=2), 400),
        (dict(n=50, p=40, m=5, architecture="modular", n_modules=3, module_dim=2), 1000),  # 120 parameters > 50
        (dict(n=100, p=25, m=5, spectrum=dict(family="truncated_power", omega=3.0, alpha=1.2)), 400),
    ],
)
def test_exact_theory_within_two_percent_of_simulation_away_from_the_peak(fields, seeds):
    train, test = _simulated(seeds, **fields)
    theory = _theory(**fields)
    assert theory["exact"]
    se = test.std() / np.sqrt(test.size)
    assert se < 0.015 * test.mean()  # the comparison is meaningful
    assert abs(test.mean() - theory["test"]) < 0.02 * theory["test"] + 2 * se
    train_se = train.std() / np.sqrt(train.size)
    assert abs(train.mean() - theory["train"]) <= 0.02 * theory["train"] + 2 * train_se + 1e-12


@pytest.mark.parametrize("side", ["under", "over"])
def test_pinv_norm_near_the_interpolation_threshold(side):
    """E‖R⁺‖²_F at N = p+5 … p+12 (and p = N+5 … N+12), where the "−1" of p/(N−p−1) is 10–25 % of it.
    Closer than p+4 the inverse-Wishart variance is infinite and a standard error means nothing."""
    rng = np.random.default_rng(0)
    small, trials = 10, 4000
    for gap in range(5, 13):
        big = small + gap
        gaussian = rng.standard_normal((trials, big, small))
        traces = np.trace(np.linalg.inv(gaussian.transpose(0, 2, 1) @ gaussian), axis1=1, axis2=2)
        n_eqs, p = (big, small) if side == "under" else (small, big)  # ‖R⁺‖ is the same for R and Rᵀ
        z = (traces.mean() - pinv_sq_norm(n_eqs, p)) / (traces.std() / np.sqrt(trials))
        assert abs(z) < 4, f"gap {gap}: z = {z:.1f}"
    assert np.isinf(pinv_sq_norm(20, 21)) and np.isinf(pinv_sq_norm(20, 20))


def test_test_loss_near_the_interpolation_threshold_matches_simulation():
    """The whole loss at n = p+5 … p+12: the simulation pins the threshold's "−1" (a p/(N−p) law is
    off by 5–17 % here, 8–30 standard errors)."""
    p = 20
    for n in range(p + 5, p + 13):
        _, test = _simulated(1500, n=n, p=p, m=4)
        theory = _theory(n=n, p=p, m=4)["test"]
        z = (test.mean() - theory) / (test.std() / np.sqrt(test.size))
        assert abs(z) < 4, f"n = {n}: simulated {test.mean():.4f}, theory {theory:.4f}, z = {z:.1f}"


@pytest.mark.parametrize("branch", ["ridge under", "ridge over"])
def test_ridge_train_and_test_loss_track_simulation(branch):
    n, p, ridge, _, _ = BRANCHES[branch]
    fields = dict(n=n // 2, p=p // 2, m=4, ridge=ridge)
    train, test = _simulated(300, **fields)
    theory = _theory(**fields)
    assert not theory["exact"]
    for measured, predicted in ((train, theory["train"]), (test, theory["test"])):
        se = measured.std() / np.sqrt(measured.size)
        assert abs(measured.mean() - predicted) < 0.05 * predicted + 3 * se


@pytest.mark.parametrize("branch", ["feature-cov under", "feature-cov over"])
def test_feature_covariance_parameterisation_tracks_simulation(branch):
    n, p, _, parameterisation, exact = BRANCHES[branch]
    fields = dict(n=n // 2, p=p // 2, m=4, parameterisation=parameterisation)
    _, test = _simulated(300, **fields)
    theory = _theory(**fields)
    assert bool(theory["exact"]) is exact
    se = test.std() / np.sqrt(test.size)
    assert abs(test.mean() - theory["test"]) < 0.03 * theory["test"] + 3 * se
    white = _theory(**{**fields, "parameterisation": "white"})["test"]
    if exact:  # under-parameterised the two parameterisations agree …
        assert np.isclose(theory["test"], white)
    else:  # … over-parameterised they do not
        assert theory["test"] < 0.8 * white


def test_double_descent_peak_sits_at_p_equal_n():
    n = 200
    p = np.arange(20, 2001)
    test = rf_losses(n, p, 4, spectrum=Spectrum())["test"]
    finite = np.isfinite(test)
    assert np.all(~finite == (np.abs(p - n) < 2))
    peak = p[finite][np.argmax(test[finite])]
    assert abs(peak - n) <= 2
    assert test[p == 2000] < test[p == n + 20] and test[p == 20] < test[p == n - 20]


def test_identity_monolithic_loss_ignores_the_tasks_number_of_modules():
    """An identity of the model, not a finding: the monolithic spectrum depends on m only."""
    losses = [rf_losses(400, 100, 6, spectrum=Spectrum(), n_modules=k)["test"] for k in range(1, 10)]
    assert np.ptp(losses) == 0


def test_identity_modular_loss_ignores_m_while_monolithic_rises():
    """The modular flatness is an identity (module spectra depend on b, not m); the monolithic rise is
    the model's prediction."""
    m = np.arange(2, 10)
    modular = rf_losses(400, 30, m, spectrum=Spectrum(), architecture="modular", n_modules=3)["test"]
    monolithic = rf_losses(400, 90, m, spectrum=Spectrum())["test"]
    assert np.ptp(modular) == 0
    assert np.all(np.diff(monolithic) > 0)


def test_monolithic_sample_complexity_grows_faster_than_exponentially_modular_stays_flat():
    m = np.arange(2, 9)
    mono = sample_complexity(0.3, m, n_grid=N_GRID, p_grid=P_GRID, spectrum=Spectrum())
    modular = sample_complexity(
        0.3, m, n_grid=N_GRID, p_grid=P_GRID, spectrum=Spectrum(), architecture="modular", n_modules=3
    )
    assert all(c is None for c in (*mono["censored"], *modular["censored"]))
    ratios = mono["n"][1:] / mono["n"][:-1]
    assert np.all(ratios > 1.4)  # every unit of m multiplies n by > 1.4
    assert ratios[-1] > ratios[0]  # and faster than exponentially for the paper's spectrum
    assert np.ptp(modular["n"]) / modular["n"].mean() < 0.02


def test_sample_complexity_reports_censoring_at_both_ends():
    n_grid = np.array([100, 200, 400])
    easy = sample_complexity(10.0, [2], n_grid=n_grid, p_grid=P_GRID, spectrum=Spectrum())
    assert easy["censored"][0] == "left" and easy["n"][0] == 100
    hard = sample_complexity(0.01, [9], n_grid=n_grid, p_grid=P_GRID, spectrum=Spectrum())
    assert hard["censored"][0] == "right" and np.isnan(hard["n"][0]) and np.isnan(hard["p"][0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ridge=-1.0), "ridge = -1.0"),
        (dict(parameterisation="cov"), "parameterisation = 'cov'"),
        (dict(architecture="tree"), "architecture = 'tree'"),
    ],
)
def test_bad_model_arguments_raise_one_clear_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rf_losses(100, 50, 4, spectrum=Spectrum(), **kwargs)
