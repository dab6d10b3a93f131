"""Experiment ``sine``: a monolithic, modular or mixture-of-experts network trained on paper A's
modular sine-wave task (spec A §2–3).

One run = one network (seed) on one task draw (``task.seed``) with ``task.n_train`` samples. Runs
that differ only in ``seed``, ``task.seed``, ``task.n_train`` or ``train.lr`` are trained as one
ensemble (:func:`~modlab.engine.ensemble.train_ensemble`), each member on its own data.

Metrics (every loss is a mean squared error; ``*_nmse`` divides it by the variance of that set's
own targets, so predicting a constant scores ≈ 1, as the spec's "test MSE / Var(y)"): ``test``
(in distribution, the training ρ), ``ood`` (combinatorial shift, ρ = 0; orthogonal layout only),
``scale`` (x ~ N(0, s² I)), ``train`` (the fitting part of the training set, noisy labels); the
loss curves ``train_curve_nmse`` and ``test_curve_nmse`` at ``curve_steps``; ``n_params``;
``stopped_at``; and, for modular networks, ``projection_overlap`` — the mean over true modules of
the best ``‖Uᵢᵀ Û_j‖²_F / b`` over learned modules (1 = a learned module reads exactly that
subspace; meaningful when b̂ = b).

Seeds (modlab): a network's init and its mini-batch order come from two streams derived from
``seed`` alone, so the same network seed gives the same initial network at every n and task draw.
"""

from __future__ import annotations

import hashlib
from typing import Literal, Sequence

import torch
from pydantic import Field, field_validator, model_validator
from torch import nn

from modlab.config import Config
from modlab.engine.ensemble import TrainSettings, pad_members, train_ensemble
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.models import MLP, ModularMLP, count_params, width_for_budget
from modlab.tasks.sine import SineTask, SineTaskConfig, make_sine_task

DEFAULT_HIDDEN = {"monolithic": (256, 256), "modular": (32, 32), "moe": (32, 32)}


class SineModelConfig(Config):
    """The network. ``hidden`` is the whole MLP's (monolithic) or each module's (modular, moe);
    None takes the kind's default. ``param_budget`` sets every hidden layer (depth kept) to the one
    width whose parameter count is closest to the budget. K̂, b̂ default to the task's K, b."""

    kind: Literal["monolithic", "modular", "moe"] = "monolithic"
    hidden: tuple[int, ...] | None = None
    n_modules: int | None = Field(None, ge=1, description="K̂ (modular, moe)")
    module_dim: int | None = Field(None, ge=1, description="b̂ (modular)")
    param_budget: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "SineModelConfig":
        if self.hidden is not None and (not self.hidden or min(self.hidden) < 1):
            raise ValueError(f"model.hidden = {self.hidden}: one or more widths, each ≥ 1")
        return self


class SineConfig(Config):
    """One network trained on one draw of the modular sine-wave task."""

    task: SineTaskConfig = SineTaskConfig()
    model: SineModelConfig = SineModelConfig()
    train: TrainSettings = TrainSettings(steps=1500, batch_size=256, lr=1e-3)
    projection_init: Literal["random", "true"] = Field(
        "random", description="modular projections at init: random orthonormal, or the task's true U_i"
    )
    seed: int = Field(0, ge=0, description="network seed: init and mini-batch order")

    @field_validator("projection_init", mode="before")
    @classmethod
    def _yaml_true(cls, value):
        """YAML reads an unquoted ``true`` as a boolean: take it as the value 'true'."""
        return "true" if value is True else value

    @model_validator(mode="after")
    def _check(self) -> "SineConfig":
        kind = self.model.kind
        if kind == "modular" and self.module_dim > self.task.input_dim:
            raise ValueError(f"model.module_dim = {self.module_dim}: must be ≤ task.input_dim = {self.task.input_dim}")
        if self.projection_init != "random":
            if kind != "modular":
                raise ValueError(f"projection_init = {self.projection_init!r} needs model.kind 'modular' (got {kind!r})")
            if self.projection_init == "true" and (self.n_modules, self.module_dim) != (self.task.n_modules, self.task.module_dim):
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
        return ModularMLP.n_params(self.task.input_dim, self.n_modules, self.module_dim, hidden, read_all=self.model.kind == "moe")


