"""Running a sweep: the runs a store has no ``done`` record of are batched, computed on a backend
and committed one by one as they arrive."""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from tqdm import tqdm

from modlab.config import Config, config_key
from modlab.errors import ModlabError
from modlab.experiments import Metrics, get_experiment
from modlab.store import RunRecord, Store
from modlab.sweep.backends import Backend, LocalBackend, Lost
from modlab.sweep.spec import SweepSpec


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
    from modlab.train.device import resolve_device

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
