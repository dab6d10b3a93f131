"""The kernel rule: batched search equals the per-descent loop, the objective is an exact Cholesky
solve, and on a sine task with known projections the joint rule recovers them (spec A §4)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from modlab.errors import ConfigError
from modlab.measures import best_overlaps, mean_overlap
from modlab.models import MLP
from modlab.rules.kernel_rule import (
    KernelRuleConfig,
    cholesky_flops,
    cholesky_solve_flops,
    descent_layers,
    evaluate_objectives,
    find_projections,
    find_projections_batch,
    find_projections_reference,
    kernel_objective,
    qr_flops,
    reorthonormalise,
    search_flop_parts,
    search_flops,
)
from modlab.rules.module_kernels import stack_module_layers
from modlab.tasks.sine import SineTaskConfig, make_sine_task

pytestmark = pytest.mark.usefixtures("one_thread")


def generators(count: int, offset: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(offset + i) for i in range(count)]


def module_layers(n_modules: int, module_dim: int, hidden=(32, 32)):
    return stack_module_layers(
        [MLP(module_dim, hidden, 1, torch.Generator().manual_seed(50 + j)) for j in range(n_modules)]
    )


def test_objective_is_the_ridge_solve_and_its_gradient_is_exact():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(3, 7, 7, generator=gen, dtype=torch.float64)
    kernel, y = a @ a.mT, torch.randn(3, 7, generator=gen, dtype=torch.float64)
    jitter = 0.1 * kernel.diagonal(dim1=-2, dim2=-1).mean(-1)
    shifted = kernel + jitter[:, None, None] * torch.eye(7, dtype=torch.float64)
    expected = (y * torch.linalg.solve(shifted, y.unsqueeze(-1)).squeeze(-1)).sum(-1)
    assert torch.allclose(kernel_objective(kernel, y, 0.1), expected)
    k, t = kernel.clone().requires_grad_(), y.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda k, t: kernel_objective((k + k.mT) / 2, t, 0.1), (k, t))


def test_reorthonormalise_keeps_orthonormal_frames_and_signs():
    frames = torch.randn(4, 2, 6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    q = reorthonormalise(frames)
    assert torch.allclose(q.mT @ q, torch.eye(3, dtype=torch.float64).expand(4, 2, 3, 3), atol=1e-12)
    assert torch.allclose(reorthonormalise(q), q, atol=1e-12)


@pytest.mark.parametrize("variant", ["joint", "per_module"])
@pytest.mark.parametrize("kernel", ["module", "rbf"])
def test_batched_search_equals_the_per_descent_loop(variant, kernel):
    task = make_sine_task(SineTaskConfig(input_dim=5, n_modules=3, n_train=80, n_test=10, seed=2))
    cfg = KernelRuleConfig(
        variant=variant, kernel=kernel, steps=6, batch_size=32, joint_restarts=2, record_every=3, eval_size=50
    )
    layers = module_layers(3, 1, hidden=(8,))
    args = (task.x_train.double(), task.y_train.double(), cfg, 3, 1)
    layers = [(w.double(), b.double()) for w, b in layers]
    batched = find_projections(*args, generators(cfg.n_descents(3)), layers)
    looped = find_projections_reference(*args, generators(cfg.n_descents(3)), layers)
    for name in ("candidates", "objectives", "traces", "history", "projections"):
        assert torch.allclose(getattr(batched, name), getattr(looped, name), atol=1e-8), name
    assert batched.chosen == looped.chosen and batched.history_steps == [0, 3, 6]
    assert batched.projections.shape == (3, 5, 1) and batched.path().shape == (3, 3, 5, 1)


@pytest.mark.parametrize("variant", ["joint", "per_module"])
@pytest.mark.parametrize("kernel", ["module", "rbf"])
def test_a_batch_of_runs_equals_each_run_searched_alone(variant, kernel):
    """Two runs (own data, own modules, own generators) in one computation, in chunks of 1 and of
    all descents, give each run's own search."""
    tasks = [make_sine_task(SineTaskConfig(input_dim=5, n_modules=3, n_train=80, n_test=10, seed=s)) for s in (2, 3)]
    cfg = KernelRuleConfig(
        variant=variant, kernel=kernel, steps=6, batch_size=32, joint_restarts=2, record_every=3, eval_size=50
    )
    runs = [[(w.double(), b.double()) for w, b in module_layers(3, 1, hidden=(8,))] for _ in tasks]
    runs[1] = [(2 * w, b - 0.1) for w, b in runs[1]]
    gens = [lambda r=r: generators(cfg.n_descents(3), 10 * r) for r in range(2)]
    alone = [
        find_projections(t.x_train.double(), t.y_train.double(), cfg, 3, 1, g(), layers)
        for t, g, layers in zip(tasks, gens, runs)
    ]
    xs = torch.stack([t.x_train.double() for t in tasks])
    ys = torch.stack([t.y_train.double() for t in tasks])
    stacked = [
        (torch.stack([r[i][0] for r in runs]), torch.stack([r[i][1] for r in runs])) for i in range(len(runs[0]))
    ]
    for chunk in (1, 2 * cfg.n_descents(3)):
        together = find_projections_batch(xs, ys, cfg, 3, 1, [g() for g in gens], stacked, descents_per_chunk=chunk)
        for one, both in zip(alone, together):
            for name in ("candidates", "objectives", "traces", "history", "projections"):
                assert torch.allclose(getattr(both, name), getattr(one, name), atol=1e-8), name
            assert both.chosen == one.chosen
    assert not torch.allclose(alone[0].candidates, alone[1].candidates)


