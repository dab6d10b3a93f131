"""Experiment ``sine``: a monolithic, modular or mixture-of-experts network trained on paper A's
modular sine-wave task (docs/scaling.md §2–3).

One run = one network (seed) on one task draw (``task.seed``) with ``task.n_train`` samples. Runs
that differ only in ``seed``, ``task.seed``, ``task.n_train`` or ``train.lr`` are trained as one
ensemble (:func:`~modlab.train.ensemble.train_ensemble`), each member on its own data.

Metrics (every loss is a mean squared error; ``*_nmse`` divides it by the variance of that set's
own targets, so predicting a constant scores ≈ 1): ``test``
(in distribution, the training ρ), ``ood`` (combinatorial shift, ρ = 0; orthogonal layout only),
``scale`` (x ~ N(0, s² I)), ``train`` (the fitting part of the training set, noisy labels); the
loss curves ``train_curve_nmse`` and ``test_curve_nmse`` (curves over training steps); ``n_params``;
``stopped_at``; ``train_flops`` (:func:`train_flops`); and, for modular networks, the structure
measures of :mod:`modlab.measures.overlap` (overlaps in cos² of the principal angles): ``projection_overlap`` (mean over true modules of the best overlap
with a learned projection, after training; 1 = a learned module reads exactly that subspace),
``overlap_matrix`` (the K × K̂ overlaps after training, an array) and ``overlap_curve`` (the mean
overlap over training steps).

Projections at init (``projection_init``): ``random``, ``true`` (the task's U_i), or found by the
kernel rule of :mod:`modlab.rules.kernel_rule` on the run's fitting samples with the network's own
initial modules — ``kernel_rule`` (the joint variant, modlab's default) or ``kernel_rule_per_module``
(the paper's Algorithm 1); ``kernel_rule`` holds the search settings, its ``variant`` follows
``projection_init``. Kernel-rule runs also report ``search_seconds``, ``search_flops``
(:func:`~modlab.rules.kernel_rule.search_flops`), ``search_objective`` (the kept restart's; for the
per-module rule the mean of its descents') and the overlap along the search,
``search_overlap_curve`` (over search steps). Per-module runs with K̂, b̂ = K, b also report the
single-module objective ``yᵀ(K_j + εI)⁻¹y`` on the search's evaluation points at every descent's
found direction (``module_objective_found``, K̂ values) and at every true direction
(``module_objective_true``, K values, true direction i with module i's kernel). ``total_flops``
is ``train_flops`` plus ``search_flops`` for every run.

Seeds (modlab): a network's init and its mini-batch order come from two streams derived from
``seed`` alone, so the same network seed gives the same initial network at every n and task draw.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import nn

from modlab.config import MAX_SEED, Config
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.measures import mean_overlap, overlap_matrix
from modlab.metrics import Array, Curve
from modlab.models import MLP, ModularMLP, count_params, width_for_budget
from modlab.rules.kernel_rule import (
    RULE_VARIANTS,
    KernelRuleConfig,
    KernelRuleResult,
    descent_layers,
    evaluate_objectives,
    find_projections_batch,
    search_flops,
    variant_follows,
)
from modlab.rules.module_kernels import stack_module_layers
from modlab.seeding import named_generator
from modlab.tasks.sine import SineTask, SineTaskConfig, make_sine_task
from modlab.train.engine import chosen_engine
from modlab.train.ensemble import TrainSettings, pad_members, train_ensemble

DEFAULT_HIDDEN = {"monolithic": (256, 256), "modular": (32, 32), "moe": (32, 32)}


class SineModelConfig(Config):
    """The network. ``hidden`` is the whole MLP's (monolithic) or each module's (modular, moe);
    None takes the kind's default. ``param_budget`` sets every hidden layer (depth kept) to the one
    width whose parameter count is closest to the budget. K̂, b̂ default to the task's K, b."""

    kind: Literal["monolithic", "modular", "moe"] = Field(
        "monolithic", description="network: one MLP, modules, or mixture of experts"
    )
    hidden: tuple[int, ...] | None = Field(None, description="hidden widths (each module's); None: the kind's default")
    n_modules: int | None = Field(None, ge=1, description="K̂ (modular, moe)")
    module_dim: int | None = Field(None, ge=1, description="b̂ (modular)")
    param_budget: int | None = Field(None, ge=1, description="set the hidden width to match this parameter count")

    @model_validator(mode="after")
    def _check(self) -> SineModelConfig:
        if self.hidden is not None and (not self.hidden or min(self.hidden) < 1):
            raise ValueError(f"model.hidden = {self.hidden}: one or more widths, each ≥ 1")
        return self


