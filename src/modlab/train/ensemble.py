"""Train an ensemble — S copies of one architecture differing in init, data and learning rate — as one
batched computation, with the plain per-model loop kept beside it as the reference.

Four interchangeable ``method`` s give the same result (allclose; a test checks it):

- ``batched``: the model's own ``stacked_forward(params, x)`` (hand-batched ``baddbmm`` / batched
  matmul over members, and over modules for :class:`~modlab.models.ModularMLP`), one autograd pass
  for the summed member losses (members are independent, so each gets exactly its own gradient);
- ``vmap``: ``torch.func`` — ``stack_module_state``, a meta-device template, ``functional_call``
  and ``vmap(grad_and_value(member_loss))``; works for any module;
- ``compiled``: the ``batched`` step — forward, backward, optimiser update — as one compiled graph
  (:mod:`modlab.train.compiled`);
- ``loop``: each member its own ``nn.Module`` and ``torch.optim`` optimizer, one after another.

``auto`` takes the engine chosen for the process (``--engine``,
:func:`~modlab.train.engine.engine_choice`) or, left at ``auto``, the path that
:func:`~modlab.train.engine.auto_path` predicts fastest for the model, device and run length from a
fixed table (``vmap`` for a model without ``stacked_forward``). The path taken and the thread count
are noted in the run's provenance. All randomness is drawn outside the batched computation: the
caller builds the members from their own generators, and mini-batch orders come from one generator
per member (:class:`~modlab.train.minibatch.BatchSchedule`).

Early stopping (modlab): the last ``val_fraction`` of each member's training samples is held out;
every ``eval_every`` steps the validation loss is measured, the best parameters kept, and a member
whose validation loss has not improved for ``patience`` evaluations stops (its parameters freeze,
its curves stay flat). With a validation split the returned parameters are the best ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from modlab import progress, provenance
from modlab.config import Config
from modlab.train.compiled import CompiledRunner
from modlab.train.engine import auto_path, chosen_engine, note_engine
from modlab.train.minibatch import BatchSchedule
from modlab.train.padding import Padded, gather_batch, pad_members
from modlab.train.stacked_optim import StackedOptimizer

Method = Literal["auto", "batched", "vmap", "compiled", "loop"]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Probe = Callable[[dict[str, torch.Tensor]], torch.Tensor]


class TrainSettings(Config):
    """How every member is trained."""

    optimizer: Literal["sgd", "adam"] = Field("adam", description="optimiser of the network weights")
    lr: float = Field(1e-3, gt=0, description="learning rate")
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD momentum (ignored by Adam)")
    steps: int = Field(1000, ge=1, description="optimiser steps")
    batch_size: int = Field(256, ge=0, description="0 = full batch")
    val_fraction: float = Field(0.0, ge=0, lt=1, description="held-out share of each member's training set")
    patience: int = Field(0, ge=0, description="evaluations without validation improvement before stopping; 0 = never")
    eval_every: int = Field(100, ge=1, description="steps between loss-curve points")

    @model_validator(mode="after")
    def _check(self) -> TrainSettings:
        if self.patience > 0 and self.val_fraction == 0:
            raise ValueError(f"patience = {self.patience}: early stopping needs val_fraction > 0")
        return self


@dataclass
class EnsembleResult:
    """Trained members. params: name → (S, *shape); curves: name → (S, len(eval_steps)) with
    ``train`` (full fitting set), ``val`` (with a validation split) and every extra eval set;
    stopped_at (S,): the step a member stopped at (``steps`` if it never did); ``path`` the method
    that ran; ``compile_seconds`` the time spent compiling (0 unless a compiled step was new)."""

    template: nn.Module
    params: dict[str, torch.Tensor]
    curves: dict[str, torch.Tensor]
    eval_steps: list[int]
    stopped_at: torch.Tensor
    path: str = "batched"
    compile_seconds: float = 0.0

    def predict(self, x: torch.Tensor, method: Method = "auto") -> torch.Tensor:
        """x (S, n, ...) → (S, n, out), member s on x[s]."""
        return ensemble_forward(self.template, self.params, x.to(next(iter(self.params.values())).device), method)

    def member(self, i: int) -> nn.Module:
        """Member ``i`` as an ordinary module (CPU)."""
        model = copy.deepcopy(self.template).to_empty(device="cpu")
        model.load_state_dict({k: v[i].detach().cpu() for k, v in self.params.items()}, strict=False)
        return model


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-example squared error: pred (..., n, 1), target (..., n) → (..., n)."""
    return (pred.squeeze(-1) - target) ** 2


