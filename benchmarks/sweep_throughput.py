"""Sweep throughput: runs per second of 256 tiny ``linear-rf`` runs on each backend, and what the
store costs per run.

Each run is its own batch (256 distinct ``n``, one seed), so this measures dispatch and storage,
not the science. Rows:

* ``compute only`` — ``run_batch_safely`` on every batch in this process, nothing stored: the floor.
* ``local-1`` — ``run_sweep`` in-process into a fresh store.
* ``local-N`` — N worker processes, warm: the fork server (which imports torch once) is started
  by a warm-up sweep of 8 runs first, and that start-up is printed separately.
* ``ray`` — a local Ray with N CPUs, warm the same way (``ray.init`` plus a warm-up sweep that
  starts its workers, printed separately).

Store overhead per run = (local-1 time − compute-only time) / runs, and the time of one
``Store.put`` measured alone. Usage: ``python benchmarks/sweep_throughput.py [--runs 256] [--workers N] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from modlab.store import Store
from modlab.sweep import LocalBackend, RayBackend, SweepSpec, run_sweep
from modlab.sweep.runner import make_batches, run_batch_safely


def tiny_spec(runs: int) -> SweepSpec:
    return SweepSpec(
        experiment="linear-rf", name="throughput", base={"m": 4, "p": 4}, axes={"n": list(range(8, 8 + runs))}
    )


def time_compute_only(spec: SweepSpec) -> float:
    batches = make_batches(spec.experiment, dict(zip(spec.keys(), spec.configs())))
    start = time.perf_counter()
    for batch in batches:
        run_batch_safely(batch, "cpu")
    return time.perf_counter() - start


def time_sweep(spec: SweepSpec, folder: Path, name: str, backend) -> float:
    """Seconds for the whole sweep into a fresh store."""
    path = folder / f"{name}.sqlite"
    for stale in folder.glob(f"{name}.sqlite*"):
        stale.unlink()
    with Store.create(path) as store:
        start = time.perf_counter()
        report = run_sweep(spec, store, backend=backend, progress=False, device="cpu")
        seconds = time.perf_counter() - start
    assert report.computed == len(spec.keys()), report
    return seconds


def best_of(repeats: int, measure) -> float:
    """The fastest of ``repeats`` measurements: the least disturbed by other jobs on the CPU."""
    return min(measure() for _ in range(repeats))


def time_put(spec: SweepSpec, folder: Path) -> float:
    """Seconds per ``Store.put`` of an already computed record."""
    batches = make_batches(spec.experiment, dict(zip(spec.keys(), spec.configs())))
    records = [r for batch in batches for r in run_batch_safely(batch, "cpu")]
    for stale in folder.glob("put.sqlite*"):
        stale.unlink()
    with Store(folder / "put.sqlite", create=True) as store:
        start = time.perf_counter()
        for record in records:
            store.put(record)
        return (time.perf_counter() - start) / len(records)


def start_ray(workers: int) -> None:
    import ray

    ray.init(
        address="local",
        num_cpus=workers,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="warning",
        object_store_memory=256 * 1024**2,
    )


def warm_up(folder: Path, name: str, backend, start=None) -> float:
    """Seconds to start a backend (``start()``, then a sweep of 8 runs)."""
    begin = time.perf_counter()
    if start is not None:
        start()
    time_sweep(tiny_spec(8), folder, f"warm-up-{name}", backend)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=256)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3, help="each row is the best of this many sweeps")
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = tiny_spec(args.runs)
    runs = len(spec.keys())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        time_compute_only(tiny_spec(8))  # warm-up: imports, first-call costs
        repeat = functools.partial(best_of, args.repeats)
        seconds = {"compute only": repeat(lambda: time_compute_only(spec))}
        seconds["local-1"] = repeat(lambda: time_sweep(spec, folder, "local-1", LocalBackend(1)))
        local_n = LocalBackend(args.workers)
        startup = {f"local-{args.workers}": warm_up(folder, "local-n", local_n)}
        seconds[f"local-{args.workers}"] = repeat(lambda: time_sweep(spec, folder, "local-n", local_n))
        has_ray = importlib.util.find_spec("ray") is not None
        if has_ray:
            ray_backend = RayBackend(workers=args.workers)
            startup["ray"] = warm_up(folder, "ray", ray_backend, start=lambda: start_ray(args.workers))
            seconds["ray"] = repeat(lambda: time_sweep(spec, folder, "ray", ray_backend))
        put_ms = 1e3 * repeat(lambda: time_put(spec, folder))
    store_ms = 1e3 * (seconds["local-1"] - seconds["compute only"]) / runs
    print(
        f"{runs} tiny linear-rf runs, one run per batch, best of {args.repeats}; {os.cpu_count()} CPU cores "
        "(other jobs may share them: compare rows of one run)"
    )
    print(f"{'backend':>14} {'seconds':>9} {'runs/s':>9} {'vs local-1':>11}")
    for name, value in seconds.items():
        print(f"{name:>14} {value:9.2f} {runs / value:9.1f} {seconds['local-1'] / value:10.2f}x")
    for name, value in startup.items():
        what = "ray.init, its workers" if name == "ray" else "fork server, workers"
        print(f"{name} start-up, not in its row: {value:.1f} s ({what}, first 8 runs)")
    if not has_ray:
        print("ray: not installed (pip install 'modlab[ray]')")
    print(
        f"store overhead per run: {store_ms:.2f} ms in a sweep (local-1 − compute only), {put_ms:.2f} ms per Store.put alone"
    )
    summary = {
        "runs": runs,
        "workers": args.workers,
        "runs_per_s": {name: round(runs / value, 2) for name, value in seconds.items() if name != "compute only"},
        "compute_only_runs_per_s": round(runs / seconds["compute only"], 2),
        "startup_s": {name: round(value, 2) for name, value in startup.items()},
        "store_ms_per_run": round(store_ms, 3),
        "store_put_ms": round(put_ms, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