class SineConfig(Config):
    """One network trained on one draw of the modular sine-wave task."""

    task: SineTaskConfig = SineTaskConfig()
    model: SineModelConfig = SineModelConfig()
    train: TrainSettings = TrainSettings(steps=1500, batch_size=256, lr=1e-3)
    projection_init: Literal["random", "true", "kernel_rule", "kernel_rule_per_module"] = Field(
        "random",
        description="modular projections at init: random orthonormal, the task's true U_i, or found by the kernel "
        "rule (joint variant, or the paper's per-module Algorithm 1)",
    )
    kernel_rule: KernelRuleConfig = KernelRuleConfig()
    seed: int = Field(0, ge=0, le=MAX_SEED, description="network seed: init and mini-batch order")

    @field_validator("projection_init", mode="before")
    @classmethod
    def _yaml_true(cls, value):
        """YAML reads an unquoted ``true`` as a boolean: take it as the value 'true'."""
        return "true" if value is True else value

    @model_validator(mode="before")
    @classmethod
    def _kernel_rule_variant(cls, data: Any) -> Any:
        """``kernel_rule.variant`` follows ``projection_init`` (an explicit contradicting one is an error)."""
        return variant_follows(data, "projection_init")

    @model_validator(mode="after")
    def _check(self) -> SineConfig:
        kind = self.model.kind
        if kind == "modular" and self.module_dim > self.task.input_dim:
            raise ValueError(f"model.module_dim = {self.module_dim}: must be ≤ task.input_dim = {self.task.input_dim}")
        if self.projection_init != "random":
            if kind != "modular":
                raise ValueError(
                    f"projection_init = {self.projection_init!r} needs model.kind 'modular' (got {kind!r})"
                )
            if self.projection_init == "true" and (self.n_modules, self.module_dim) != (
                self.task.n_modules,
                self.task.module_dim,
            ):
                raise ValueError(
                    f"projection_init = 'true' needs K̂, b̂ = task's {self.task.n_modules}, {self.task.module_dim} "
                    f"(got {self.n_modules}, {self.module_dim})"
                )
        return self

    @property
    def n_modules(self) -> int:
        """K̂: the model's, else the task's."""
        return self.model.n_modules or self.task.n_modules

    @property
    def module_dim(self) -> int:
        """b̂: the model's, else the task's."""
        return self.model.module_dim or self.task.module_dim

    @property
    def hidden(self) -> tuple[int, ...]:
        """Hidden widths after the default and the parameter budget are applied."""
        hidden = self.model.hidden or DEFAULT_HIDDEN[self.model.kind]
        if self.model.param_budget is None:
            return hidden
        width = width_for_budget(self.model.param_budget, lambda w: self.count((w,) * len(hidden)))
        return (width,) * len(hidden)

    def count(self, hidden: tuple[int, ...]) -> int:
        """Parameters of this config's network with the given hidden widths."""
        if self.model.kind == "monolithic":
            return MLP.n_params(self.task.input_dim, hidden)
        return ModularMLP.n_params(
            self.task.input_dim, self.n_modules, self.module_dim, hidden, read_all=self.model.kind == "moe"
        )


def stream(seed: int, purpose: str) -> torch.Generator:
    """An independent generator per (network seed, purpose)."""
    return named_generator("sine-net", seed, purpose)


def build_model(cfg: SineConfig, task: SineTask) -> nn.Module:
    """The config's network, initialised from its seed (projections per ``projection_init``)."""
    gen = stream(cfg.seed, "init")
    if cfg.model.kind == "monolithic":
        return MLP(cfg.task.input_dim, cfg.hidden, 1, gen)
    model = ModularMLP(
        cfg.task.input_dim, cfg.n_modules, cfg.module_dim, cfg.hidden, read_all=cfg.model.kind == "moe", generator=gen
    )
    if cfg.model.kind == "modular":
        with torch.no_grad():
            model.projections.copy_(initial_projections(cfg, task, model.projections))
    return model


def initial_projections(cfg: SineConfig, task: SineTask, random_init: torch.Tensor) -> torch.Tensor:
    """The modular network's starting Û (K̂, D, b̂) for ``cfg.projection_init``."""
    if cfg.projection_init == "true":
        return task.projections
    return random_init


