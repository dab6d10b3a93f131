"""The registry of experiment kinds: a config class plus a function that runs a batch of configs.

An experiment's ``run_batch(configs, device)`` returns one metrics dict per config (metric name →
float, or list of floats for a curve). Configs that differ only in ``batch_axes`` (seeds, and for
ensembles sizes or hyper-parameters) are handed over together so the experiment can train them as
one batched computation. A batch axis may be a dotted name of a nested field (``task.seed``).

An experiment outside modlab is found in any process (a local worker, a Ray task) in one of two
ways: a spec names it by import path, ``module.path:ATTRIBUTE`` (an :class:`Experiment`), or the
modules listed in the ``MODLAB_IMPORT`` environment variable (``os.pathsep``-separated module
names or ``.py`` files; ``modlab --import`` sets it) are imported to register it by name.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from modlab.config import Config, did_you_mean
from modlab.errors import ConfigError, echo
from modlab.metrics import Metric

IMPORT_ENV = "MODLAB_IMPORT"

Metrics = dict[str, Metric]  # number, Curve, Array or a plain list (a curve over its index)
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
    """Add ``experiment`` to the registry under its name (once per process) and return it."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (or at import path ``module:ATTRIBUTE``), or a ConfigError
    listing the known ones."""
    if ":" in name:
        return _experiment_at(name)
    if name not in EXPERIMENTS:
        import_modules(os.environ.get(IMPORT_ENV, ""))
    if name not in EXPERIMENTS:
        known = sorted(EXPERIMENTS)
        raise ConfigError(
            f"unknown experiment {echo(name)} ({did_you_mean(name, known)}known: {', '.join(known) or 'none'}; "
            "an experiment of your own: --import MODULE, or name it as module.path:ATTRIBUTE)"
        )
    return EXPERIMENTS[name]


def import_modules(entries: str) -> None:
    """Import each ``os.pathsep``-separated module name or ``.py`` file (once per process)."""
    for entry in filter(None, entries.split(os.pathsep)):
        if entry.endswith(".py"):
            _import_file(Path(entry))
        else:
            _import_module(entry)


def _experiment_at(path: str) -> Experiment:
    module_name, _, attribute = path.partition(":")
    if not module_name.strip() or not attribute.strip():
        raise ConfigError(
            f"unknown experiment {echo(path)}: expected a registered name, or module.path:ATTRIBUTE with both parts"
        )
    try:
        module = _import_module(module_name)
    except ConfigError as err:
        raise ConfigError(f"unknown experiment {echo(path)}: {err}") from None
    found = getattr(module, attribute, None)
    if not isinstance(found, Experiment):
        raise ConfigError(
            f"unknown experiment {echo(path)}: {echo(module_name)} has no Experiment called {echo(attribute)}"
        )
    return found


def _import_module(name: str):
    try:
        return importlib.import_module(name)
    except (ImportError, ValueError) as err:  # ValueError: a malformed name, such as a relative one
        raise ConfigError(
            f"cannot import {echo(name)}: {err} (is its folder the working folder or on PYTHONPATH?)"
        ) from None


def _import_file(path: Path) -> None:
    """Import a ``.py`` file as the module named after it (its stem), unless already imported."""
    if path.stem in sys.modules:
        return
    if not path.is_file():
        raise ConfigError(f"--import {echo(str(path))}: no such file")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"--import {echo(str(path))}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise
