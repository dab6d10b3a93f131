"""Paper A's kernel-based modular learning rule (docs/scaling.md §4): find the module projections first.

The objective (the paper's Eq. 17) is the smallest parameter norm with which the modular network,
linearised at its initial weights, fits the targets: ``yᵀ(K + εI)⁻¹y``, solved by one Cholesky
factorisation (never an explicit inverse), ε = ``ridge`` × the kernel's mean diagonal. A module's
kernel is its own empirical NTK at its initial weights on ``Û_jᵀx`` (``kernel="module"``) or an RBF
kernel with median bandwidth (``kernel="rbf"``, modlab); see :mod:`modlab.rules.module_kernels`.

Two variants, one batched computation each ("descents" run side by side as one tensor):

- ``per_module`` — the paper's Algorithm 1: K̂ independent descents of the single-module objective
  ``yᵀ(K_j(Û_j) + εI)⁻¹y``, descent j with module j's kernel, each from its own random start. Its
  result is the K̂ found projections, one per descent.
- ``joint`` (modlab's default) — ``K = K̂⁻¹ Σ_j K_j(Û_j)`` (the network's kernel: a sum of modules has
  the scaled sum of their kernels) descended over all projections at once, from R random starts;
  the start with the lowest final objective is kept.

Each step (modlab details): Adam on a fresh random mini-batch of the training set per descent, then
every Û_j re-orthonormalised by QR (signs fixed so the frame moves continuously). Final objectives
are compared on the first ``eval_size`` training points, the same for every descent. Each descent
draws its start and its mini-batches from its own ``torch.Generator``; :func:`find_projections_reference`
is the same search with descents run one after another and a Python loop over modules, tested equal.
:func:`find_projections_batch` searches for a whole batch of runs at once (every run's descents side
by side, each on its own data), so a sweep's batch of kernel-rule runs is one computation.
The caller then initialises the modular network with the found projections and trains every
parameter end to end (the experiment does that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, Field

from modlab.config import Config
from modlab.frames import random_orthonormal
from modlab.rules.module_kernels import (
    Layers,
    ntk_flops,
    ntk_kernels,
    ntk_matmul_flops,
    rbf_flops,
    rbf_kernels,
    rbf_matmul_flops,
)

RULE_VARIANTS = {"kernel_rule": "joint", "kernel_rule_per_module": "per_module"}
# Runs whose descents are evaluated at once, per device. CPU: one run's restarts at a time
# (benchmarks/kernel_rule_speed.py, three runs: every layout up to a dozen descents within the noise of the
# others, all 48 at once 2-3x slower as the n x n temporaries leave the cache; a run's own restarts together
# also keep its numbers those of a run searched alone). Elsewhere (CUDA, unmeasured) every run at once.
RUNS_PER_CHUNK = {"cpu": 1}


def variant_follows(data: Any, field: str) -> Any:
    """For a ``mode="before"`` validator of a config with a ``kernel_rule`` block: when ``data[field]``
    names a kernel-rule method, set ``kernel_rule.variant`` to that method's variant (a contradicting
    explicit variant is a ValueError naming both)."""
    if not isinstance(data, dict) or data.get(field) not in RULE_VARIANTS:
        return data
    variant = RULE_VARIANTS[data[field]]
    rule = data.get("kernel_rule", {})
    rule = rule.to_dict() if isinstance(rule, BaseModel) else dict(rule)  # type: ignore[attr-defined]  # a kernel_rule block is a modlab Config
    if rule.setdefault("variant", variant) != variant:
        raise ValueError(
            f"kernel_rule.variant = {rule['variant']!r}: {field} = {data[field]!r} runs the {variant!r} variant"
        )
    return {**data, "kernel_rule": rule}


class KernelRuleConfig(Config):
    """Every hyper-parameter of the projection search (docs/scaling.md §4)."""

    variant: Literal["joint", "per_module"] = Field(
        "joint", description="joint: all projections on the summed kernel; per_module: the paper's Algorithm 1"
    )
    kernel: Literal["module", "rbf"] = Field(
        "module", description="module: each module's empirical NTK at init; rbf: Gaussian, median bandwidth"
    )
    steps: int = Field(200, ge=1, description="Adam steps of every descent")
    batch_size: int = Field(512, ge=2, description="training points per step (all of them if fewer)")
    lr: float = Field(0.05, gt=0, description="Adam learning rate on the projections")
    joint_restarts: int = Field(
        6, ge=1, description="random starts R of the joint descent (per_module: one per module)"
    )
    ridge: float = Field(1e-3, gt=0, description="jitter ε relative to the kernel's mean diagonal")
    eval_size: int = Field(1024, ge=2, description="first training points on which final objectives are compared")
    record_every: int = Field(10, ge=1, description="steps between recorded projections (the overlap course)")

    def n_descents(self, n_modules: int) -> int:
        """Descents run side by side: R (joint) or K̂ (per_module)."""
        return self.joint_restarts if self.variant == "joint" else n_modules

    def modules_per_descent(self, n_modules: int) -> int:
        return n_modules if self.variant == "joint" else 1


@dataclass(frozen=True)
class KernelRuleResult:
    """What the search found. S descents of M modules each (joint: S = R, M = K̂; per_module:
    S = K̂, M = 1). Shapes: projections (K̂, D, b̂) — the network's initial projections;
    candidates (S, M, D, b̂) every descent's final projections; objectives (S,) final objectives on
    the evaluation points; traces (S, steps) mini-batch objective per step; history
    (T, S, M, D, b̂) the projections at ``history_steps``; ``chosen`` the kept restart (joint) or None."""

    projections: torch.Tensor
    candidates: torch.Tensor
    objectives: torch.Tensor
    traces: torch.Tensor
    history: torch.Tensor
    history_steps: list[int]
    chosen: int | None

    def path(self) -> torch.Tensor:
        """The network's projections along the search: (T, K̂, D, b̂)."""
        if self.chosen is None:
            return self.history[:, :, 0]
        return self.history[:, self.chosen]


