"""Which training path runs: the user's choice (``--engine``), else ``auto`` from a fixed table.

Paths (all give the per-model loop's result, allclose; tests check it):
``loop`` the reference, one module and ``torch.optim`` optimizer per member; ``batched`` the
model's hand-batched ``stacked_forward`` and one autograd pass; ``vmap`` ``torch.func`` over any
module; ``compiled`` forward, backward and optimiser update of all members as one ``torch.compile``
graph (:mod:`modlab.train.compiled`).

``auto`` never times anything at run time (a result must not depend on the machine's load). It
predicts each path's seconds from :data:`AUTO_TABLE` — a fixed per-step overhead and a sustained
GFLOP/s per path and device, fitted to ``benchmarks/ensemble_speed.py`` (small case: overhead;
wide case: rate) — plus the one-off compile, and takes the cheapest. A short run on a small
ensemble therefore stays ``batched`` (the compile would cost more than it saves); a long one
compiles. Unmeasured devices (CUDA) keep ``batched``.

The chosen path and the intra-op thread count (and, for ``compiled``, the seconds spent compiling)
are noted in each run's provenance; none of them is part of a run's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from modlab import provenance
from modlab.errors import ConfigError

ENGINES = ("auto", "loop", "batched", "vmap", "compiled")


@dataclass(frozen=True)
class PathCost:
    """A path's predicted cost: ``overhead_s`` per step whatever the size, ``gflops`` sustained on
    the step's matmul work, and ``compile_s`` once per shape."""

    overhead_s: float
    gflops: float
    compile_s: float = 0.0

    def seconds(self, steps: int, step_flops: float) -> float:
        return self.compile_s + steps * (self.overhead_s + step_flops / (self.gflops * 1e9))


# Fitted to one run of benchmarks/ensemble_speed.py (1 thread, the shared 2-core development CPU; see the
# README's performance section): per-step seconds of the small case give the overhead, the wide case the rate;
# compile_s is a first compile with an empty inductor cache (about 7 s once the on-disk cache holds the graph).
AUTO_TABLE: dict[str, dict[str, PathCost]] = {
    "cpu": {
        "batched": PathCost(overhead_s=1.5e-3, gflops=15.6),
        "compiled": PathCost(overhead_s=1.0e-3, gflops=18.3, compile_s=25.0),
    },
}

_choice = {"engine": "auto"}


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise ConfigError(f"engine {name!r}: allowed {', '.join(ENGINES)}")
    return name


@contextmanager
def engine_choice(name: str | None) -> Iterator[None]:
    """Inside the block, ``train_ensemble(method="auto")`` runs path ``name`` (None: keep the current choice)."""
    previous = _choice["engine"]
    if name is not None:
        _choice["engine"] = check_engine(name)
    try:
        yield
    finally:
        _choice["engine"] = previous


def chosen_engine() -> str:
    """The engine chosen for this process (``auto`` unless set by :func:`engine_choice`)."""
    return _choice["engine"]


def auto_path(has_stacked_forward: bool, device: torch.device, steps: int, step_flops: float) -> str:
    """The path ``auto`` takes for ``steps`` steps of ``step_flops`` matmul FLOPs (all members
    together), from :data:`AUTO_TABLE`."""
    if not has_stacked_forward:
        return "vmap"
    costs = AUTO_TABLE.get(device.type)
    if costs is None:
        return "batched"
    return min(costs, key=lambda path: costs[path].seconds(steps, step_flops))


def note_engine(path: str) -> None:
    """Record the path and the intra-op thread count in the current run's provenance."""
    provenance.note("engine", path)
    provenance.note("threads", torch.get_num_threads())
