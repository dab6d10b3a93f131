"""How fast the ensemble engine trains many small networks: per-model loop vs vmap vs hand-batched.

Cases (each trained three ways through ``modlab.train.ensemble.train_ensemble``, 100 plain SGD
steps, full batch: every member has exactly ``batch`` samples):
  (a) 64 small modules, MLP 4 → 16 → 16 → 1, batch 128;
  (b) 64 wide MLPs,     MLP 16 → 64 → 64 → 1, batch 256.
Speed-ups are against the per-model loop of the same run; achieved GFLOP/s (forward + backward
matmul FLOPs) are compared with a large square float32 matmul measured in the same run. Each
timing is the best of ``--repeats``. ``--clock process`` times CPU seconds of this process instead
of wall seconds: on a machine shared with other jobs it measures the code, not the neighbours
(equal to wall time on an idle machine with one thread). Prints a table; the last line is one JSON
object.

Usage: python benchmarks/ensemble_speed.py [--threads N] [--repeats R] [--device cpu|cuda] [--clock wall|process]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

CLOCKS = {"wall": time.perf_counter, "process": time.process_time}

from modlab.train.ensemble import TrainSettings, train_ensemble
from modlab.models import MLP

CASES = {"small": dict(widths=(4, 16, 16, 1), batch=128), "wide": dict(widths=(16, 64, 64, 1), batch=256)}
MEMBERS = 64
STEPS = 100
METHODS = ("loop", "vmap", "batched")


def step_flops(widths: tuple[int, ...], batch: int) -> float:
    """Matmul FLOPs of one member's step: forward 2·B·in·out per layer, weight gradients the same,
    input gradients for every layer but the first."""
    products = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * batch * (2 * sum(products) + sum(products[1:]))


def matmul_gflops(device: torch.device, repeats: int, clock, size: int = 2048, per_block: int = 10) -> float:
    """Sustained float32 GFLOP/s of ``per_block`` back-to-back size² matmuls, best of ``repeats``
    blocks (timed like the cases: a block of work, best of repeats)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = clock()
        for _ in range(per_block):
            a @ b
        _sync(device)
        best = min(best, clock() - start)
    return 2 * size**3 * per_block / best / 1e9


def time_case(widths: tuple[int, ...], batch: int, method: str, device: torch.device, repeats: int, clock) -> float:
    gens = [torch.Generator().manual_seed(i) for i in range(MEMBERS)]
    xs = [torch.randn(batch, widths[0], generator=g) for g in gens]
    ys = [torch.randn(batch, generator=g) for g in gens]
    settings = TrainSettings(optimizer="sgd", lr=1e-2, steps=STEPS, batch_size=0, eval_every=STEPS)
    best = float("inf")
    for _ in range(repeats):
        models = [MLP(widths[0], widths[1:-1], widths[-1], torch.Generator().manual_seed(i)) for i in range(MEMBERS)]
        _sync(device)
        start = clock()
        train_ensemble(models, xs, ys, settings, gens, method=method, device=device)
        _sync(device)
        best = min(best, clock() - start)
    return best


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    clock = CLOCKS[args.clock]
    peak = matmul_gflops(device, args.repeats, clock)
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, device {device}, "
        f"threads {args.threads}, {args.clock} clock; {MEMBERS} members, {STEPS} SGD steps, full batch"
    )
    print(f"large matmul (2048², float32): {peak:.1f} GFLOP/s")
    print(f"{'case':6s} {'method':8s} {'seconds':>9s} {'speed-up':>9s} {'GFLOP/s':>9s} {'of matmul':>10s}")
    out: dict[str, float | str | int] = {
        "matmul_gflops": round(peak, 2),
        "threads": args.threads,
        "clock": args.clock,
        "device": str(device),
    }
    for case, spec in CASES.items():
        flops = step_flops(spec["widths"], spec["batch"]) * MEMBERS * STEPS
        seconds = {m: time_case(spec["widths"], spec["batch"], m, device, args.repeats, clock) for m in METHODS}
        for method, sec in seconds.items():
            rate = flops / sec / 1e9
            print(f"{case:6s} {method:8s} {sec:9.3f} {seconds['loop'] / sec:8.1f}× {rate:9.2f} {rate / peak:9.1%}")
            out[f"{case}_{method}_seconds"] = round(sec, 4)
        best = min(seconds[m] for m in ("vmap", "batched"))
        out[f"best_speedup_{case}"] = round(seconds["loop"] / best, 2)
        out[f"peak_fraction_{case}"] = round(flops / best / 1e9 / peak, 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