def train_ensemble(
    models: Sequence[nn.Module],
    x_train: Sequence[torch.Tensor],
    y_train: Sequence[torch.Tensor],
    settings: TrainSettings,
    generators: Sequence[torch.Generator],
    *,
    lrs: Sequence[float] | None = None,
    eval_sets: dict[str, tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]]] | None = None,
    loss: LossFn = mse,
    method: Method = "auto",
    device: torch.device | str = "cpu",
    probes: dict[str, Probe] | None = None,
) -> EnsembleResult:
    """Train S members (same architecture, already initialised) on their own data.

    x_train[i]: (n_i, ...), y_train[i]: (n_i, ...); ``generators[i]`` orders member i's mini-batches;
    ``lrs`` overrides ``settings.lr`` per member; ``eval_sets`` name → (xs, ys) per member, recorded
    in the curves. Members may have different n_i (padded internally, padding has zero weight).
    ``probes`` name → function of the stacked parameters (name → (S, *shape)) returning (S,) values,
    recorded in the curves at every evaluation (e.g. how close the projections are to the truth).
    """
    count = len(models)
    if not (len(x_train) == len(y_train) == len(generators) == count) or count == 0:
        raise ValueError(
            f"{count} models, {len(x_train)} x, {len(y_train)} y, {len(generators)} generators: need equal, ≥ 1"
        )
    device = torch.device(device)
    fit, val = split_validation(x_train, y_train, settings.val_fraction)
    data = {"train": fit, **({"val": val} if val else {}), **(eval_sets or {})}
    padded = {name: pad_members(xs, ys, device) for name, (xs, ys) in data.items()}
    lr = torch.tensor(list(lrs) if lrs is not None else [settings.lr] * count, dtype=torch.float32, device=device)
    schedule = BatchSchedule([len(x) for x in fit[0]], settings.batch_size, generators)
    step_flops = 6.0 * sum(p.numel() for p in models[0].parameters()) * schedule.width * count
    resolved = resolve_method(models[0], method, device, settings.steps, step_flops)
    note_engine(resolved)
    trainer = RUNNERS.get(resolved, _StackedRunner)(models, settings, lr, loss, resolved, device)
    result = _run(trainer, padded, schedule, settings, probes or {})
    if resolved == "compiled":
        provenance.note("compile_seconds", round(result.compile_seconds, 3))
    return result


def resolve_method(
    model: nn.Module, method: Method, device: torch.device | None = None, steps: int = 0, step_flops: float = 0.0
) -> str:
    """The path that runs: ``method``, else the process's engine choice, else :func:`auto_path`
    for ``steps`` steps of ``step_flops`` FLOPs on ``device``."""
    path = chosen_engine() if method == "auto" else method
    if path == "auto":
        return auto_path(hasattr(model, "stacked_forward"), device or torch.device("cpu"), steps, step_flops)
    if path in ("batched", "compiled") and not hasattr(model, "stacked_forward"):
        raise ValueError(f"method {path!r} needs {type(model).__name__}.stacked_forward; use 'vmap'")
    return path


def ensemble_forward(
    template: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor, method: Method = "auto"
) -> torch.Tensor:
    """Stacked params (S, …), x (S, n, ...) → (S, n, out) by the hand-batched or the vmap path."""
    if method != "auto":
        resolve_method(template, method)
    if method in ("auto", "batched", "compiled") and hasattr(template, "stacked_forward"):
        return template.stacked_forward(params, x)  # type: ignore[operator]  # hasattr checked stacked_forward
    meta = copy.deepcopy(template).to("meta")
    return vmap(lambda p, xs: functional_call(meta, p, (xs,)))(params, x)


def split_validation(xs, ys, fraction: float):
    """The first ``1 − fraction`` of each member's samples fit, the rest validate (None if 0)."""
    if fraction == 0:
        return (list(xs), list(ys)), None
    cuts = [len(x) - round(fraction * len(x)) for x in xs]
    if any(c < 1 or c == len(x) for c, x in zip(cuts, xs)):
        raise ValueError(f"val_fraction = {fraction} leaves an empty split for sizes {[len(x) for x in xs]}")
    fit = ([x[:c] for x, c in zip(xs, cuts)], [y[:c] for y, c in zip(ys, cuts)])
    val = ([x[c:] for x, c in zip(xs, cuts)], [y[c:] for y, c in zip(ys, cuts)])
    return fit, val


class _StackedRunner:
    """The batched paths: parameters stacked over members, one computation per step."""

    def __init__(self, models, settings: TrainSettings, lr, loss: LossFn, method: str, device):
        params, _ = stack_module_state(list(models))
        self.params = {k: v.detach().to(device).requires_grad_(method == "batched") for k, v in params.items()}
        self.template = copy.deepcopy(models[0]).to("meta")
        self.optimizer = StackedOptimizer(settings.optimizer, self.params, lr, settings.momentum)
        self.loss = loss
        self.method = method
        if method == "vmap":
            self._vmapped = vmap(grad_and_value(self._member_loss))

    def _member_loss(self, params, x, y, w):
        return (self.loss(functional_call(self.template, params, (x,)), y) * w).sum()

    def step(self, data: Padded, indices: torch.Tensor | None, w, active) -> None:
        x, y = (data.x, data.y) if indices is None else gather_batch(data, indices)
        if self.method == "vmap":
            grads, _ = self._vmapped(self.params, x, y, w)
        else:
            member_losses = (self.loss(self.template.stacked_forward(self.params, x), y) * w).sum(-1)
            grads = dict(zip(self.params, torch.autograd.grad(member_losses.sum(), list(self.params.values()))))
        self.optimizer.step(self.params, grads, active)

    @torch.no_grad()
    def losses(self, data: Padded) -> torch.Tensor:
        """Per-member weighted loss (S,) on a padded set."""
        pred = ensemble_forward(self.template, self.params, data.x, self.method)  # type: ignore[arg-type]  # self.method is a resolved Method
        return (self.loss(pred, data.y) * data.weights).sum(-1)

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.params.items()}

    def load(self, params: dict[str, torch.Tensor]) -> None:
        self.params = {k: v.requires_grad_(self.method == "batched") for k, v in params.items()}


