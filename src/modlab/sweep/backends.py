"""Where a sweep's batches run. Every backend yields each batch's result as soon as it finishes,
so the single store writer commits it at once and a killed driver loses only unfinished runs.

* :class:`LocalBackend` — this machine: in-process, or a pool of worker processes. A worker
  that dies mid-run (killed, out of memory, segfault) is replaced and its item retried; an item
  whose worker dies on every attempt comes back as :class:`Lost` so the sweep records it failed.
* :class:`RayBackend` — a Ray cluster (``pip install 'modlab[ray]'``): connects to ``address`` or
  starts a small local Ray. Ray retries tasks whose worker died; what it gives up on is :class:`Lost`.

Backends never touch the store: the driver process is its only writer.

Bits: a run's CPU result can differ in the last bits between intra-op thread counts (LAPACK's
least squares does), so runs are bit-identical across backends when they get the same threads:
in-process, ``threads`` or (None) the process's own setting; a local worker, ``threads`` or
:func:`threads_per_worker`; a Ray task, one. Every backend also applies the training ``engine``
(:mod:`modlab.train.engine`) where the runs compute.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator, Protocol

import torch

from modlab.errors import ConfigError, ModlabError
from modlab.train.engine import check_engine, engine_choice
from modlab.train.threads import choose_threads, intra_op_threads

BACKENDS = ("local", "ray")
LOCAL_RAY_MAX_CPUS = 4
LOCAL_RAY_OBJECT_STORE = 256 * 1024**2  # bytes; results are small, so keep the local Ray light
RAY_CPUS_PER_TASK = 1  # and as many intra-op threads
RAY_CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Lost:
    """An item whose worker died on every attempt: ``reason`` says how."""

    item: Any
    reason: str


class Backend(Protocol):
    def map(self, fn: Callable[[Any, str], Any], items: Iterable[Any], device: str) -> Iterator[Any]:
        """Yield ``fn(item, device)`` for every item (or a :class:`Lost`), in completion order."""


def make_backend(
    name: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    engine: str = "auto",
    threads: int | None = None,
) -> Backend:
    """The backend called ``name``; ``workers`` caps how many items run at once; ``engine`` the
    training path and ``threads`` the intra-op threads of every process that computes runs."""
    if name not in BACKENDS:
        raise ConfigError(f"backend {name!r}: allowed {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers = {workers}: must be ≥ 1")
    if name == "local":
        if ray_address is not None:
            raise ConfigError(f"ray address {ray_address!r} given with backend 'local' (use backend 'ray')")
        return LocalBackend(workers or 1, engine=engine, threads=threads)
    return RayBackend(ray_address, workers, engine=engine)


class LocalBackend:
    """This machine: in-process (``workers = 1``) or a pool of ``workers`` processes.

    Workers are forked from a fork server that has imported the engine (and so torch) once: a
    fresh or replacement worker starts in milliseconds, and no worker inherits the driver's
    threads, CUDA state or open store (plain spawn where there is no fork server, as on Windows).

    A worker process that dies while holding an item is replaced and the item handed out again,
    up to ``retries`` times; after that the item is yielded as :class:`Lost`.

    ``engine``: the training path (:data:`~modlab.train.engine.ENGINES`); ``threads``: intra-op
    threads per process (None: in-process keeps the process's setting, workers take
    :func:`threads_per_worker`).
    """

    def __init__(self, workers: int = 1, retries: int = 1, engine: str = "auto", threads: int | None = None):
        if workers < 1:
            raise ConfigError(f"workers = {workers}: must be ≥ 1")
        if retries < 0:
            raise ConfigError(f"retries = {retries}: must be ≥ 0")
        self.workers = workers
        self.retries = retries
        self.engine = check_engine(engine)
        self.threads = None if threads is None else choose_threads(workers, threads)

    def map(self, fn, items, device):
        items = list(items)
        if self.workers == 1:
            for item in items:
                with engine_choice(self.engine), intra_op_threads(self.threads):
                    result = fn(item, device)
                yield result
        elif items:  # even one item goes to a worker, so its bits never depend on how many there are
            threads = self.threads or threads_per_worker(self.workers)
            pool = _WorkerPool(fn, device, min(self.workers, len(items)), threads, self.retries, self.engine)
            yield from pool.map(items)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    index: int | None = None  # the item it holds


class _WorkerPool:
    """Worker processes, one pipe each, so a dead worker's item is known exactly."""

    def __init__(self, fn: Callable[[Any, str], Any], device: str, size: int, threads: int, retries: int, engine: str):
        self.fn, self.device, self.size, self.threads, self.retries = fn, device, size, threads, retries
        self.engine = engine
        self.context = _worker_context()

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve, args=(child, self.fn, self.device, self.threads, self.engine), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def map(self, items: list[Any]) -> Iterator[Any]:
        todo = deque(range(len(items)))
        deaths = [0] * len(items)
        workers = [self._start() for _ in range(self.size)]
        try:
            while todo or any(w.index is not None for w in workers):
                for slot, worker in enumerate(workers):
                    if worker.index is None and todo:
                        if not worker.process.is_alive():
                            _close(worker)
                            worker = workers[slot] = self._start()
                        worker.index = todo.popleft()
                        _send(worker.conn, (worker.index, items[worker.index]))
                busy = [w for w in workers if w.index is not None]
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
                for worker in busy:
                    if (reply := _receive(worker.conn)) is not None:
                        worker.index = None
                        ok, value = reply
                        if not ok:
                            raise value
                        yield value
                    elif not worker.process.is_alive():
                        lost, worker.index = worker.index, None
                        deaths[lost] += 1
                        if deaths[lost] <= self.retries:
                            todo.appendleft(lost)
                        else:
                            code = worker.process.exitcode
                            yield Lost(
                                items[lost], f"worker process died (exit code {code}) on all {deaths[lost]} attempts"
                            )
        finally:
            _stop(workers)