def test_wrong_number_of_generators_and_bad_config_are_one_line_errors():
    task = make_sine_task(SineTaskConfig(input_dim=4, n_train=20, n_test=5))
    with pytest.raises(ValueError, match="3 descents, one generator each"):
        find_projections(
            task.x_train, task.y_train, KernelRuleConfig(variant="per_module", kernel="rbf"), 3, 1, generators(2)
        )
    with pytest.raises(ConfigError, match="joint_restarts"):
        KernelRuleConfig.parse({"joint_restarts": 0})
    with pytest.raises(ConfigError, match="variant"):
        KernelRuleConfig.parse({"variant": "greedy"})


# The spec's measured setting (random layout, m = 8, K = 3, b = 1), at a smaller n and fewer steps.
RECOVERY_TASK = SineTaskConfig(layout="random", input_dim=8, n_modules=3, module_dim=1, n_train=1000, n_test=10, seed=0)
RECOVERY_RULE = dict(steps=100, batch_size=256, eval_size=512)


@pytest.mark.parametrize("kernel", ["module", "rbf"])
def test_joint_rule_recovers_the_true_projections(kernel):
    task = make_sine_task(RECOVERY_TASK)
    cfg = KernelRuleConfig(kernel=kernel, **RECOVERY_RULE)
    result = find_projections(
        task.x_train, task.y_train, cfg, 3, 1, generators(cfg.joint_restarts), module_layers(3, 1)
    )
    assert float(mean_overlap(task.projections, result.projections)) > 0.9
    assert result.objectives[result.chosen] == result.objectives.min()


def per_module_search():
    task = make_sine_task(RECOVERY_TASK)
    cfg = KernelRuleConfig(variant="per_module", **RECOVERY_RULE)
    layers = module_layers(3, 1)
    result = find_projections(task.x_train, task.y_train, cfg, 3, 1, generators(3), layers)
    return task, cfg, layers, result


def test_per_module_descents_each_lower_their_own_objective():
    """Algorithm 1 and nothing else: descent j minimises yᵀ(K_j + εI)⁻¹y alone, from its own start."""
    task, cfg, layers, result = per_module_search()
    per_descent = descent_layers(layers, "per_module")
    start = evaluate_objectives(task.x_train, task.y_train, result.history[0], cfg, per_descent)
    assert (result.objectives < start).all()
    assert result.candidates.shape == (3, 1, 8, 1) and result.chosen is None


