"""Sweeps as data: a spec expands to an indexable list of configs; running it fills the store.

A spec (YAML or JSON) names an experiment, ``base`` fields and ``axes`` (a grid: the product of the
axes, in the order given; seeds are an ordinary axis). Dotted axis names set nested fields
(``spectrum.omega``). Config ``i`` of a spec is always the same run, and its store key is a hash of
the full config, so resuming is "run the keys that have no ``done`` record".
"""

from __future__ import annotations

import itertools
import math
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import Field, ValidationError
from tqdm import tqdm

from modlab.config import Config, config_key, describe_validation_error, read_mapping_file
from modlab.engine.backends import Backend, LocalBackend, Lost
from modlab.errors import ConfigError, ModlabError
from modlab.experiments import Metrics, get_experiment
from modlab.store import RunRecord, Store

MAX_POINTS = 1_000_000


class SweepSpec(Config):
    """A grid of runs of one experiment."""

    experiment: str
    name: str = ""
    base: dict[str, Any] = Field(default_factory=dict)
    axes: dict[str, list[Any]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "SweepSpec":
        """Read a spec file and validate every point of it (before any store is opened), or raise a
        one-line ConfigError."""
        spec = cls.parse(read_mapping_file(path, "sweep spec"), where=f"sweep spec {path}")
        spec.configs()
        return spec

    def points(self) -> list[dict[str, Any]]:
        """The raw field mappings of every point, in grid order."""
        for axis, values in self.axes.items():
            if not values:
                raise ConfigError(f"sweep spec: axis '{axis}' has no values")
        size = math.prod(len(v) for v in self.axes.values())
        if size > MAX_POINTS:
            raise ConfigError(f"sweep spec: {size} points, at most {MAX_POINTS}")
        names = list(self.axes)
        points = []
        for combo in itertools.product(*self.axes.values()):
            point = _deep_copy(self.base)
            for name, value in zip(names, combo):
                set_dotted(point, name, value)
            points.append(point)
        return points

    def configs(self) -> list[Config]:
        """Every point validated into the experiment's config (all checked before any runs)."""
        experiment = get_experiment(self.experiment)
        nested = nested_defaults(experiment.config)
        configs = []
        for i, point in enumerate(self.points()):
            where = f"sweep point {i} ({_describe_axes(point, self.axes)})" if self.axes else "config"
            try:
                config = experiment.config.model_validate(_merge(nested, point))
            except ValidationError as err:
                raise ConfigError(describe_validation_error(err, experiment.config, where)) from None
            _check_finite(config.to_dict(), where)
            configs.append(config)
        return configs

    def keys(self) -> list[str]:
        return [config_key(self.experiment, c) for c in self.configs()]


@dataclass
class SweepReport:
    """What one call of :func:`run_sweep` did."""

    total: int
    skipped: int
    done: int
    failed: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.total} runs: {self.skipped} already stored, {self.done} done, "
            f"{self.failed} failed ({self.seconds:.1f} s)"
        )


class SweepStopped(ModlabError):
    """Raised with ``on_error='stop'`` after the first failed run (which is stored)."""


@dataclass(frozen=True)
class Batch:
    """Runs handed to one ``run_batch`` call: they differ only in the experiment's batch axes."""

    experiment: str
    keys: tuple[str, ...]
    configs: tuple[dict[str, Any], ...]


def run_sweep(
    spec: SweepSpec,
    store: Store,
    *,
    retry_failed: bool = False,
    on_error: Literal["continue", "stop"] = "continue",
    device: str = "cpu",
    backend: Backend | None = None,
    progress: bool = True,
) -> SweepReport:
    """Run every point of ``spec`` that the store has no ``done`` record of (and, with
    ``retry_failed``, those recorded as failed). Each finished run is committed as it arrives."""
    start = time.perf_counter()
    configs = spec.configs()
    keys = [config_key(spec.experiment, c) for c in configs]
    known = store.statuses(keys)
    todo = {}
    for key, cfg in zip(keys, configs):
        status = known.get(key)
        if status == "done" or (status == "failed" and not retry_failed) or key in todo:
            continue
        todo[key] = cfg
    batches = make_batches(spec.experiment, todo)
    done = failed = 0
    bar = tqdm(total=len(todo), desc=spec.name or spec.experiment, unit="run", disable=not progress, leave=False)
    try:
        for outcome in (backend or LocalBackend()).map(run_batch_safely, batches, device):
            records = lost_records(outcome, device) if isinstance(outcome, Lost) else outcome
            for record in records:
                store.put(record)
                done += record.status == "done"
                failed += record.status == "failed"
                if record.status == "failed" and on_error == "stop":
                    raise SweepStopped(f"run {record.key} failed: {record.error} (stored; sweep stopped)")
            bar.update(len(records))
    finally:
        bar.close()
    unique = len(set(keys))
    return SweepReport(unique, unique - len(todo), done, failed, time.perf_counter() - start)


