"""The modular sine-wave task (spec A §2): the statistics it promises and its config errors."""

from __future__ import annotations

import math

import pytest
import torch

from modlab.errors import ConfigError
from modlab.tasks.sine import SineTaskConfig, input_covariance, make_sine_task, target_moments

ORTHO = dict(layout="orthogonal", input_dim=12, n_modules=3, module_dim=2)


def test_shapes_and_sets_per_layout():
    task = make_sine_task(SineTaskConfig(**ORTHO, n_train=50, n_test=30))
    assert task.x_train.shape == (50, 12) and task.y_train.shape == (50,)
    assert task.x_test.shape == task.x_ood.shape == task.x_scale.shape == (30, 12)
    assert task.projections.shape == (3, 12, 2)
    assert task.module_inputs(task.x_test).shape == (3, 30, 2)
    assert set(task.sets()) == {"test", "ood", "scale"}
    random = make_sine_task(SineTaskConfig(layout="random", input_dim=5, n_modules=7, n_train=10, n_test=10))
    assert random.x_ood is None and random.y_ood is None and set(random.sets()) == {"test", "scale"}
    assert random.projections.shape == (7, 5, 1)


def test_deterministic_from_seed_and_independent_of_n_train():
    a = make_sine_task(SineTaskConfig(**ORTHO, rho=0.5, n_train=40, n_test=20, seed=3))
    b = make_sine_task(SineTaskConfig(**ORTHO, rho=0.5, n_train=80, n_test=20, seed=3))
    c = make_sine_task(SineTaskConfig(**ORTHO, rho=0.5, n_train=40, n_test=20, seed=4))
    assert torch.equal(a.x_train, b.x_train[:40]) and torch.equal(a.y_train, b.y_train[:40])
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.projections, b.projections)
    assert not torch.allclose(a.x_train, c.x_train) and not torch.allclose(a.projections, c.projections)


def test_projections_orthonormal_in_each_layout():
    ortho = make_sine_task(SineTaskConfig(**ORTHO, n_train=1, n_test=1)).projections
    frame = ortho.permute(1, 0, 2).reshape(12, 6)
    torch.testing.assert_close(frame.T @ frame, torch.eye(6), atol=1e-5, rtol=0)
    random = make_sine_task(SineTaskConfig(layout="random", input_dim=4, n_modules=6, n_train=1, n_test=1)).projections
    torch.testing.assert_close(random.squeeze(-1).norm(dim=1), torch.ones(6), atol=1e-5, rtol=0)


@pytest.mark.parametrize("layout", ["random", "orthogonal"])
def test_target_depends_only_on_module_projections(layout):
    cfg = SineTaskConfig(layout=layout, input_dim=12, n_modules=3, module_dim=2, n_train=200, n_test=10)
    task = make_sine_task(cfg)
    torch.testing.assert_close(task.y_train, task.target(task.x_train))
    frame = task.projections.permute(1, 0, 2).reshape(12, -1)
    basis, _ = torch.linalg.qr(frame)
    shift = torch.randn(200, 12, generator=torch.Generator().manual_seed(1)) * 3
    outside = shift - (shift @ basis) @ basis.T
    assert outside.norm() > 10
    torch.testing.assert_close(task.target(task.x_train + outside), task.y_train, atol=1e-5, rtol=1e-4)
    inside = shift @ basis @ basis.T
    assert (task.target(task.x_train + inside) - task.y_train).abs().max() > 0.1


@pytest.mark.parametrize(
    "fields",
    [dict(layout="random", input_dim=6, n_modules=4, module_dim=1), dict(**ORTHO, rho=0.9), dict(**ORTHO, noise=0.3)],
)
def test_variance_of_each_set_matches_its_exact_value(fields):
    """Empirical mean/variance of y on every set vs the closed form under that set's input law."""
    task = make_sine_task(SineTaskConfig(**fields, n_train=20000, n_test=20000, seed=2))
    cfg, proj = task.config, task.projections
    laws = {"test": (cfg.rho, 1.0), "scale": (0.0, cfg.ood_scale), "ood": (0.0, 1.0)}
    for name, (_x, y) in task.sets().items():
        mean, var = target_moments(task, input_covariance(cfg, proj, *laws[name]))
        assert abs(y.mean().item() - mean) < 4 * math.sqrt(var / 20000), name
        assert abs(y.var().item() - var) < 0.05 * var, name
    _, var = target_moments(task, input_covariance(cfg, proj, cfg.rho))
    assert abs(task.y_train.var().item() - (var + cfg.noise**2)) < 0.05 * (var + cfg.noise**2)


def test_second_moment_is_one_half_on_average_over_task_draws():
    """E y² = K^{-1}·K·J·(1/J)·½ = ½ over draws of the module functions (x ~ N(0, I))."""
    moments = []
    for seed in range(300):
        task = make_sine_task(SineTaskConfig(layout="random", input_dim=5, n_modules=3, n_train=1, n_test=1, seed=seed))
        mean, var = target_moments(task, torch.eye(5, dtype=torch.float64))
        moments.append(var + mean**2)
    moments = torch.tensor(moments)
    assert abs(moments.mean().item() - 0.5) < 4 * moments.std().item() / math.sqrt(300)


def test_module_input_marginals_under_correlation():
    """Each z_i keeps its N(0, I_b) marginal; modules correlate by ρ in train/ID test, 0 in OOD."""
    task = make_sine_task(SineTaskConfig(**ORTHO, rho=0.9, n_train=20000, n_test=20000))
    for x, rho in ((task.x_train, 0.9), (task.x_test, 0.9), (task.x_ood, 0.0)):
        z = task.module_inputs(x)  # (K, n, b)
        flat = z.permute(1, 0, 2).reshape(len(x), -1)
        cov = flat.T @ flat / len(x)
        expected = torch.eye(6) + rho * (torch.kron(torch.ones(3, 3), torch.eye(2)) - torch.eye(6))
        torch.testing.assert_close(cov, expected, atol=0.04, rtol=0)
        assert z.mean(1).abs().max() < 0.04
    assert abs(task.x_scale.std().item() - 1.5) < 0.02


def test_noise_on_training_labels_only():
    task = make_sine_task(SineTaskConfig(**ORTHO, noise=0.5, n_train=20000, n_test=100))
    assert abs((task.y_train - task.target(task.x_train)).std().item() - 0.5) < 0.01
    torch.testing.assert_close(task.y_test, task.target(task.x_test))


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(layout="orthogonal", input_dim=5, n_modules=3, module_dim=2), "n_modules·module_dim = 6"),
        (dict(layout="random", rho=0.5), "rho = 0.5"),
        (dict(n_train=0), "n_train"),
        (dict(input_dim=-1), "input_dim"),
        (dict(n_modules=0), "n_modules"),
        (dict(module_dim=3, input_dim=2), "module_dim = 3"),
        (dict(rho=1.0, layout="orthogonal", input_dim=4), "rho"),
        (dict(layout="grid"), "layout"),
    ],
)
def test_bad_configs_are_one_line_errors(fields, words):
    with pytest.raises(ConfigError) as err:
        SineTaskConfig.parse(fields, where="task")
    assert words in str(err.value) and "\n" not in str(err.value)
