"""The compiled path: forward, backward and optimiser update of all members as one graph.

One training step of the stacked members — ``stacked_forward``, ``torch.func.grad`` of the summed
member losses and the SGD/Adam update of :mod:`modlab.train.stacked_optim` — is traced into one
``torch.compile`` graph, so the step runs as a few fused kernels instead of dozens of separately
dispatched operations. Mini-batches are gathered before the graph, so its shapes do not depend on
the members' sample counts (a sweep over n compiles once).

Shapes and buckets: the member axis is padded to the next bucket of :data:`MEMBER_BUCKETS`
(padding members copy the last real one and have learning rate 0), so a sweep compiles at most a
few shapes per architecture, and a run's numbers do not depend on which other runs share its
batch within a bucket (bit-identical on CPU). Compiled steps are cached per process by
architecture, optimiser, loss, bucket and data shape: a sweep pays the compile once per shape, not
once per batch. The trainer calls the compiled step once per step and evaluates between them every
``eval_every`` steps, so progress, early stopping and the workers' liveness check work as on the
other paths. The seconds spent compiling are reported apart from the step time.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.func import grad, stack_module_state

from modlab.train.padding import Padded, gather_batch
from modlab.train.stacked_optim import adam_corrections, direction, initial_state, member_view

MEMBER_BUCKETS = (4, 16, 64)  # beyond the largest: the next multiple of it

_compiled_steps: dict[tuple, Callable] = {}


def member_bucket(count: int) -> int:
    """The padded member count for ``count`` members."""
    for size in MEMBER_BUCKETS:
        if count <= size:
            return size
    largest = MEMBER_BUCKETS[-1]
    return -(-count // largest) * largest


def pad_rows(t: torch.Tensor, rows: int) -> torch.Tensor:
    """``t`` (S, ...) with its last row repeated up to ``rows`` rows."""
    if len(t) == rows:
        return t
    return torch.cat([t, t[-1:].expand(rows - len(t), *t.shape[1:])])


def make_step(template: nn.Module, loss, kind: str, momentum: float) -> Callable:
    """The eager step function that :func:`torch.compile` traces. Inputs: params, first, second
    (name → (S, *shape)), x, y (S, B, ...), w (S, B), rate (S,) = −lr·active, the two Adam
    corrections as 0-d tensors. Returns the new (params, first, second)."""

    def step(params, first, second, x, y, w, rate, correction1, correction2):
        def total(p):
            return (loss(template.stacked_forward(p, x), y) * w).sum()  # type: ignore[operator]  # runners are built only for models with stacked_forward

        grads = grad(total)(params)
        new_params, new_first, new_second = {}, {}, {}
        for name, value in params.items():
            update, first_now, second_now = direction(
                kind, momentum, grads[name], first.get(name), second.get(name), correction1, correction2
            )
            new_params[name] = value.addcmul(member_view(rate, value), update)
            if first_now is not None:
                new_first[name] = first_now
            if second_now is not None:
                new_second[name] = second_now
        return new_params, new_first, new_second

    return step


class CompiledRunner:
    """The compiled path behind :func:`~modlab.train.ensemble.train_ensemble` (same interface as
    its other runners). ``compile_seconds``: time spent compiling (0 when the step was cached)."""

    def __init__(self, models, settings, lr, loss, method: str, device):
        self.count = len(models)
        self.method = method
        self.rows = member_bucket(self.count)
        params, _ = stack_module_state(list(models))
        self._params = {k: pad_rows(v.detach().to(device), self.rows).clone() for k, v in params.items()}
        self.template = copy.deepcopy(models[0]).to("meta")
        self.loss = loss
        self.kind = settings.optimizer
        self.momentum = settings.momentum
        self.lr = pad_rows(lr, self.rows) * (torch.arange(self.rows, device=lr.device) < self.count)
        self.first, self.second = initial_state(self.kind, self.momentum, self._params)
        self.t = 0
        self.compile_seconds = 0.0
        self._source = None
        self._step: Callable | None = None

    def _compiled(self, x: torch.Tensor) -> tuple[Callable, bool]:
        """The cached compiled step for this shape, and whether it was just made."""
        key = (repr(self.template), self.loss, self.kind, self.momentum > 0, tuple(x.shape), x.dtype, str(x.device))
        fresh = key not in _compiled_steps
        if fresh:
            step = make_step(self.template, self.loss, self.kind, self.momentum)
            _compiled_steps[key] = torch.compile(step, fullgraph=True, dynamic=False)
        return _compiled_steps[key], fresh

    def step(self, data, indices, w, active) -> None:
        if data is not self._source:
            self._source = data
            self._data = Padded(pad_rows(data.x, self.rows), pad_rows(data.y, self.rows), data.weights, data.sizes)
        x, y = (
            (self._data.x, self._data.y) if indices is None else gather_batch(self._data, pad_rows(indices, self.rows))
        )
        self.t += 1
        corrections = (torch.tensor(c, device=x.device) for c in adam_corrections(self.t))
        fresh = self._step is None  # a runner's batch shape never changes: look the step up once
        if self._step is None:
            self._step, fresh = self._compiled(x)
        start = time.perf_counter()
        self._params, self.first, self.second = self._step(
            self._params,
            self.first,
            self.second,
            x,
            y,
            pad_rows(w, self.rows),
            -self.lr * pad_rows(active, self.rows),
            *corrections,
        )
        if fresh:
            self.compile_seconds += time.perf_counter() - start

    @torch.no_grad()
    def losses(self, data) -> torch.Tensor:
        pred = self.template.stacked_forward(self.params, data.x)
        return (self.loss(pred, data.y) * data.weights).sum(-1)

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """The real members' parameters (name → (S, *shape))."""
        return {k: v[: self.count] for k, v in self._params.items()}

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in self.params.items()}

    def load(self, params: dict[str, torch.Tensor]) -> None:
        self._params = {k: pad_rows(v, self.rows).clone() for k, v in params.items()}
