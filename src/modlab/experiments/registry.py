"""The registry of experiment kinds: a config class plus a function that runs a batch of configs.

An experiment's ``run_batch(configs, device)`` returns one metrics dict per config (metric name →
float, or list of floats for a curve). Configs that differ only in ``batch_axes`` (seeds, and for
ensembles sizes or hyper-parameters) are handed over together so the experiment can train them as
one batched computation. A batch axis may be a dotted name of a nested field (``task.seed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from modlab.config import Config
from modlab.errors import ConfigError

Metrics = dict[str, float | list[float]]
RunBatch = Callable[[Sequence[Config], torch.device], list[Metrics]]


@dataclass(frozen=True)
class Experiment:
    """One kind of run: ``name``, its ``config`` class, ``run_batch`` and what can be batched."""

    name: str
    config: type[Config]
    run_batch: RunBatch
    description: str
    batch_axes: tuple[str, ...] = ("seed",)
    max_batch: int = 64


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or a ConfigError listing the known ones."""
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS)) or "none"
        raise ConfigError(f"unknown experiment {name!r} (known: {known})")
    return EXPERIMENTS[name]