def kernel_searches(
    configs: Sequence[SineConfig], tasks: Sequence[SineTask], models: Sequence[nn.Module], device: torch.device
) -> list[tuple[KernelRuleResult, float] | None]:
    """For kernel-rule runs: find the projections on each run's fitting samples with the network's
    own initial modules and write them into its model; per run (result, seconds) or None.

    Runs with the same number of fitting samples search as one computation
    (:func:`~modlab.rules.kernel_rule.find_projections_batch`), each charged an equal share of its
    group's seconds; with the ``loop`` engine (the reference paths) each run searches alone."""
    found: list[tuple[KernelRuleResult, float] | None] = [None] * len(configs)
    by_size: dict[int, list[int]] = {}
    for i, cfg in enumerate(configs):
        if cfg.projection_init in RULE_VARIANTS:
            by_size.setdefault(fit_size(cfg), []).append(i)
    groups = list(by_size.values())
    if chosen_engine() == "loop":
        groups = [[i] for members in groups for i in members]
    for members in groups:
        cfg = configs[members[0]]
        n_fit = fit_size(cfg)
        start = time.perf_counter()
        results = find_projections_batch(
            torch.stack([tasks[i].x_train[:n_fit] for i in members]).to(device),
            torch.stack([tasks[i].y_train[:n_fit] for i in members]).to(device),
            cfg.kernel_rule,
            cfg.n_modules,
            cfg.module_dim,
            [search_generators(configs[i]) for i in members],
            stacked_runs([stack_module_layers(models[i].blocks) for i in members], device),  # type: ignore[arg-type]  # a ModularMLP's blocks; torch types them as Module
        )
        seconds = (time.perf_counter() - start) / len(members)
        for i, result in zip(members, results):
            with torch.no_grad():
                models[i].projections.copy_(result.projections.cpu())  # type: ignore[operator]  # a ModularMLP's projections; torch types them as Module
            found[i] = (result, seconds)
    return found


def fit_size(cfg: SineConfig) -> int:
    """Training samples the network fits (the rest validate)."""
    return cfg.task.n_train - round(cfg.train.val_fraction * cfg.task.n_train)


def search_generators(cfg: SineConfig) -> list[torch.Generator]:
    """One generator per descent of the run's projection search."""
    return [stream(cfg.seed, f"kernel-rule/{i}") for i in range(cfg.kernel_rule.n_descents(cfg.n_modules))]


def stacked_runs(layers: Sequence[list[tuple[torch.Tensor, torch.Tensor]]], device: torch.device):
    """Runs' module layers ``[(W (K̂, …), bias (K̂, …))]`` stacked over runs:
    ``[(W (R, K̂, …), bias (R, K̂, …))]``."""
    return [
        (torch.stack([run[i][0] for run in layers]).to(device), torch.stack([run[i][1] for run in layers]).to(device))
        for i in range(len(layers[0]))
    ]


def train_flops(n_params: float, samples_per_step: int, steps: float) -> float:
    """Training FLOPs, 6 × parameters × samples per step × steps: per weight and sample 2 for the
    forward multiply-add and 4 for the backward (the gradients of the weight and of its input). Biases
    and the first layer's input gradient are counted as well, so this bounds the matmul count from
    above (by ≤ 20% on the sine networks, checked against ``torch.utils.flop_counter``)."""
    return 6.0 * n_params * samples_per_step * steps


def rule_flops(cfg: SineConfig) -> float:
    """Estimated FLOPs of the run's projection search (0 unless a kernel-rule run)."""
    if cfg.projection_init not in RULE_VARIANTS:
        return 0.0
    widths = (cfg.module_dim, *cfg.hidden, 1)
    return search_flops(cfg.kernel_rule, fit_size(cfg), cfg.task.input_dim, cfg.n_modules, cfg.module_dim, widths)


def true_direction_objectives(cfg: SineConfig, task: SineTask, model: nn.Module, device: torch.device) -> list[float]:
    """The per-module objective at each true direction u_i with module i's initial kernel, on the
    points where the search compares its final objectives: → K values (needs K̂, b̂ = K, b)."""
    n_fit = cfg.task.n_train - round(cfg.train.val_fraction * cfg.task.n_train)
    layers = [(w.to(device), b.to(device)) for w, b in stack_module_layers(model.blocks)]  # type: ignore[arg-type]  # a ModularMLP's blocks; torch types them as Module
    frames = task.projections.to(device).unsqueeze(1)
    x, y = task.x_train[:n_fit].to(device), task.y_train[:n_fit].to(device)
    return evaluate_objectives(x, y, frames, cfg.kernel_rule, descent_layers(layers, "per_module")).cpu().tolist()


def _search_metrics(task: SineTask, found: tuple[KernelRuleResult, float]) -> Metrics:
    result, seconds = found
    objective = result.objectives.mean() if result.chosen is None else result.objectives[result.chosen]
    return {
        "search_seconds": seconds,
        "search_objective": float(objective),
        "search_overlap_curve": Curve(
            result.history_steps, mean_overlap(task.projections, result.path().cpu()).tolist()
        ),
    }


