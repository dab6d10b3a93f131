"""The closed forms of spec A §1 against Monte-Carlo simulation, and the trends they must show."""

import numpy as np
import pytest
import torch

from modlab.experiments.linear_rf import LinearRFConfig, simulate
from modlab.theory import Spectrum, pinv_sq_norm, rf_losses, sample_complexity

CPU = torch.device("cpu")
N_GRID = np.unique(np.logspace(0.5, 6, 300).astype(int))
P_GRID = np.unique(np.logspace(0, 5.5, 250).astype(int))


def _simulated(seeds: int, **fields) -> tuple[np.ndarray, np.ndarray]:
    runs = simulate([LinearRFConfig(seed=s, **fields) for s in range(seeds)], CPU)
    return np.array([r["train"] for r in runs]), np.array([r["test"] for r in runs])


@pytest.mark.parametrize(
    "fields",
    [
        dict(n=400, p=100, m=4),
        dict(n=150, p=40, m=6, noise=0.3, n_outputs=2),
        dict(n=60, p=400, m=10, spectrum=dict(family="equal", omega=2.0)),
        dict(n=120, p=25, m=5, architecture="modular", n_modules=3, module_dim=2),
        dict(n=300, p=60, m=5, spectrum=dict(family="truncated_power", omega=3.0, alpha=1.2)),
    ],
)
def test_theory_within_two_percent_of_simulation_away_from_the_peak(fields):
    train, test = _simulated(400, **fields)
    cfg = LinearRFConfig(**fields)
    theory = rf_losses(
        cfg.n,
        cfg.p,
        cfg.m,
        spectrum=cfg.spectrum,
        architecture=cfg.architecture,
        n_modules=cfg.n_modules,
        module_dim=cfg.module_dim,
        n_outputs=cfg.n_outputs,
        noise=cfg.noise,
    )
    assert theory["exact"]
    se = test.std() / np.sqrt(test.size)
    assert se < 0.01 * test.mean()  # the comparison is meaningful
    assert abs(test.mean() - theory["test"]) < 0.02 * theory["test"] + 2 * se
    assert abs(train.mean() - theory["train"]) <= 0.02 * theory["train"] + 1e-12


def test_pinv_norm_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    for n_eqs, p in ((40, 10), (10, 40)):
        mats = torch.randn(2000, n_eqs, p, generator=gen, dtype=torch.float64)
        measured = (torch.linalg.pinv(mats) ** 2).sum((-2, -1)).mean().item()
        assert abs(measured - pinv_sq_norm(n_eqs, p)) < 0.03 * pinv_sq_norm(n_eqs, p)
    assert np.isinf(pinv_sq_norm(20, 21)) and np.isinf(pinv_sq_norm(20, 20))


def test_double_descent_peak_sits_at_p_equal_n():
    n = 200
    p = np.arange(20, 2001)
    test = rf_losses(n, p, 4, spectrum=Spectrum())["test"]
    finite = np.isfinite(test)
    peak = p[finite][np.argmax(test[finite])]
    assert abs(peak - n) <= 2
    assert test[p == 2000] < test[p == n + 20] and test[p == 20] < test[p == n - 20]
    # the simulation shows the rise as well
    _, near = _simulated(40, n=n, p=n - 10, m=4)
    _, far = _simulated(40, n=n, p=n // 4, m=4)
    assert near.mean() > 3 * far.mean()


def test_monolithic_loss_is_invariant_in_the_number_of_task_modules():
    spectrum = Spectrum()
    losses = [rf_losses(400, 100, 6, spectrum=spectrum, n_modules=k)["test"] for k in range(1, 10)]
    assert np.ptp(losses) == 0
    means = [_simulated(60, n=400, p=100, m=6, n_modules=k)[1].mean() for k in (1, 5, 9)]
    assert np.ptp(means) < 0.03 * np.mean(means)


def test_modular_loss_does_not_depend_on_task_dimension_but_monolithic_does():
    spectrum = Spectrum()
    m = np.arange(2, 10)
    modular = rf_losses(400, 30, m, spectrum=spectrum, architecture="modular", n_modules=3)["test"]
    monolithic = rf_losses(400, 90, m, spectrum=spectrum)["test"]
    assert np.ptp(modular) == 0
    assert np.all(np.diff(monolithic) > 0)


def test_monolithic_sample_complexity_grows_exponentially_modular_stays_flat():
    spectrum = Spectrum()
    m = np.arange(2, 9)
    mono = sample_complexity(0.3, m, n_grid=N_GRID, p_grid=P_GRID, spectrum=spectrum)["n"]
    modular = sample_complexity(
        0.3, m, n_grid=N_GRID, p_grid=P_GRID, spectrum=spectrum, architecture="modular", n_modules=3
    )["n"]
    ratios = mono[1:] / mono[:-1]
    assert np.all(ratios > 1.4)  # at least exponential: every unit of m multiplies n by > 1.4
    assert ratios[-1] > ratios[0]  # and faster than exponential for the paper's spectrum
    assert np.ptp(modular) / modular.mean() < 0.02


def test_ridge_deterministic_equivalent_tracks_simulation():
    fields = dict(n=200, p=600, m=4, ridge=0.05)
    _, test = _simulated(150, **fields)
    theory = rf_losses(200, 600, 4, spectrum=Spectrum(), ridge=0.05)
    assert not theory["exact"]
    assert abs(test.mean() - theory["test"]) < 0.05 * theory["test"]


def test_feature_covariance_parameterisation_is_exact_when_underparameterised():
    fields = dict(n=400, p=80, m=4, parameterisation="feature_cov")
    _, test = _simulated(200, **fields)
    theory = rf_losses(400, 80, 4, spectrum=Spectrum(), parameterisation="feature_cov")
    white = rf_losses(400, 80, 4, spectrum=Spectrum())
    assert theory["exact"] and np.isclose(theory["test"], white["test"])
    assert abs(test.mean() - theory["test"]) < 0.03 * theory["test"]