def kernel_objective(kernel: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """``yᵀ(K + εI)⁻¹y`` with ε = ridge · mean diag K, by Cholesky. kernel (*lead, n, n), y (*lead, n) → (*lead,).

    Differentiable in ``kernel`` and ``y`` with the closed-form gradient (α = (K + εI)⁻¹y):
    ``∂/∂K = −ααᵀ − (ridge/n)(αᵀα) I`` and ``∂/∂y = 2α`` — no second factorisation in the backward pass.
    """
    return _QuadraticSolve.apply(kernel, y, ridge)


class _QuadraticSolve(torch.autograd.Function):
    @staticmethod
    def forward(ctx, kernel: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
        jitter = ridge * kernel.diagonal(dim1=-2, dim2=-1).mean(-1)
        regularised = kernel.clone()  # one pass over the n × n entries (no n × n identity)
        regularised.diagonal(dim1=-2, dim2=-1).add_(jitter.unsqueeze(-1))
        chol = torch.linalg.cholesky(regularised)
        alpha = torch.cholesky_solve(y.unsqueeze(-1), chol).squeeze(-1)
        ctx.save_for_backward(alpha)
        ctx.ridge = ridge
        return (y * alpha).sum(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (alpha,) = ctx.saved_tensors
        n = alpha.shape[-1]
        g = grad[..., None, None]
        d_kernel = (-g * alpha.unsqueeze(-1)) * alpha.unsqueeze(-2)
        d_jitter = -(grad * (alpha * alpha).sum(-1)) * ctx.ridge / n
        d_kernel.diagonal(dim1=-2, dim2=-1).add_(d_jitter.unsqueeze(-1))
        return d_kernel, 2 * grad.unsqueeze(-1) * alpha, None


def reorthonormalise(frames: torch.Tensor) -> torch.Tensor:
    """Orthonormal columns spanning each frame, by QR with sign(diag R) ≥ 0: (..., D, b) → (..., D, b)."""
    q, r = torch.linalg.qr(frames)
    signs = torch.sign(r.diagonal(dim1=-2, dim2=-1))
    return q * torch.where(signs == 0, torch.ones_like(signs), signs).unsqueeze(-2)


def module_kernels(z: torch.Tensor, kernel: str, layers: Layers | None) -> torch.Tensor:
    """Each module's kernel on its inputs: z (*lead, n, b̂) → (*lead, n, n); ``layers`` broadcast
    against ``*lead`` (needed for ``kernel="module"``)."""
    if kernel == "rbf":
        return rbf_kernels(z)
    if layers is None:
        raise ValueError("kernel = 'module' needs the modules' initial layers")
    return ntk_kernels(z, layers)


def mean_module_kernel(z: torch.Tensor, kernel: str, layers: Layers | None) -> torch.Tensor:
    """``M⁻¹ Σ_j K_j``: z (S, M, n, b̂) → (S, n, n), batched over descents and accumulated over the
    M modules one at a time (a CPU search is memory-bound: this keeps one S × n × n kernel live,
    not S × M of them). ``layers`` laid out by :func:`descent_layers`."""
    total = 0
    for j in range(z.shape[1]):
        module_layers = None if layers is None else [(w[:, j], b[:, j]) for w, b in layers]
        total = total + module_kernels(z[:, j], kernel, module_layers)  # type: ignore[assignment]  # the sum starts at 0, then is a tensor
    return total / z.shape[1]  # type: ignore[return-value]  # a tensor: see the sum above


def draw_search(
    generators: Sequence[torch.Generator],
    per_descent: int,
    input_dim: int,
    module_dim: int,
    n_train: int,
    cfg: KernelRuleConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every descent's random start and mini-batches, each from its own generator.
    Returns starts (S, M, D, b̂) and batch indices (S, steps, B)."""
    starts, batches = [], []
    size = min(cfg.batch_size, n_train)
    for gen in generators:
        starts.append(torch.stack([random_orthonormal(input_dim, module_dim, gen) for _ in range(per_descent)]))
        batches.append(torch.stack([torch.randperm(n_train, generator=gen)[:size] for _ in range(cfg.steps)]))
    return torch.stack(starts), torch.stack(batches)


def descent_layers(layers: Layers | None, variant: str) -> Layers | None:
    """Module weights laid out against (S, M): joint (1, K̂, …) — every restart uses all modules;
    per_module (K̂, 1, …) — descent j uses module j."""
    if layers is None:
        return None
    axis = 0 if variant == "joint" else 1
    return [(w.unsqueeze(axis), b.unsqueeze(axis)) for w, b in layers]


def run_descent_layers(layers: Layers | None, variant: str, per_run: int) -> Layers | None:
    """Runs' module weights ``[(W (R, K̂, …), bias (R, K̂, …))]`` laid out against the descents of all
    runs (R·S, M), run-major: joint (R·R_restarts, K̂, …) — every restart its run's modules;
    per_module (R·K̂, 1, …). With one run the joint layout stays broadcast (1, K̂, …)."""
    if layers is None:
        return None
    if variant == "per_module":
        return [(w.flatten(0, 1).unsqueeze(1), b.flatten(0, 1).unsqueeze(1)) for w, b in layers]
    if len(layers[0][0]) == 1:
        return list(layers)
    return [(w.repeat_interleave(per_run, 0), b.repeat_interleave(per_run, 0)) for w, b in layers]


def find_projections(
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: KernelRuleConfig,
    n_modules: int,
    module_dim: int,
    generators: Sequence[torch.Generator],
    layers: Layers | None = None,
) -> KernelRuleResult:
    """The batched search of one run. x (n, D), y (n,); ``generators``: one per descent
    (``cfg.n_descents(n_modules)``); ``layers``: the modules' initial weights stacked over modules,
    ``[(W (K̂, out, in), bias (K̂, out))]`` (for ``kernel="module"``)."""
    run_layers = None if layers is None else [(w[None], b[None]) for w, b in layers]
    return find_projections_batch(x[None], y[None], cfg, n_modules, module_dim, [generators], run_layers)[0]


def find_projections_batch(
    xs: torch.Tensor,
    ys: torch.Tensor,
    cfg: KernelRuleConfig,
    n_modules: int,
    module_dim: int,
    generators: Sequence[Sequence[torch.Generator]],
    layers: Layers | None = None,
    descents_per_chunk: int | None = None,
) -> list[KernelRuleResult]:
    """The search of R runs as one computation: every run's descents side by side (R·S descents,
    run-major), each on its own run's data. xs (R, n, D), ys (R, n); ``generators[r]``: run r's,
    one per descent; ``layers`` ``[(W (R, K̂, out, in), bias (R, K̂, out))]``. Each step evaluates
    the objective ``descents_per_chunk`` descents at a time (default: the descents of
    :data:`RUNS_PER_CHUNK` runs for the device) and takes one Adam step for all; the chunk size
    changes no number beyond rounding. Returns each
    run's result, equal to :func:`find_projections` of that run alone."""
    if len(generators) != len(xs):
        raise ValueError(f"{len(xs)} runs but {len(generators)} lists of generators: one list per run")
    for run_generators in generators:
        _check_generators(cfg, n_modules, run_generators)
    per_descent, per_run = cfg.modules_per_descent(n_modules), cfg.n_descents(n_modules)
    draws = [draw_search(g, per_descent, xs.shape[-1], module_dim, xs.shape[1], cfg) for g in generators]
    starts = torch.cat([s for s, _ in draws]).to(xs.device, xs.dtype)
    batches = torch.cat([b for _, b in draws]).to(xs.device)
    run_of = torch.arange(len(xs), device=xs.device).repeat_interleave(per_run)[:, None]
    layers = run_descent_layers(layers, cfg.variant, per_run)
    chunk = descents_per_chunk or per_run * RUNS_PER_CHUNK.get(xs.device.type, len(xs))
    chunks = [slice(i, i + chunk) for i in range(0, len(starts), chunk)]
    frames = starts.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([frames], lr=cfg.lr)
    traces, history = [], [starts]
    for step in range(cfg.steps):
        idx = batches[:, step]
        x_batch, y_batch = xs[run_of, idx], ys[run_of, idx]
        optimiser.zero_grad()
        objectives = []
        for part in chunks:
            z = torch.einsum("smdb,snd->smnb", frames[part], x_batch[part])
            objective = kernel_objective(
                mean_module_kernel(z, cfg.kernel, _chunk_layers(layers, part)), y_batch[part], cfg.ridge
            )
            objective.sum().backward()
            objectives.append(objective.detach())
        optimiser.step()
        with torch.no_grad():
            frames.copy_(reorthonormalise(frames))
        traces.append(torch.cat(objectives))
        if (step + 1) % cfg.record_every == 0 or step + 1 == cfg.steps:
            history.append(frames.detach().clone())
    final = frames.detach()
    runs = [slice(r * per_run, (r + 1) * per_run) for r in range(len(xs))]
    objectives = torch.cat(  # type: ignore[assignment]  # the name now holds the final objectives
        [evaluate_objectives(x, y, final[run], cfg, _chunk_layers(layers, run)) for x, y, run in zip(xs, ys, runs)]
    )
    traces_t, history_t = torch.stack(traces, 1), torch.stack(history)
    return [_result(cfg, final[run], objectives[run], traces_t[run], history_t[:, run]) for run in runs]


def _chunk_layers(layers: Layers | None, part: slice) -> Layers | None:
    """The layers of descents ``part`` (broadcast layers, leading size 1, are shared)."""
    if layers is None:
        return None
    return [(w if len(w) == 1 else w[part], b if len(b) == 1 else b[part]) for w, b in layers]


@torch.no_grad()
def evaluate_objectives(
    x: torch.Tensor, y: torch.Tensor, frames: torch.Tensor, cfg: KernelRuleConfig, layers: Layers | None
) -> torch.Tensor:
    """Each descent's objective on the first ``cfg.eval_size`` points: x (n, D), y (n,), frames
    (S, M, D, b̂), ``layers`` laid out by :func:`descent_layers` or :func:`run_descent_layers` → (S,)."""
    x_eval, y_eval = x[: cfg.eval_size], y[: cfg.eval_size]
    z = torch.einsum("smdb,nd->smnb", frames, x_eval)
    return kernel_objective(mean_module_kernel(z, cfg.kernel, layers), y_eval.expand(len(frames), -1), cfg.ridge)


def find_projections_reference(
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: KernelRuleConfig,
    n_modules: int,
    module_dim: int,
    generators: Sequence[torch.Generator],
    layers: Layers | None = None,
) -> KernelRuleResult:
    """The same search, descents one after another and a Python loop over modules (the reference
    that :func:`find_projections` is checked against, and the benchmark's baseline)."""
    per_descent = _check_generators(cfg, n_modules, generators)
    starts, batches = draw_search(generators, per_descent, x.shape[1], module_dim, x.shape[0], cfg)
    starts, batches = starts.to(x.device, x.dtype), batches.to(x.device)
    finals, objectives, traces, histories = [], [], [], []
    for s, start in enumerate(starts):
        descent_modules = range(n_modules) if cfg.variant == "joint" else [s]
        frames = start.clone().requires_grad_(True)
        optimiser = torch.optim.Adam([frames], lr=cfg.lr)
        trace, history = [], [start]
        for step in range(cfg.steps):
            idx = batches[s, step]
            objective = _summed_objective(frames, x[idx], y[idx], cfg, layers, descent_modules)
            optimiser.zero_grad()
            objective.backward()
            optimiser.step()
            with torch.no_grad():
                frames.copy_(reorthonormalise(frames))
            trace.append(objective.detach())
            if (step + 1) % cfg.record_every == 0 or step + 1 == cfg.steps:
                history.append(frames.detach().clone())
        with torch.no_grad():
            objectives.append(
                _summed_objective(frames, x[: cfg.eval_size], y[: cfg.eval_size], cfg, layers, descent_modules)
            )
        finals.append(frames.detach())
        traces.append(torch.stack(trace))
        histories.append(torch.stack(history))
    return _result(cfg, torch.stack(finals), torch.stack(objectives), torch.stack(traces), torch.stack(histories, 1))


def _summed_objective(frames, x, y, cfg, layers, descent_modules) -> torch.Tensor:
    """One descent's objective with its modules' kernels summed in a loop: frames (M, D, b̂) → ()."""
    kernel = 0
    for slot, module in enumerate(descent_modules):
        module_layers = None if layers is None else [(w[module], b[module]) for w, b in layers]
        kernel = kernel + module_kernels(x @ frames[slot], cfg.kernel, module_layers)  # type: ignore[assignment]  # the sum starts at 0, then is a tensor
    return kernel_objective(kernel / len(descent_modules), y, cfg.ridge)  # type: ignore[arg-type]  # a tensor: see the sum above


def _check_generators(cfg: KernelRuleConfig, n_modules: int, generators: Sequence[torch.Generator]) -> int:
    if len(generators) != cfg.n_descents(n_modules):
        raise ValueError(
            f"{len(generators)} generators: the {cfg.variant} rule with {n_modules} modules runs "
            f"{cfg.n_descents(n_modules)} descents, one generator each"
        )
    return cfg.modules_per_descent(n_modules)


def _result(cfg, final, objectives, traces, history) -> KernelRuleResult:
    if cfg.variant == "joint":
        chosen = int(torch.argmin(objectives))
        projections = final[chosen]
    else:
        chosen = None
        projections = final[:, 0]
    steps = [0] + [s + 1 for s in range(cfg.steps) if (s + 1) % cfg.record_every == 0 or s + 1 == cfg.steps]
    return KernelRuleResult(projections, final, objectives, traces, history, steps, chosen)


def cholesky_flops(n: int) -> float:
    """FLOPs of the Cholesky factorisation of an n × n matrix: n³/3 (leading order; the exact
    count of the textbook algorithm is n³/3 + n²/2 + n/6, square roots counted as one FLOP)."""
    return n**3 / 3


def cholesky_solve_flops(n: int) -> float:
    """FLOPs of solving with a Cholesky factor (one forward and one backward substitution): 2n²."""
    return 2.0 * n * n


def qr_flops(rows: int, cols: int) -> float:
    """FLOPs of the Householder QR of a rows × cols matrix (rows ≥ cols): 2·rows·cols² − 2cols³/3."""
    return 2.0 * rows * cols * cols - 2.0 * cols**3 / 3


def search_flop_parts(
    cfg: KernelRuleConfig,
    n_train: int,
    input_dim: int,
    n_modules: int,
    module_dim: int,
    widths: Sequence[int] | None,
) -> dict[str, float]:
    """Estimated FLOPs of the whole search (every descent's steps on its mini-batch, plus the final
    evaluation on ``eval_size`` points), split into ``matmul`` (the projections ``Ûᵀx`` and the
    kernels' matmuls), ``decompositions`` (Cholesky, its solve, the QR re-orthonormalisation) and
    ``elementwise`` (the rest of the kernels, the jitter, Adam). A step's backward pass is counted as
    twice its forward for matmuls and elementwise work (an upper bound: the projections' backward is
    one matmul, not two) and as 3n² for the solve (its gradient is closed form, no second
    factorisation). ``widths``: a module's layer widths ``(b̂, h_1, …, 1)`` (module kernel)."""
    modules = cfg.modules_per_descent(n_modules)
    frame_params = modules * input_dim * module_dim

    def forward(n: int) -> dict[str, float]:
        if cfg.kernel == "rbf":
            kernel, kernel_matmul = rbf_flops(n, module_dim), rbf_matmul_flops(n, module_dim)
        else:
            kernel, kernel_matmul = ntk_flops(n, widths), ntk_matmul_flops(n, widths)  # type: ignore[arg-type]  # the module kernel always comes with widths
        return {
            "matmul": modules * (kernel_matmul + 2.0 * n * input_dim * module_dim),
            "decompositions": cholesky_flops(n) + cholesky_solve_flops(n),
            "elementwise": modules * (kernel - kernel_matmul + n * n) + 4.0 * n,
        }

    step, final = forward(min(cfg.batch_size, n_train)), forward(min(cfg.eval_size, n_train))
    batch = min(cfg.batch_size, n_train)
    per_step = {
        "matmul": 3 * step["matmul"],
        "decompositions": step["decompositions"] + 3.0 * batch * batch + modules * qr_flops(input_dim, module_dim),
        "elementwise": 3 * step["elementwise"] + 10.0 * frame_params,
    }
    return {part: cfg.n_descents(n_modules) * (cfg.steps * per_step[part] + final[part]) for part in per_step}


def search_flops(
    cfg: KernelRuleConfig,
    n_train: int,
    input_dim: int,
    n_modules: int,
    module_dim: int,
    widths: Sequence[int] | None,
) -> float:
    """Estimated FLOPs of the whole search: the sum of :func:`search_flop_parts`."""
    return sum(search_flop_parts(cfg, n_train, input_dim, n_modules, module_dim, widths).values())