def make_batches(experiment_name: str, todo: dict[str, Config]) -> list[Batch]:
    """Group runs that differ only in batch axes, in chunks of the experiment's ``max_batch``."""
    experiment = get_experiment(experiment_name)
    groups: dict[str, list[tuple[str, Config]]] = {}
    for key, cfg in todo.items():
        fixed = cfg.model_dump(mode="json", exclude=nested_exclude(experiment.batch_axes))
        groups.setdefault(repr(sorted(fixed.items())), []).append((key, cfg))
    batches = []
    for members in groups.values():
        for start in range(0, len(members), experiment.max_batch):
            chunk = members[start : start + experiment.max_batch]
            batches.append(Batch(experiment_name, tuple(k for k, _ in chunk), tuple(c.to_dict() for _, c in chunk)))
    return batches


def nested_exclude(dotted_names: Sequence[str]) -> dict[str, Any]:
    """Batch axes as a pydantic ``exclude`` mapping: ``task.seed`` → ``{"task": {"seed": True}}``."""
    out: dict[str, Any] = {}
    for dotted in dotted_names:
        *parents, leaf = dotted.split(".")
        node = out
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = True
    return out


def run_batch_safely(batch: Batch, device: str) -> list[RunRecord]:
    """Run a batch; a batch that raises is rerun one run at a time so each failure is its own.

    A run whose metrics hold NaN is recorded as failed with the metric's name. Top-level and
    picklable, so process pools and Ray can ship it.
    """
    from modlab.engine.device import resolve_device

    experiment = get_experiment(batch.experiment)
    configs = [experiment.config.model_validate(c) for c in batch.configs]
    torch_device = resolve_device(device)
    start = time.perf_counter()
    try:
        outputs: list[Metrics | BaseException] = list(experiment.run_batch(configs, torch_device))
        if len(outputs) != len(configs):
            raise RuntimeError(f"run_batch returned {len(outputs)} results for {len(configs)} configs")
    except Exception as err:  # noqa: BLE001 - recorded, never swallowed
        if len(configs) == 1:
            outputs = [err]
        else:
            return [
                r
                for key, cfg in zip(batch.keys, batch.configs)
                for r in run_batch_safely(Batch(batch.experiment, (key,), (cfg,)), device)
            ]
    seconds = (time.perf_counter() - start) / len(configs)
    return [
        _record(batch.experiment, key, cfg, out, seconds, str(torch_device))
        for key, cfg, out in zip(batch.keys, batch.configs, outputs)
    ]


def lost_records(lost: Lost, device: str) -> list[RunRecord]:
    """A batch whose worker died on every attempt: each of its runs is recorded failed."""
    batch: Batch = lost.item
    return [
        RunRecord(key, batch.experiment, cfg, "failed", {}, lost.reason, 0.0, device)
        for key, cfg in zip(batch.keys, batch.configs)
    ]


def _record(experiment: str, key: str, config: dict, output: Any, seconds: float, device: str) -> RunRecord:
    if isinstance(output, BaseException):
        error = "".join(traceback.format_exception_only(type(output), output)).strip()
        return RunRecord(key, experiment, config, "failed", {}, error, seconds, device)
    bad = [name for name, value in output.items() if _has_nan(value)]
    if bad:
        return RunRecord(
            key, experiment, config, "failed", output, f"NaN in metric(s): {', '.join(bad)}", seconds, device
        )
    return RunRecord(key, experiment, config, "done", output, None, seconds, device)


def _has_nan(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, float) and math.isnan(v) for v in values)


def _check_finite(fields: dict[str, Any], where: str, prefix: str = "") -> None:
    """Configs are hashed as JSON, which has no NaN or infinity: refuse them with a clear line."""
    for name, value in fields.items():
        if isinstance(value, dict):
            _check_finite(value, where, f"{prefix}{name}.")
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{where}: field '{prefix}{name}' = {value!r}: must be a finite number")


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def nested_defaults(config_cls: type[Config]) -> dict[str, Any]:
    """Where the experiment's default of a nested-config field (``train``, ``kernel_rule`` …) differs
    from that class's own defaults, the differing values; so setting one nested field keeps the
    experiment's other choices in that block. Shape: field name → {sub-field: value}."""
    out = {}
    for name, field in config_cls.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if not isinstance(default, Config):
            continue
        try:
            plain = type(default)().to_dict()
        except ValidationError:
            plain = {}
        changed = {key: value for key, value in default.to_dict().items() if plain.get(key, object()) != value}
        if changed:
            out[name] = changed
    return out


def _merge(defaults: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """``point`` with each nested block it sets laid over that block's default."""
    merged = dict(point)
    for name, default in defaults.items():
        if isinstance(point.get(name), dict):
            merged[name] = _overlay(default, point[name])
    return merged


def _overlay(default: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over ``default``, recursively where both hold mappings (neither is changed)."""
    out = dict(default)
    for name, value in given.items():
        below = default.get(name)
        out[name] = _overlay(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return out


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    if not all(dotted.split(".")):
        raise ConfigError(f"field name {dotted!r}: expected names joined by dots, like 'train.lr'")
    *parents, leaf = dotted.split(".")
    for name in parents:
        child = target.setdefault(name, {})
        if not isinstance(child, dict):
            raise ConfigError(f"sweep spec: axis '{dotted}' goes inside '{name}', which is not a mapping")
        target = child
    target[leaf] = value


def _describe_axes(point: dict[str, Any], axes: dict[str, Sequence[Any]]) -> str:
    parts = []
    for dotted in axes:
        value: Any = point
        for name in dotted.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        parts.append(f"{dotted}={value!r}")
    return ", ".join(parts)