def run_batch(configs: Sequence[SineConfig], device: torch.device) -> list[Metrics]:
    """Train the configs (differing only in batch axes) as one ensemble and measure each member."""
    tasks = [make_sine_task(c.task) for c in configs]
    models = [build_model(c, t) for c, t in zip(configs, tasks)]
    searches = kernel_searches(configs, tasks, models, device)
    true_objectives = [
        true_direction_objectives(c, t, m, device) if _compares_true_directions(c) else None
        for c, t, m in zip(configs, tasks, models)
    ]
    settings = configs[0].train
    tests = ([t.x_test for t in tasks], [t.y_test for t in tasks])
    modular = configs[0].model.kind == "modular"
    true = torch.stack([t.projections for t in tasks]).to(device)
    probes = {"overlap": lambda params: mean_overlap(true, params["projections"]).float()} if modular else {}
    result = train_ensemble(
        models,
        [t.x_train for t in tasks],
        [t.y_train for t in tasks],
        settings,
        [stream(c.seed, "order") for c in configs],
        lrs=[c.train.lr for c in configs],
        eval_sets={"test": tests},
        device=device,
        probes=probes,
    )
    n_fit = [fit_size(c) for c in configs]
    sets = {name: [t.sets().get(name) for t in tasks] for name in ("test", "ood", "scale")}
    sets["train"] = [(t.x_train[:n], t.y_train[:n]) for t, n in zip(tasks, n_fit)]
    metrics: list[Metrics] = [{} for _ in configs]
    for name, members in sets.items():
        if members[0] is None:
            continue
        for i, mse in enumerate(_member_mse(result, members, device)):  # type: ignore[arg-type]  # members[0] is None for absent sets only
            variance = float(members[i][1].var())  # type: ignore[index]  # members[0] is None for absent sets only
            metrics[i][f"{name}_mse"] = mse
            metrics[i][f"{name}_nmse"] = mse / variance
    train_var = [float(t.y_train[:n].var()) for t, n in zip(tasks, n_fit)]
    test_var = [float(t.y_test.var()) for t in tasks]
    for i, (cfg, task) in enumerate(zip(configs, tasks)):
        metrics[i]["train_curve_nmse"] = Curve(result.eval_steps, (result.curves["train"][i] / train_var[i]).tolist())
        metrics[i]["test_curve_nmse"] = Curve(result.eval_steps, (result.curves["test"][i] / test_var[i]).tolist())
        n_params, steps_run = count_params(models[i]), int(result.stopped_at[i])
        training = train_flops(n_params, settings.batch_size or n_fit[i], steps_run)
        search = rule_flops(cfg)
        metrics[i].update(
            stopped_at=steps_run,
            n_params=n_params,
            train_flops=training,
            search_flops=search,
            total_flops=training + search,
        )
        if modular:
            learned = result.params["projections"][i].cpu()
            metrics[i]["projection_overlap"] = float(mean_overlap(task.projections, learned))
            metrics[i]["overlap_matrix"] = Array(overlap_matrix(task.projections, learned))
            metrics[i]["overlap_curve"] = Curve(result.eval_steps, result.curves["overlap"][i].tolist())
        found, at_true = searches[i], true_objectives[i]
        if found is not None:
            metrics[i].update(_search_metrics(task, found))
        if found is not None and at_true is not None:
            metrics[i]["module_objective_true"] = at_true
            metrics[i]["module_objective_found"] = found[0].objectives.cpu().tolist()
    return metrics


def _compares_true_directions(cfg: SineConfig) -> bool:
    """Per-module kernel-rule runs whose modules pair one-to-one with the task's."""
    same_shape = (cfg.n_modules, cfg.module_dim) == (cfg.task.n_modules, cfg.task.module_dim)
    return cfg.projection_init == "kernel_rule_per_module" and same_shape


def _member_mse(result, members: list[tuple[torch.Tensor, torch.Tensor]], device: torch.device) -> list[float]:
    """Each member's MSE on its own set (padded to one length, padding weighted 0)."""
    padded = pad_members([x for x, _ in members], [y for _, y in members], device)
    with torch.no_grad():
        pred = result.predict(padded.x).squeeze(-1)
    return (((pred - padded.y) ** 2) * padded.weights).sum(-1).cpu().tolist()


EXPERIMENT = register(
    Experiment(
        name="sine",
        config=SineConfig,
        run_batch=run_batch,  # type: ignore[arg-type]  # Experiment is not generic in its config class
        description="paper A's modular sine-wave task: monolithic / modular / mixture-of-experts networks",
        batch_axes=("seed", "task.seed", "task.n_train", "train.lr"),
    )
)

__all__ = ["SineConfig", "SineModelConfig", "build_model", "kernel_searches", "run_batch", "EXPERIMENT"]
