"""How fast a kernel-rule sine sweep runs: its searches batched across runs vs one run at a time.

Setting: sine task, random layout, m = 8, K = 3, b = 1, n = 2000; the joint kernel rule (module
kernel) with batch 512, 200 Adam steps and 6 restarts; ``--runs`` network seeds (default 8); each
network then trained 200 Adam steps at batch 512. Two parts, same process:

1. Layout: one search step (objective, backward, Adam) for all runs × restarts, the objective
   evaluated ``c`` descents at a time for several chunk sizes ``c`` (1 = one descent after another,
   6 = one run's restarts, runs × restarts = everything at once; modules always accumulated one at
   a time), and the sequential reference (``find_projections_reference`` per run). The fastest
   layout is what ``RUNS_PER_CHUNK`` holds for the device.
2. The sweep end to end through a results store, ``--repeats`` times per path, alternated, the
   fastest counting: the default path (every batch's searches as one
   computation) and the per-member sequential path (``--engine loop``: each run's search alone, and
   the per-model training loop). ``sweep_speedup`` = sequential seconds / default seconds;
   ``search_speedup`` the same for the summed search seconds alone.

Prints a table; the last line is one JSON object.

Usage: python benchmarks/kernel_rule_speed.py [--runs R] [--steps S] [--repeats K] [--threads N] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from modlab.models import MLP
from modlab.rules.kernel_rule import (
    RUNS_PER_CHUNK,
    KernelRuleConfig,
    find_projections_batch,
    find_projections_reference,
)
from modlab.rules.module_kernels import stack_module_layers
from modlab.store import Store
from modlab.sweep import LocalBackend, SweepSpec, run_sweep
from modlab.tasks.sine import SineTaskConfig, make_sine_task
from modlab.train.device import resolve_device

TASK = dict(layout="random", input_dim=8, n_modules=3, module_dim=1, n_train=2000, n_test=2000)
RULE = dict(steps=200, batch_size=512, joint_restarts=6, lr=0.05, kernel="module")
TRAIN = dict(steps=200, batch_size=512, lr=1e-3, eval_every=200)
LAYOUT_STEPS = 3


def sweep_spec(runs: int, steps: int) -> SweepSpec:
    return SweepSpec(
        experiment="sine",
        name="kernel-rule-speed",
        base=dict(
            task=TASK,
            model=dict(kind="modular", hidden=[32, 32]),
            projection_init="kernel_rule",
            kernel_rule={**RULE, "steps": steps},
            train=TRAIN,
        ),
        axes={"seed": list(range(runs))},
    )


def time_layouts(runs: int, device: torch.device) -> dict[str, float]:
    """Seconds per search step of every layout, on ``runs`` runs' data (best of two)."""
    cfg = KernelRuleConfig(**{**RULE, "steps": LAYOUT_STEPS, "eval_size": 2})
    task = make_sine_task(SineTaskConfig(**TASK))
    xs = task.x_train.to(device).expand(runs, -1, -1)
    ys = task.y_train.to(device).expand(runs, -1)
    blocks = [MLP(1, (32, 32), 1, torch.Generator().manual_seed(j)) for j in range(3)]
    layers = [
        (w.to(device).expand(runs, *w.shape), b.to(device).expand(runs, *b.shape))
        for w, b in stack_module_layers(blocks)
    ]
    descents = runs * cfg.n_descents(3)

    def batch(chunk: int) -> None:
        find_projections_batch(xs, ys, cfg, 3, 1, [_gens(cfg) for _ in range(runs)], layers, descents_per_chunk=chunk)

    def sequential() -> None:
        for r in range(runs):
            find_projections_reference(xs[r], ys[r], cfg, 3, 1, _gens(cfg), [(w[r], b[r]) for w, b in layers])

    layouts = {f"chunks of {c}": (lambda c=c: batch(c)) for c in sorted({1, 3, 6, 12, descents})}
    layouts["sequential reference"] = sequential
    return {name: _best_seconds(fn, device) / LAYOUT_STEPS for name, fn in layouts.items()}


def _gens(cfg: KernelRuleConfig) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(i) for i in range(cfg.n_descents(3))]


def _best_seconds(fn, device: torch.device, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def time_sweep(spec: SweepSpec, engine: str, device: str, threads: int) -> tuple[float, float]:
    """(wall seconds of the sweep, summed search seconds) into a fresh store."""
    with tempfile.TemporaryDirectory() as folder, Store.create(Path(folder) / "s.sqlite") as store:
        start = time.perf_counter()
        run_sweep(spec, store, device=device, backend=LocalBackend(engine=engine, threads=threads), progress=False)
        seconds = time.perf_counter() - start
        records = store.records(spec.keys())
    if any(r.status != "done" for r in records):
        raise RuntimeError(f"a benchmark run failed: {[r.error for r in records if r.error]}")
    return seconds, sum(r.metrics["search_seconds"] for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=RULE["steps"], help="search steps (200: the spec's setting)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=2, help="sweeps per path, alternated; the fastest counts")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(
        f"kernel-rule sweep: {args.runs} runs × {RULE['joint_restarts']} restarts, n = {TASK['n_train']}, K = 3, "
        f"batch {RULE['batch_size']}, {args.steps} search steps, module kernel; {device}, {args.threads} thread(s), "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}"
    )
    layouts = time_layouts(args.runs, device)
    print(f"{'layout (one search step, all runs)':<40}{'seconds':>10}")
    for name, sec in layouts.items():
        print(f"{name:<40}{sec:>10.3f}")
    spec = sweep_spec(args.runs, args.steps)
    timings: dict[str, list[tuple[float, float]]] = {"auto": [], "loop": []}
    for _ in range(args.repeats):  # alternated, so a change in the machine's load hits both alike
        for engine, seen in timings.items():
            seen.append(time_sweep(spec, engine, str(device), args.threads))
    (default_s, default_search), (loop_s, loop_search) = (min(timings["auto"]), min(timings["loop"]))
    print(f"{'sweep through the store':<40}{'seconds':>10}{'search s':>10}")
    print(f"{'default (batched across runs)':<40}{default_s:>10.1f}{default_search:>10.1f}")
    print(f"{'per-member sequential (--engine loop)':<40}{loop_s:>10.1f}{loop_search:>10.1f}")
    print(
        json.dumps(
            {
                "sweep_speedup": round(loop_s / default_s, 3),
                "search_speedup": round(loop_search / default_search, 3),
                "default_seconds": round(default_s, 2),
                "sequential_seconds": round(loop_s, 2),
                "layout_seconds_per_step": {k: round(v, 4) for k, v in layouts.items()},
                "runs_per_chunk": RUNS_PER_CHUNK.get(device.type, "all"),
                "runs": args.runs,
                "search_steps": args.steps,
                "device": str(device),
                "threads": args.threads,
            }
        )
    )


if __name__ == "__main__":
    main()
