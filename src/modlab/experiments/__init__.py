"""Experiment kinds that ``modlab run`` and ``modlab sweep`` know, by name.

Each module registers itself on import; add new experiment modules to the import list below. The
registry is imported first: experiment modules use the engine, whose sweep imports this package.
"""

from modlab.experiments.registry import EXPERIMENTS, Experiment, Metrics, get_experiment, register  # isort: skip
from modlab.experiments import (
    compositional_cifar,  # noqa: F401  (registers "compositional-cifar")
    compositional_mnist,  # noqa: F401  (registers "compositional-mnist")
    linear_modules,  # noqa: F401  (registers "linear-modules")
    linear_rf,  # noqa: F401  (registers "linear-rf")
    sine,  # noqa: F401  (registers "sine")
)

__all__ = ["EXPERIMENTS", "Experiment", "Metrics", "get_experiment", "register"]