def threads_per_worker(workers: int) -> int:
    """Intra-op threads of each of ``workers`` local workers: the cores shared out, at least one."""
    return choose_threads(workers)


def _worker_context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["modlab.sweep"])
    return context


def _send(conn: Connection, message: Any) -> None:
    """Send, ignoring a worker that has just died (its death is handled through its sentinel)."""
    try:
        conn.send(message)
    except (BrokenPipeError, OSError):
        pass


def _receive(conn: Connection) -> tuple[bool, Any] | None:
    """A worker's reply if one is waiting, else None (also when the worker is gone)."""
    try:
        return conn.recv() if conn.poll() else None
    except (EOFError, OSError):
        return None


def _serve(conn: Connection, fn: Callable[[Any, str], Any], device: str, threads: int, engine: str) -> None:
    """Worker loop: receive ``(index, item)``, send ``(True, result)`` or ``(False, exception)``.
    Exits when the driver says so or goes away. The workers share the cores: ``threads`` each
    (more would oversubscribe them, and spinning BLAS threads slow tiny runs many times over).
    Ctrl-C is the driver's to handle: it stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    with engine_choice(engine):
        _serve_items(conn, fn, device)


def _serve_items(conn: Connection, fn: Callable[[Any, str], Any], device: str) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        _, item = message
        try:
            reply = (True, fn(item, device))
        except Exception as err:  # noqa: BLE001 - re-raised in the driver
            reply = (False, err)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


def _call_with_threads(fn: Callable[[Any, str], Any], threads: int, engine: str, item: Any, device: str) -> Any:
    """A Ray task: ``fn(item, device)`` with as many intra-op threads as the task has CPUs."""
    torch.set_num_threads(threads)
    with engine_choice(engine):
        return fn(item, device)


def _stop(workers: list[_Worker]) -> None:
    for worker in workers:
        _send(worker.conn, None)
    for worker in workers:
        _close(worker)


def _close(worker: _Worker) -> None:
    """Join a worker (killing it if it will not stop) and close its pipe."""
    worker.process.join(timeout=5)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.conn.close()


class RayBackend:
    """A Ray cluster at ``address``, or (``address=None``) a local Ray started with ``workers`` CPUs
    (default: this machine's cores, at most 4). On a cluster, ``workers`` caps the tasks in flight
    (the share of the cluster this sweep takes); a local Ray's CPU count is its own cap.

    Tasks whose worker process dies are retried by Ray up to ``retries`` times, then yielded as
    :class:`Lost`. With device ``cuda`` (or ``auto`` on a cluster that has GPUs) each task asks
    Ray for one GPU; otherwise Ray hides the GPUs from it and it runs on the CPU.
    """

    def __init__(self, address: str | None = None, workers: int | None = None, retries: int = 1, engine: str = "auto"):
        self.address = address
        self.workers = workers
        self.retries = retries
        self.engine = check_engine(engine)

    def map(self, fn, items, device):
        ray = _connect_ray(self.address, self.workers)
        gpus = 1 if device.startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0) else 0
        task = ray.remote(_call_with_threads).options(
            num_cpus=RAY_CPUS_PER_TASK, num_gpus=gpus, max_retries=self.retries
        )
        todo = deque(items)
        pending: dict[Any, Any] = {}
        while todo or pending:
            while todo and (self.address is None or self.workers is None or len(pending) < self.workers):
                item = todo.popleft()
                pending[task.remote(fn, RAY_CPUS_PER_TASK, self.engine, item, device)] = item
            [ref], _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(ref)
            try:
                yield ray.get(ref)
            except ray.exceptions.RayTaskError as err:
                raise err.as_instanceof_cause() from None
            except ray.exceptions.RayError as err:
                yield Lost(item, f"ray gave up on the task: {type(err).__name__}: {str(err).splitlines()[0]}")


def _connect_ray(address: str | None, workers: int | None):
    """Ray, initialised once per process (a local instance when ``address`` is None)."""
    try:
        import ray
    except ImportError:
        raise ModlabError("backend 'ray' needs the ray package: pip install 'modlab[ray]'") from None
    if address is not None:
        _check_reachable(address)
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "warning"}
    if address is None:
        cpus = workers or min(os.cpu_count() or 1, LOCAL_RAY_MAX_CPUS)
        options |= {"address": "local", "num_cpus": cpus, "object_store_memory": LOCAL_RAY_OBJECT_STORE}
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if address is None:
            raise ModlabError(f"cannot start a local Ray: {reason}") from None
        raise ModlabError(
            f"cannot join Ray at {address}: {reason} (a cluster with token authentication, the default "
            "since Ray 2.59, needs RAY_AUTH_MODE=token and its token here)"
        ) from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail fast on a ``host:port`` nobody listens on (Ray itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise ModlabError(
            f"cannot reach Ray at {address}: {err.strerror or err} (start it with `ray start --head`)"
        ) from None