def stream(seed: int, purpose: str) -> torch.Generator:
    """An independent generator per (network seed, purpose)."""
    digest = hashlib.sha256(f"sine-net/{seed}/{purpose}".encode()).hexdigest()
    return torch.Generator().manual_seed(int(digest[:15], 16))


def build_model(cfg: SineConfig, task: SineTask) -> nn.Module:
    """The config's network, initialised from its seed (projections per ``projection_init``)."""
    gen = stream(cfg.seed, "init")
    if cfg.model.kind == "monolithic":
        return MLP(cfg.task.input_dim, cfg.hidden, 1, gen)
    model = ModularMLP(cfg.task.input_dim, cfg.n_modules, cfg.module_dim, cfg.hidden, read_all=cfg.model.kind == "moe", generator=gen)
    if cfg.model.kind == "modular":
        with torch.no_grad():
            model.projections.copy_(initial_projections(cfg, task, model.projections))
    return model


def initial_projections(cfg: SineConfig, task: SineTask, random_init: torch.Tensor) -> torch.Tensor:
    """The modular network's starting Û (K̂, D, b̂) for ``cfg.projection_init``."""
    if cfg.projection_init == "true":
        return task.projections
    return random_init


def projection_overlap(true: torch.Tensor, learned: torch.Tensor) -> float:
    """Mean over true modules of max over learned modules of ‖Uᵢᵀ Û_j‖²_F / b, with each Û_j
    orthonormalised first. true (K, D, b), learned (K̂, D, b̂)."""
    basis, _ = torch.linalg.qr(learned.double())
    overlaps = torch.einsum("idb,jdc->ijbc", true.double(), basis).pow(2).sum((-1, -2)) / true.shape[-1]
    return float(overlaps.max(1).values.mean())


def run_batch(configs: Sequence[SineConfig], device: torch.device) -> list[Metrics]:
    """Train the configs (differing only in batch axes) as one ensemble and measure each member."""
    tasks = [make_sine_task(c.task) for c in configs]
    models = [build_model(c, t) for c, t in zip(configs, tasks)]
    settings = configs[0].train
    tests = ([t.x_test for t in tasks], [t.y_test for t in tasks])
    result = train_ensemble(
        models, [t.x_train for t in tasks], [t.y_train for t in tasks], settings,
        [stream(c.seed, "order") for c in configs], lrs=[c.train.lr for c in configs],
        eval_sets={"test": tests}, device=device,
    )
    n_fit = [c.task.n_train - round(settings.val_fraction * c.task.n_train) for c in configs]
    sets = {name: [t.sets().get(name) for t in tasks] for name in ("test", "ood", "scale")}
    sets["train"] = [(t.x_train[:n], t.y_train[:n]) for t, n in zip(tasks, n_fit)]
    metrics: list[Metrics] = [{} for _ in configs]
    for name, members in sets.items():
        if members[0] is None:
            continue
        for i, mse in enumerate(_member_mse(result, members, device)):
            variance = float(members[i][1].var())
            metrics[i][f"{name}_mse"] = mse
            metrics[i][f"{name}_nmse"] = mse / variance
    train_var = [float(t.y_train[:n].var()) for t, n in zip(tasks, n_fit)]
    test_var = [float(t.y_test.var()) for t in tasks]
    for i, (cfg, task) in enumerate(zip(configs, tasks)):
        metrics[i]["train_curve_nmse"] = (result.curves["train"][i] / train_var[i]).tolist()
        metrics[i]["test_curve_nmse"] = (result.curves["test"][i] / test_var[i]).tolist()
        metrics[i]["curve_steps"] = [float(s) for s in result.eval_steps]
        metrics[i]["stopped_at"] = float(result.stopped_at[i])
        metrics[i]["n_params"] = float(count_params(models[i]))
        if cfg.model.kind == "modular":
            metrics[i]["projection_overlap"] = projection_overlap(task.projections, result.params["projections"][i].cpu())
    return metrics


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
        run_batch=run_batch,
        description="paper A's modular sine-wave task: monolithic / modular / mixture-of-experts networks",
        batch_axes=("seed", "task.seed", "task.n_train", "train.lr"),
    )
)

__all__ = ["SineConfig", "SineModelConfig", "build_model", "projection_overlap", "run_batch", "EXPERIMENT"]
