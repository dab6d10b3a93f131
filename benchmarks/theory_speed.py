"""Time to evaluate paper A's closed-form losses on a 50-point grid vs simulating the same grid.

Prints a table and, as its last line, one JSON object: theory and simulation seconds and their ratio.
Usage: python benchmarks/theory_speed.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from modlab.experiments.linear_rf import LinearRFConfig, simulate
from modlab.theory import Spectrum, rf_losses


def grid() -> list[tuple[int, int]]:
    """50 (n, p) points: 25 values of n at two network sizes, off the interpolation peak."""
    ns = np.unique(np.logspace(np.log10(30), np.log10(3000), 25).astype(int))
    return [(int(n), p) for p in (40, 400) for n in ns if abs(n - p) > 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20, help="Monte-Carlo seeds per grid point")
    args = parser.parse_args()
    points = grid()
    n = np.array([pt[0] for pt in points])
    p = np.array([pt[1] for pt in points])
    spectrum = Spectrum()
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        theory = rf_losses(n, p, 4, spectrum=spectrum)["test"]
    theory_s = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    sim = [
        np.mean(
            [
                r["test"]
                for r in simulate(
                    [LinearRFConfig(n=a, p=b, m=4, seed=s) for s in range(args.seeds)], torch.device("cpu")
                )
            ]
        )
        for a, b in points
    ]
    sim_s = time.perf_counter() - start
    worst = float(np.max(np.abs(np.array(sim) - theory) / theory))
    print(f"{'grid points':<28}{len(points):>12}")
    print(f"{'theory (s)':<28}{theory_s:>12.5f}")
    print(f"{f'simulation, {args.seeds} seeds (s)':<28}{sim_s:>12.3f}")
    print(f"{'simulation / theory':<28}{sim_s / theory_s:>12.0f}x")
    print(f"{'max |sim - theory| / theory':<28}{worst:>12.3f}")
    print(
        json.dumps(
            {
                "grid_points": len(points),
                "seeds": args.seeds,
                "theory_s": theory_s,
                "simulation_s": sim_s,
                "speedup": sim_s / theory_s,
                "max_rel_error": worst,
            }
        )
    )


if __name__ == "__main__":
    main()
