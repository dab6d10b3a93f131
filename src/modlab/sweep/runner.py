"""Running a sweep: the runs a store holds no usable record of are batched, computed on a backend
and committed one by one as they arrive.

A stored run is usable when it was computed by the running code (same code fingerprint, see
:mod:`modlab.fingerprint`); a run stored under another fingerprint — or under none, by a store of
schema 1 — is stale and recomputed, unless ``reuse_stale``. ``rerun`` recomputes every run.

A run's last bits can depend on the batch it is computed in, not only on its config and thread
count: BLAS takes another kernel for a matrix-vector product in a batch of one than in a larger
batch, and a batched contraction may be ordered by the batch's size. So the batches are planned
from the whole spec (runs that differ only in batch axes, in spec order, in chunks of the
experiment's ``max_batch``), and every run stores the id of its batch (a hash of the batch's keys).
A batch that an interruption left partly stored is recomputed whole, only its missing runs stored,
so a resumed sweep stores the bits of an uninterrupted one; and a lone missing run (one seed added
to a finished spec) is computed beside one stored run of its chunk rather than alone. Either costs
a few recomputed runs, which ``--dry-run`` counts.

Computed runs are never lost to a write fault: a failed commit is retried with back-off, then the
batch's uncommitted runs go to a recovery file (:mod:`modlab.recovery`) that the next sweep on the
store imports first, and the sweep stops with one line naming the cause.
"""

from __future__ import annotations

import hashlib
import platform
import time
import traceback
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tqdm import tqdm

from modlab import metrics as metric_codec
from modlab import provenance, recovery
from modlab.config import Config, config_key
from modlab.errors import ModlabError, StoreWriteError
from modlab.experiments import Metrics, get_experiment
from modlab.fingerprint import code_fingerprint, git_state
from modlab.store import RunRecord, RunState, Store
from modlab.sweep.backends import Backend, LocalBackend, Lost
from modlab.sweep.spec import SweepSpec

WRITE_RETRY_DELAYS_S = (0.2, 1.0, 3.0)  # back-off between attempts to commit a run
THEORY_PREFIX = "theory_"  # closed-form values, legitimately infinite at an interpolation threshold


