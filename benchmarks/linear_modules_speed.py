"""Batched training of many seeds of paper B's dense linear network vs the plain per-seed loop.

Both train the spec's dense network (default point, hidden 50, lr 0.02) for the same epochs from
the same initial weights; the batched path is ``rules.gradient_flow.train`` (one batched matmul per
layer per epoch for all seeds), the reference ``train_reference`` (numpy, one seed at a time).
Prints a table and, as its last line, one JSON object with both times and their ratio.
Usage: python benchmarks/linear_modules_speed.py [--seeds 256] [--epochs 300] [--reference-seeds 16]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from modlab.experiments.linear_modules import LinearModulesConfig, build_network
from modlab.rules.gradient_flow import Moments, train, train_reference
from modlab.tasks.dataset_space import make_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument(
        "--reference-seeds", type=int, default=16, help="seeds the slow loop runs (its time is scaled up)"
    )
    args = parser.parse_args()
    if args.seeds < 1 or args.epochs < 1 or args.reference_seeds < 1:
        parser.error("--seeds, --epochs and --reference-seeds must be ≥ 1")
    reference_seeds = min(args.reference_seeds, args.seeds)
    torch.set_num_threads(1)
    cfg = LinearModulesConfig(epochs=args.epochs)
    data = make_dataset(cfg.task)
    moments = Moments.of(data.x, data.y)
    rate = cfg.task.n_points * cfg.lr
    gens = [torch.Generator().manual_seed(s) for s in range(args.seeds)]
    network = build_network(cfg, data, moments, gens)
    start = time.perf_counter()
    reference = train_reference(_first(reference_seeds, cfg, data, moments), moments, rate, args.epochs)
    loop_s = (time.perf_counter() - start) * args.seeds / reference_seeds
    start = time.perf_counter()
    final = train(network, moments, rate, args.epochs, lambda w: w.flatten(1), record_every=args.epochs)[-1]
    batched_s = time.perf_counter() - start
    gap = float(np.abs(final[:reference_seeds].numpy().reshape(reference.shape) - reference).max())
    print(f"{'seeds × epochs':<34}{args.seeds} × {args.epochs}")
    print(f"{'batched (s)':<34}{batched_s:>10.3f}")
    print(f"{'per-seed loop (s, extrapolated)':<34}{loop_s:>10.3f}")
    print(f"{'speed-up':<34}{loop_s / batched_s:>10.1f}x")
    print(f"{'max |batched − loop|':<34}{gap:>10.1e}")
    print(
        json.dumps(
            {
                "seeds": args.seeds,
                "epochs": args.epochs,
                "batched_s": batched_s,
                "loop_s": loop_s,
                "speedup": loop_s / batched_s,
                "max_abs_difference": gap,
            }
        )
    )


def _first(count, cfg, data, moments):
    """A copy of the first ``count`` members (same initial weights) for the reference loop."""
    return build_network(cfg, data, moments, [torch.Generator().manual_seed(s) for s in range(count)])


if __name__ == "__main__":
    main()