def test_per_module_objective_prefers_the_mixed_direction():
    """Why Algorithm 1 misses the modules: the mixed direction each descent lands on has a LOWER
    single-module objective yᵀ(K_j + εI)⁻¹y than every true direction u_i (same module's kernel,
    same evaluation points). One 1-D projection must explain all of y, so the objective itself
    prefers the mix; the descents did their job."""
    task, cfg, layers, result = per_module_search()
    per_descent = descent_layers(layers, "per_module")
    at_true = evaluate_objectives(task.x_train, task.y_train, task.projections.unsqueeze(1), cfg, per_descent)
    assert (result.objectives.max() < at_true.min()).item(), (result.objectives, at_true)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "measured (m = 8, K = 3, n = 1000, module kernel, 100 steps): the three independent descents land on "
        "the same mixed direction (each overlaps 0.34-0.39 / 0.61-0.67 / 0.14-0.20 in cos² with the true modules); "
        "best overlaps per true module 0.39 / 0.67 / 0.20 in cos² (|cos| 0.62 / 0.82 / 0.45), so the strongest is "
        "found only to |cos| 0.82. An earlier independent run found |cos| 0.93 / 0.81 / 0.28"
    ),
)
def test_per_module_rule_finds_the_strongest_module():
    """An earlier run found the strongest module to |cos| 0.93; ask for |cos| > 0.9 (cos² > 0.81)."""
    task, _, _, result = per_module_search()
    best_cos = best_overlaps(task.projections, result.projections).max().sqrt()
    assert float(best_cos) > 0.9


def _textbook_cholesky_flops(n: int) -> int:
    """FLOPs of the column Cholesky algorithm, counted operation by operation: column j takes a
    dot product of length j and a square root for the diagonal, then for each of the n − j − 1
    entries below it a dot product of length j, a subtraction and a division."""
    return sum(2 * j + 1 + (n - j - 1) * (2 * j + 1) for j in range(n))


def test_decomposition_flop_formulas():
    for n in (10, 100, 1000):
        exact = _textbook_cholesky_flops(n)
        assert exact == pytest.approx(n**3 / 3 + n**2 / 2 + n / 6)
        assert cholesky_flops(n) == pytest.approx(exact, rel=2 / n)
    assert cholesky_solve_flops(50) == 2 * 50 * 50  # two triangular substitutions, n² each
    assert qr_flops(8, 1) == pytest.approx(2 * 8 - 2 / 3)


@pytest.mark.parametrize("variant", ["joint", "per_module"])
@pytest.mark.parametrize("kernel", ["rbf", "module"])
def test_search_matmul_flops_bound_torchs_count(variant, kernel):
    """The estimate's matmul part counts every backward as two forwards: ≥ torch's count of the
    real search, and within 1.5× of it (the projections' backward is one matmul, not two)."""
    n_modules, widths = 2, (1, 6, 4, 1)
    cfg = KernelRuleConfig(kernel=kernel, variant=variant, steps=3, batch_size=16, joint_restarts=2, eval_size=24)
    x, y = torch.randn(40, 5, generator=torch.Generator().manual_seed(0)), torch.randn(40)
    layers = module_layers(n_modules, 1, hidden=widths[1:-1])
    with FlopCounterMode(display=False) as counter:
        find_projections(x, y, cfg, n_modules, 1, generators(cfg.n_descents(n_modules)), layers)
    estimate = search_flop_parts(cfg, 40, 5, n_modules, 1, widths)
    counted = counter.get_total_flops()
    assert counted <= estimate["matmul"] <= 1.5 * counted
    assert search_flops(cfg, 40, 5, n_modules, 1, widths) == pytest.approx(sum(estimate.values()))
