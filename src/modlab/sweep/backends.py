"""Where a sweep's batches run. Every backend yields each batch's result as soon as it finishes,
so the single store writer commits it at once and a killed driver loses only unfinished runs.

* :class:`LocalBackend` — this machine: in-process, or a pool of worker processes. A worker
  that dies mid-run (killed, out of memory, segfault) is replaced and its item retried; an item
  whose worker dies on every attempt comes back as :class:`Lost` so the sweep records it failed.
* :class:`RayBackend` — a Ray cluster (``pip install 'modlab[ray]'``): connects to ``address`` or
  starts a small local Ray. Ray retries tasks whose worker died; what it gives up on is :class:`Lost`.

Backends never touch the store: the driver process is its only writer.

Workers die with the driver: a local worker holds the read end of a pipe only the driver can
write, and a Ray task knows the driver's host and process id; a watchdog thread in each worker
exits the process once :func:`driver_alive` says the driver is gone (killed, even with SIGKILL), so
no orphan keeps computing, competing with a rerun or holding GPU memory. Long computations may also
call :func:`driver_alive` between chunks of steps. A driver that stops normally (end, error,
Ctrl-C, SIGTERM) stops its local workers and cancels its Ray tasks.

Bits: a run's CPU result can differ in the last bits between intra-op thread counts (LAPACK's
least squares does) and between batches (see :mod:`modlab.sweep.runner`, which plans the batches
the same way for every backend), so runs are bit-identical across backends when they get the same threads:
in-process, ``threads`` or (None) the process's own setting; a local worker, ``threads`` or
:func:`threads_per_worker`; a Ray task, one. Every backend also applies the training ``engine``
(:mod:`modlab.train.engine`) where the runs compute.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import re
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

import torch

from modlab.errors import ConfigError, ModlabError
from modlab.train.engine import check_engine, engine_choice
from modlab.train.threads import choose_threads, intra_op_threads

BACKENDS = ("local", "ray")
LOCAL_RAY_MAX_CPUS = 4
LOCAL_RAY_OBJECT_STORE = 256 * 1024**2  # bytes; results are small, so keep the local Ray light
RAY_CPUS_PER_TASK = 1  # and as many intra-op threads
WAIT_SLICE_S = 0.5  # seconds a Ray wait blocks before Python handles pending signals
RAY_CONNECT_TIMEOUT_S = 5
DRIVER_POLL_S = 0.2  # how often a worker's watchdog checks that the driver is alive
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")

_driver_link: Connection | tuple[str, int] | None = None  # in a worker: how to tell the driver is alive


@dataclass(frozen=True)
class Lost:
    """An item whose worker died on every attempt: ``reason`` says how."""

    item: Any
    reason: str


class Backend(Protocol):
    def connect(self) -> None:
        """Make the backend ready (join or start a cluster), failing with a one-line error."""

    def intra_op_threads(self) -> int:
        """The intra-op threads each computed batch gets."""

    def map(self, fn: Callable[[Any, str], Any], items: Iterable[Any], device: str) -> Iterator[Any]:
        """Yield ``fn(item, device)`` for every item (or a :class:`Lost`), in completion order."""


def driver_alive() -> bool:
    """False once the driver process of this worker is gone; always True in the driver itself (and
    for a Ray task whose driver runs on another host, which Ray's own job cleanup covers)."""
    link = _driver_link
    if link is None:
        return True
    if isinstance(link, tuple):
        host, pid = link
        return host != platform.node() or _process_exists(pid)
    try:
        return not link.poll()  # the driver never writes: readable means its end closed
    except (EOFError, OSError):
        return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_driver(link: Connection | tuple[str, int]) -> None:
    """In a worker: remember how to reach the driver and exit the process once it is gone."""
    global _driver_link
    if _driver_link == link:
        return
    _driver_link = link
    threading.Thread(target=_exit_when_driver_gone, name="modlab-driver-watch", daemon=True).start()


def _exit_when_driver_gone() -> None:
    while driver_alive():
        time.sleep(DRIVER_POLL_S)
    os._exit(1)


def check_ray_address(address: str) -> None:
    """Refuse a malformed Ray address (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``), one message
    per defect, before anything connects or touches the disk."""
    where = f"ray address {address!r}"
    if not address.strip():
        raise ConfigError(f"{where} is empty: give HOST:PORT (e.g. 10.0.0.5:6379), ray://HOST:PORT or auto")
    if address == "auto":
        return
    scheme, sep, rest = address.partition("://")
    if sep and scheme != "ray":
        raise ConfigError(f"{where}: scheme {scheme + '://'!r} is not supported, use HOST:PORT or ray://HOST:PORT")
    host, colon, port = (rest if sep else address).rpartition(":")
    if not colon:
        raise ConfigError(f"{where} has no port: expected HOST:PORT (e.g. 10.0.0.5:6379)")
    if not host:
        raise ConfigError(f"{where} has no host before the port: expected HOST:PORT")
    if not _HOST.fullmatch(host):
        raise ConfigError(f"{where}: {host!r} is not a host name or IP address")
    if not port.isdigit():
        raise ConfigError(f"{where}: port {port!r} is not a number")
    if not 1 <= int(port) <= 65535:
        raise ConfigError(f"{where}: port {int(port)} is outside 1–65535")


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
    if ray_address is not None:
        check_ray_address(ray_address)
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

    def connect(self) -> None:
        """Nothing to join: workers start with the first batch."""

    def intra_op_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        return torch.get_num_threads() if self.workers == 1 else threads_per_worker(self.workers)

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
    alive: Connection  # the driver's end of the liveness pipe: closing it (or dying) stops the worker
    index: int | None = None  # the item it holds


class _WorkerPool:
    """Worker processes, one pipe each, so a dead worker's item is known exactly."""

    def __init__(self, fn: Callable[[Any, str], Any], device: str, size: int, threads: int, retries: int, engine: str):
        self.fn, self.device, self.size, self.threads, self.retries = fn, device, size, threads, retries
        self.engine = engine
        self.context = _worker_context()

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        watched, alive = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_serve, args=(child, watched, self.fn, self.device, self.threads, self.engine), daemon=True
        )
        process.start()
        child.close()
        watched.close()
        return _Worker(process, parent, alive)

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
                        assert lost is not None  # a busy worker holds an item
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