class _LoopRunner:
    """The reference: each member its own module and ``torch.optim`` optimizer, one after another."""

    def __init__(self, models, settings: TrainSettings, lr, loss: LossFn, method: str, device):
        self.models = [copy.deepcopy(m).to(device) for m in models]
        self.method = method
        self.template = copy.deepcopy(models[0]).to("meta")
        self.loss = loss
        self.optimizers = [self._optimizer(m, settings, float(rate)) for m, rate in zip(self.models, lr)]

    @staticmethod
    def _optimizer(model: nn.Module, settings: TrainSettings, lr: float) -> torch.optim.Optimizer:
        if settings.optimizer == "adam":
            return torch.optim.Adam(model.parameters(), lr=lr)
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=settings.momentum)

    def step(self, data: Padded, indices: torch.Tensor | None, w, active) -> None:
        x, y = (data.x, data.y) if indices is None else gather_batch(data, indices)
        for i, (model, optimizer) in enumerate(zip(self.models, self.optimizers)):
            if not active[i]:
                continue
            keep = w[i] > 0
            optimizer.zero_grad()
            self.loss(model(x[i][keep]), y[i][keep]).mean().backward()
            optimizer.step()

    @torch.no_grad()
    def losses(self, data: Padded) -> torch.Tensor:
        return torch.stack(
            [self.loss(m(data.x[i, :n]), data.y[i, :n]).mean() for i, (m, n) in enumerate(zip(self.models, data.sizes))]
        )

    @property
    def params(self) -> dict[str, torch.Tensor]:
        return {k: v.detach() for k, v in stack_module_state(self.models)[0].items()}

    def snapshot(self) -> dict[str, torch.Tensor]:
        return self.params

    def load(self, params: dict[str, torch.Tensor]) -> None:
        for i, model in enumerate(self.models):
            model.load_state_dict({k: v[i] for k, v in params.items()}, strict=False)


RUNNERS = {"loop": _LoopRunner, "compiled": CompiledRunner}


def _run(
    trainer,
    padded: dict[str, Padded],
    schedule: BatchSchedule,
    settings: TrainSettings,
    probes: dict[str, Probe],
) -> EnsembleResult:
    """The shared training loop: schedule → step → periodic evaluation and early stopping."""
    fit = padded["train"]
    count = fit.x.shape[0]
    device = fit.x.device
    active = torch.ones(count, dtype=torch.bool, device=device)
    stopped_at = torch.full((count,), settings.steps, dtype=torch.long)
    best_loss = torch.full((count,), float("inf"), device=device)
    best_params = trainer.snapshot()
    waited = torch.zeros(count, dtype=torch.long, device=device)
    curves: dict[str, list[torch.Tensor]] = {name: [] for name in [*padded, *probes]}
    eval_steps: list[int] = []

    def evaluate(step: int) -> None:
        nonlocal best_params
        progress.report(step, settings.steps)
        eval_steps.append(step)
        for name, data in padded.items():
            last = curves[name][-1] if curves[name] else None
            now = trainer.losses(data)
            curves[name].append(now if last is None else torch.where(active, now, last))
        for name, probe in probes.items():
            curves[name].append(probe(trainer.params).to(device))
        if "val" in padded:
            val = curves["val"][-1]
            improved = active & (val < best_loss)
            best_loss.copy_(torch.where(improved, val, best_loss))
            now_params = trainer.snapshot()
            best_params = {
                k: torch.where(improved.view(-1, *([1] * (v.dim() - 1))), now_params[k], v)
                for k, v in best_params.items()
            }
            waited.copy_(torch.where(improved, 0, waited + active.long()))
            if settings.patience:
                stopping = active & (waited >= settings.patience)
                stopped_at[stopping.cpu()] = step
                active.copy_(active & ~stopping)

    evaluate(0)
    for step in range(1, settings.steps + 1):
        if schedule.full_batch:
            indices, w = None, fit.weights
        else:
            indices, w = (t.to(device) for t in schedule.next())
        trainer.step(fit, indices, w, active.float())
        if step % settings.eval_every == 0 or step == settings.steps:
            evaluate(step)
        if not active.any():
            break
    if "val" in padded:
        trainer.load(best_params)
    return EnsembleResult(
        trainer.template,
        trainer.snapshot(),
        {k: torch.stack(v, 1).cpu() for k, v in curves.items()},
        eval_steps,
        stopped_at,
        trainer.method,
        getattr(trainer, "compile_seconds", 0.0),
    )
