"""modlab: theory and experiments of modular neural networks.

Implements Boopathy et al. (ICLR 2025), "Breaking Neural Network Scaling Laws with Modularity", and
Jarvis, Klein, Rosman & Saxe (ICLR 2023), "On the Specialization of Neural Modules".

The public API, imported on first use (``import modlab`` itself loads neither torch nor pandas):

- ``modlab.Config``: base class of typed configs; ``modlab.Experiment``, ``modlab.register``,
  ``modlab.get_experiment``: the experiment registry.
- ``modlab.Curve``, ``modlab.Array``: what an experiment measures besides plain numbers.
- ``modlab.SweepSpec``, ``modlab.run_sweep``: grids of runs, computed into a ``modlab.Store``.
- ``modlab.results_table``, ``modlab.tidy_table``: stored runs as wide, aggregated or long tables.
- ``modlab.plot_table``, ``modlab.save_plot``: mean ± standard error over seeds of a metric, from
  stored runs, written as an image and the JSON of every plotted number.
- ``modlab.make_figure``: regenerate one of the papers' figures.
- ``modlab.theory``: the closed forms (random features, deep linear dynamics, spectra).
- ``modlab.ConfigError``, ``modlab.ModlabError``: the errors raised for bad input.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_API = {
    "Config": "modlab.config",
    "Experiment": "modlab.experiments",
    "register": "modlab.experiments",
    "get_experiment": "modlab.experiments",
    "Curve": "modlab.metrics",
    "Array": "modlab.metrics",
    "SweepSpec": "modlab.sweep",
    "run_sweep": "modlab.sweep",
    "Store": "modlab.store",
    "results_table": "modlab.table",
    "tidy_table": "modlab.table",
    "plot_table": "modlab.table_plot",
    "save_plot": "modlab.table_plot",
    "make_figure": "modlab.figures",
    "ConfigError": "modlab.errors",
    "ModlabError": "modlab.errors",
}
_SUBMODULES = ("theory",)

__all__ = [
    "Array",
    "Config",
    "ConfigError",
    "Curve",
    "Experiment",
    "ModlabError",
    "Store",
    "SweepSpec",
    "__version__",
    "get_experiment",
    "make_figure",
    "plot_table",
    "register",
    "results_table",
    "run_sweep",
    "save_plot",
    "theory",
    "tidy_table",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is used."""
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"modlab.{name}")
    else:
        raise AttributeError(f"module 'modlab' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