def _worker_context() -> multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext:
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


def _serve(
    conn: Connection, watched: Connection, fn: Callable[[Any, str], Any], device: str, threads: int, engine: str
) -> None:
    """Worker loop: receive ``(index, item)``, send ``(True, result)`` or ``(False, exception)``.
    Exits when the driver says so or goes away, even mid-item (``watched`` is the liveness pipe).
    The workers share the cores: ``threads`` each (more would oversubscribe them, and spinning BLAS
    threads slow tiny runs many times over). Ctrl-C is the driver's to handle: it stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_driver(watched)
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


def _call_with_threads(
    fn: Callable[[Any, str], Any], threads: int, engine: str, driver: tuple[str, int], item: Any, device: str
) -> Any:
    """A Ray task: ``fn(item, device)`` with as many intra-op threads as the task has CPUs and the
    driver's engine choice, in a worker that exits once the ``driver`` (host, process id) is gone."""
    _watch_driver(driver)
    torch.set_num_threads(threads)
    with engine_choice(engine):
        return fn(item, device)


def _stop(workers: list[_Worker]) -> None:
    """Idle workers are told to stop; busy ones (the driver is quitting early) exit through their
    watchdog when the liveness pipe closes."""
    for worker in workers:
        _send(worker.conn, None)
        worker.alive.close()
    for worker in workers:
        _close(worker)


def _close(worker: _Worker) -> None:
    """Join a worker (killing it if it will not stop) and close its pipes."""
    worker.alive.close()
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

    def connect(self) -> None:
        _connect_ray(self.address, self.workers)

    def intra_op_threads(self) -> int:
        return RAY_CPUS_PER_TASK

    def map(self, fn, items, device):
        ray = _connect_ray(self.address, self.workers)
        gpus = 1 if device.startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0) else 0
        task = ray.remote(_call_with_threads).options(
            num_cpus=RAY_CPUS_PER_TASK, num_gpus=gpus, max_retries=self.retries
        )
        driver = (platform.node(), os.getpid())
        todo = deque(items)
        pending: dict[Any, Any] = {}
        try:
            while todo or pending:
                while todo and (self.address is None or self.workers is None or len(pending) < self.workers):
                    item = todo.popleft()
                    pending[task.remote(fn, RAY_CPUS_PER_TASK, self.engine, driver, item, device)] = item
                ref = _first_ready(ray, list(pending))
                item = pending.pop(ref)
                try:
                    yield _signal_safe(ray.get, ref)
                except ray.exceptions.RayTaskError as err:
                    raise err.as_instanceof_cause() from None
                except ray.exceptions.RayError as err:
                    yield Lost(item, f"ray gave up on the task: {type(err).__name__}: {str(err).splitlines()[0]}")
        finally:
            for ref in pending:  # the driver stops early (error, Ctrl-C, SIGTERM): nothing keeps computing
                ray.cancel(ref, force=True)


def _first_ready(ray: Any, refs: list[Any]) -> Any:
    """The first of ``refs`` to finish. Waits in short slices: Ray's blocking wait does not always
    return to Python for a signal, and SIGTERM or Ctrl-C must stop the driver at once."""
    while True:
        ready, _ = _signal_safe(ray.wait, refs, num_returns=1, timeout=WAIT_SLICE_S)
        if ready:
            return ready[0]


def _signal_safe(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` of Ray's, re-raising what a signal handler raised during it (SIGTERM,
    Ctrl-C): Ray's C extension reports it as a SystemError caused by it."""
    try:
        return call(*args, **kwargs)
    except SystemError as err:
        if err.__cause__ is not None:
            raise err.__cause__ from None
        raise


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
    handler = signal.getsignal(signal.SIGTERM)
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
    finally:
        if handler is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)  # Ray installs its own; the caller's stays in charge
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