@dataclass
class SweepReport:
    """What one or more calls of :func:`run_sweep` did, for the runs of their specs: how many runs
    and failures, the wall ``seconds`` of the calls, and the keys of the runs reused and of those
    computed (counted by :attr:`reused` and :attr:`computed`)."""

    total: int = 0
    failed: int = 0
    seconds: float = 0.0
    reused_keys: tuple[str, ...] = ()
    computed_keys: tuple[str, ...] = ()

    @property
    def reused(self) -> int:
        return len(self.reused_keys)

    @property
    def computed(self) -> int:
        return len(self.computed_keys)

    def __str__(self) -> str:
        return f"{_runs(self.total)}: {self.reused} reused, {self.computed} computed, {self.failed} failed"

    def __add__(self, other: SweepReport) -> SweepReport:
        return SweepReport(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


@dataclass
class SweepPlan:
    """What :func:`run_sweep` would do (``--dry-run``): runs stored and usable, runs to compute,
    stored runs recomputed beside them (not stored again: see :func:`make_batches`), and the
    intra-op thread counts of the stored runs and of the runs to compute."""

    total: int = 0
    stored: int = 0
    to_run: int = 0
    stored_threads: set[int] = field(default_factory=set)
    new_threads: set[int] = field(default_factory=set)
    recomputed: int = 0

    def __str__(self) -> str:
        line = f"{_runs(self.total)}: {self.stored} stored, {self.to_run} to run"
        notes = []
        if self.recomputed:
            notes.append(f"with {_runs(self.recomputed)} of their batches recomputed, not stored again")
        if self.to_run and len(self.stored_threads | self.new_threads) > 1:
            notes.append(
                f"resuming would mix intra-op thread counts: stored runs used "
                f"{', '.join(map(str, sorted(self.stored_threads)))}, new runs get "
                f"{', '.join(map(str, sorted(self.new_threads)))}; their last bits may differ"
            )
        return line + (f" ({'; '.join(notes)})" if notes else "")

    def __add__(self, other: SweepPlan) -> SweepPlan:
        return SweepPlan(
            self.total + other.total,
            self.stored + other.stored,
            self.to_run + other.to_run,
            self.stored_threads | other.stored_threads,
            self.new_threads | other.new_threads,
            self.recomputed + other.recomputed,
        )


class SweepStopped(ModlabError):
    """Raised with ``on_error='stop'`` after the first failed run (which is stored)."""


@dataclass(frozen=True)
class Batch:
    """Runs handed to one ``run_batch`` call: they differ only in the experiment's batch axes."""

    experiment: str
    keys: tuple[str, ...]
    configs: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        """A name for the batch's runs in their order, stored with each run's provenance."""
        return _batch_id(self.keys)


def _batch_id(keys: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


@dataclass
class _Triage:
    """The unique runs of a spec in spec order, sorted by what the store holds of them; the batch
    each kept run was computed in."""

    runs: dict[str, Config]
    todo: dict[str, Config] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)  # of todo: runs the store holds no record of
    reused: list[str] = field(default_factory=list)
    kept_failed: list[str] = field(default_factory=list)
    stored_threads: set[int] = field(default_factory=set)
    stored_batch_ids: dict[str, str] = field(default_factory=dict)

    def batches(self, experiment: str) -> list[Batch]:
        """The batches that compute the runs to do (:func:`make_batches`)."""
        return make_batches(
            experiment, self.runs, todo=self.todo, absent=self.absent, stored_batch_ids=self.stored_batch_ids
        )


def _triage(spec: SweepSpec, store: Store | None, *, retry_failed: bool, rerun: bool, reuse_stale: bool) -> _Triage:
    configs = spec.configs()
    triage = _Triage({config_key(spec.experiment, c): c for c in configs})
    known = store.states(triage.runs) if store is not None and not rerun else {}
    current = code_fingerprint()
    for key, cfg in triage.runs.items():
        state = known.get(key)
        if state is None or not _kept(state, current, retry_failed=retry_failed, reuse_stale=reuse_stale):
            triage.todo[key] = cfg
            if state is None:
                triage.absent.add(key)
            continue
        (triage.reused if state.status == "done" else triage.kept_failed).append(key)
        if state.status == "done" and state.threads is not None:
            triage.stored_threads.add(state.threads)
        if state.batch_id is not None:
            triage.stored_batch_ids[key] = state.batch_id
    return triage


def _kept(state: RunState, current: str, *, retry_failed: bool, reuse_stale: bool) -> bool:
    """Whether a stored run stands: done (or failed, unless retried) by the current code (or any, if ``reuse_stale``)."""
    if not reuse_stale and state.fingerprint != current:
        return False
    return state.status == "done" or (state.status == "failed" and not retry_failed)


def plan_sweep(
    spec: SweepSpec,
    store: Store | None,
    *,
    backend: Backend | None = None,
    retry_failed: bool = False,
    rerun: bool = False,
    reuse_stale: bool = False,
) -> SweepPlan:
    """What :func:`run_sweep` with the same arguments would do, computing and writing nothing
    (``store`` None: no store yet)."""
    triage = _triage(spec, store, retry_failed=retry_failed, rerun=rerun, reuse_stale=reuse_stale)
    stored = len(triage.reused) + len(triage.kept_failed)
    threads = (backend or LocalBackend()).intra_op_threads()
    recomputed = sum(key not in triage.todo for batch in triage.batches(spec.experiment) for key in batch.keys)
    return SweepPlan(stored + len(triage.todo), stored, len(triage.todo), triage.stored_threads, {threads}, recomputed)


def run_sweep(
    spec: SweepSpec,
    store: Store,
    *,
    retry_failed: bool = False,
    on_error: Literal["continue", "stop"] = "continue",
    device: str = "cpu",
    backend: Backend | None = None,
    progress: bool = True,
    rerun: bool = False,
    reuse_stale: bool = False,
) -> SweepReport:
    """Run every point of ``spec`` that the store holds no usable record of (stale ones included,
    unless ``reuse_stale``; failed ones only with ``retry_failed``; all with ``rerun``). Runs left
    in recovery files by an earlier write fault are imported first. Each finished run is committed
    as it arrives; raises :class:`~modlab.errors.StoreWriteError` (after saving the uncommitted
    runs) when the store cannot take them."""
    start = time.perf_counter()
    recovery.import_pending(store)
    triage = _triage(spec, store, retry_failed=retry_failed, rerun=rerun, reuse_stale=reuse_stale)
    backend = backend or LocalBackend()
    backend.connect()
    stamp = {"modlab_version": code_fingerprint().split(":")[0], **git_state()}
    computed: list[str] = []
    failed = 0
    bar = tqdm(
        total=len(triage.todo),
        desc=spec.name or spec.experiment,
        unit="run",
        disable=None if progress else True,
        leave=False,
    )  # None: off when not a terminal
    try:
        for outcome in backend.map(run_batch_safely, triage.batches(spec.experiment), device):
            records = lost_records(outcome, device) if isinstance(outcome, Lost) else outcome
            records = [r for r in records if r.key in triage.todo]  # not the stored runs recomputed beside them
            for record in records:
                record.fingerprint = code_fingerprint()
                record.provenance = {**stamp, **record.provenance}
            commit(store, records, replace=rerun)
            computed += [r.key for r in records if r.status == "done"]
            failed += sum(r.status == "failed" for r in records)
            stopping = next((r for r in records if r.status == "failed"), None) if on_error == "stop" else None
            if stopping is not None:
                raise SweepStopped(f"run {stopping.key} failed: {stopping.error} (stored; sweep stopped)")
            bar.update(len(records))
    finally:
        bar.close()
    total = len(triage.todo) + len(triage.reused) + len(triage.kept_failed)
    return SweepReport(
        total, failed + len(triage.kept_failed), time.perf_counter() - start, tuple(triage.reused), tuple(computed)
    )


def commit(store: Store, records: Sequence[RunRecord], *, replace: bool = False) -> None:
    """Commit ``records`` one by one, retrying a failed write with back-off; when the store still
    cannot take them, save the uncommitted ones to a recovery file and raise StoreWriteError."""
    delays = iter(WRITE_RETRY_DELAYS_S)
    unstored = list(records)
    while unstored:
        try:
            store.put(unstored[0], replace=replace)
            unstored.pop(0)
        except StoreWriteError as err:
            delay = next(delays, None)
            if delay is None:
                where = recovery.save(unstored, store.path)
                raise StoreWriteError(
                    f"cannot write to store {store.path}: {err}; {len(unstored)} computed run(s) saved to {where}; "
                    "fix the cause and rerun the same command, which imports them first"
                ) from None
            time.sleep(delay)


def make_batches(
    experiment_name: str,
    runs: dict[str, Config],
    *,
    todo: dict[str, Config] | None = None,
    absent: Collection[str] | None = None,
    stored_batch_ids: dict[str, str] | None = None,
) -> list[Batch]:
    """The batches that compute ``todo`` (default: all ``runs``, key → config in spec order).

    The planned batches group the runs that differ only in batch axes, in order, in chunks of the
    experiment's ``max_batch``. Within each, the runs to do are computed:

    * with the stored runs of the batch an interruption left partly stored (``stored_batch_ids``:
      key → the id of the batch that computed it; ``absent``: the runs to do that the store has no
      record of, default all), recomputed but not stored again, so the missing runs get the bits
      that batch would have given them (a failed run retried is not missing: its batch is not
      recomputed for it);
    * else as a batch of their own, and a lone one beside one stored run of its chunk, so that no
      run is computed as a batch of one while its chunk has others (BLAS's kernel for a batch of
      one differs from that of two or more).
    """
    todo = runs if todo is None else todo
    absent = todo.keys() if absent is None else absent
    stored_batch_ids = stored_batch_ids or {}
    batches = []
    for planned in _planned_chunks(experiment_name, runs):
        missing = [key for key in planned if key in todo]
        if missing:
            keys = _interrupted_batch(planned, todo, absent, stored_batch_ids) or _with_a_companion(planned, missing)
            batches.append(Batch(experiment_name, keys, tuple(runs[key].to_dict() for key in keys)))
    return batches


def _interrupted_batch(
    planned: tuple[str, ...], todo: dict[str, Config], absent: Collection[str], stored_batch_ids: dict[str, str]
) -> tuple[str, ...] | None:
    """The keys of the batch that stored some of ``planned`` and never stored others (``absent``):
    for each batch id stored in the chunk, its runs plus the chunk's runs to do, kept if they hash
    to that id and hold an absent run (None if no batch fits)."""
    for batch_id in dict.fromkeys(stored_batch_ids[key] for key in planned if key in stored_batch_ids):
        keys = tuple(key for key in planned if key in todo or stored_batch_ids.get(key) == batch_id)
        if _batch_id(keys) == batch_id and any(key in absent for key in keys):
            return keys
    return None


def _with_a_companion(planned: tuple[str, ...], missing: list[str]) -> tuple[str, ...]:
    """``missing``, and when that is one run of a chunk of several, the chunk's first other run beside it."""
    if len(missing) > 1 or len(planned) == 1:
        return tuple(missing)
    companion = next(key for key in planned if key != missing[0])
    return tuple(key for key in planned if key in (missing[0], companion))


def _planned_chunks(experiment_name: str, runs: dict[str, Config]) -> list[tuple[str, ...]]:
    """The keys of runs that differ only in batch axes, grouped in order, in chunks of the experiment's ``max_batch``."""
    experiment = get_experiment(experiment_name)
    groups: dict[str, list[str]] = {}
    for key, cfg in runs.items():
        fixed = cfg.model_dump(mode="json", exclude=nested_exclude(experiment.batch_axes))
        groups.setdefault(repr(sorted(fixed.items())), []).append(key)
    size = experiment.max_batch
    return [tuple(keys[start : start + size]) for keys in groups.values() for start in range(0, len(keys), size)]


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

    A run with a non-finite measured metric (NaN or ±inf) is recorded as failed, naming the metric.
    Each record carries the batch's provenance: torch version, device, host, the notes of
    :mod:`modlab.provenance` (engine, threads, data files), start and finish. Top-level and
    picklable, so process pools and Ray can ship it.
    """
    import torch

    from modlab.train.device import resolve_device

    experiment = get_experiment(batch.experiment)
    configs = [experiment.config.model_validate(c) for c in batch.configs]
    torch_device = resolve_device(device)
    provenance.reset()
    started, start = datetime.now(UTC), time.perf_counter()
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
    seconds = time.perf_counter() - start
    notes = {
        "torch_version": torch.__version__,
        "device": str(torch_device),
        "threads": torch.get_num_threads(),
        "host": platform.node(),
        **provenance.collect(),
        "started_at": started.isoformat(timespec="milliseconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "duration_s": round(seconds, 3),
        "batch_runs": len(configs),
        "batch_id": batch.id,
    }
    return [
        _record(batch.experiment, key, cfg, out, seconds / len(configs), notes)
        for key, cfg, out in zip(batch.keys, batch.configs, outputs)
    ]


def lost_records(lost: Lost, device: str) -> list[RunRecord]:
    """A batch whose worker died on every attempt: each of its runs is recorded failed."""
    batch: Batch = lost.item
    return [
        RunRecord(key, batch.experiment, cfg, "failed", {}, lost.reason, 0.0, device, provenance={"device": device})
        for key, cfg in zip(batch.keys, batch.configs)
    ]


def _record(experiment: str, key: str, config: dict, output: Any, seconds: float, notes: dict) -> RunRecord:
    device = notes["device"]
    if isinstance(output, BaseException):
        error = "".join(traceback.format_exception_only(type(output), output)).strip()
        return RunRecord(key, experiment, config, "failed", {}, error, seconds, device, provenance=dict(notes))
    bad = [
        name for name, value in output.items() if not name.startswith(THEORY_PREFIX) and metric_codec.non_finite(value)
    ]
    reason = f"non-finite value (NaN or ±inf) in metric(s): {', '.join(bad)}" if bad else None
    status = "failed" if bad else "done"
    return RunRecord(key, experiment, config, status, output, reason, seconds, device, provenance=dict(notes))


def _runs(count: int) -> str:
    """``1 run``, ``4 runs``."""
    return f"{count} run{'' if count == 1 else 's'}"
