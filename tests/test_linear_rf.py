"""The ``linear-rf`` simulation on its own: independent of the closed forms, explicit features,
K real modules, and only measured values stored."""

import ast
import inspect

import numpy as np
import torch

from modlab.experiments import linear_rf
from modlab.experiments.linear_rf import EXPLICIT_FACTOR, LinearRFConfig, run_batch, task_variances
from modlab.tasks import sample_rf_problems


def test_simulation_uses_no_closed_form():
    """Only the task's spectrum (its definition) comes from modlab.theory, no loss formula."""
    tree = ast.parse(inspect.getsource(linear_rf))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("modlab.theory")
        for alias in node.names
    }
    assert imported == {"Spectrum"}


def test_features_are_explicit_up_to_ten_times_the_larger_of_p_and_n():
    cfg = LinearRFConfig(n=40, p=30, m=5, architecture="modular", n_modules=3, module_dim=2)
    coef_var, feature_var, far_tail = task_variances(cfg)
    assert coef_var.shape == feature_var.shape == (3, EXPLICIT_FACTOR * 40)
    assert torch.all(feature_var == 1)  # white features
    # each module carries Λ(b)/K: the explicit part plus the far tail is the task's whole power
    assert np.isclose(float(coef_var.sum()) + far_tail, cfg.spectrum.scale)
    assert np.isclose(far_tail, float(cfg.spectrum.tail_trace(2, EXPLICIT_FACTOR * 40)))


def test_targets_carry_the_whole_spectrum_and_the_noise():
    cfg = LinearRFConfig(n=200, p=10, m=4, noise=0.5)
    coef_var, feature_var, far_tail = task_variances(cfg)
    gens = [torch.Generator().manual_seed(s) for s in range(200)]
    problem = sample_rf_problems(coef_var, feature_var, cfg.p, far_tail, cfg.noise**2, cfg.n_eqs, gens)
    assert problem.features.shape == (200, 200, 10) and problem.coef.shape == (200, 10)
    variance = float(problem.targets.pow(2).mean())
    assert abs(variance - (cfg.spectrum.scale + 0.25)) < 0.03  # Tr Λ + σ², s.e. ≈ 0.01
    explained = problem.coef.pow(2).sum(-1) + problem.unmodelled_power
    assert abs(float(explained.mean()) - cfg.spectrum.scale) < 0.03


def test_a_modular_network_is_k_modules_on_their_own_features():
    cfg = LinearRFConfig(n=30, p=4, m=5, architecture="modular", n_modules=3, module_dim=1)
    coef_var, feature_var, far_tail = task_variances(cfg)
    gens = [torch.Generator().manual_seed(0)]
    problem = sample_rf_problems(coef_var, feature_var, cfg.p, far_tail, 0.0, cfg.n_eqs, gens)
    assert problem.features.shape == (1, 30, 12)  # 3 modules × 4 features, one joint fit
    per_module = problem.coef.reshape(3, 4)
    assert not torch.allclose(per_module[0], per_module[1])  # each module its own coefficients


def test_runs_store_only_measured_values():
    runs = run_batch([LinearRFConfig(n=20, p=5, seed=s) for s in range(3)], torch.device("cpu"))
    assert all(set(run) == {"train_loss", "test_loss"} for run in runs)
    assert len({run["test_loss"] for run in runs}) == 3
