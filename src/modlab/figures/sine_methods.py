"""The ways of learning paper A's sine task that the network figures compare, as sweep specs, and the
samples-to-target estimate read off their loss-vs-n curves.

Methods: a monolithic MLP; the modular network given the task's true projections (the theory's
"modules that read the right projections"); the modular network trained by plain gradient descent
from random projections; the mixture of experts (modules reading all of x); and the modular network
whose projections the kernel rule found first — the joint variant (modlab's default) and the paper's
per-module Algorithm 1 — then trained end to end. A figure's typed preset (a subclass of
:class:`SineNetworks`) gives the network sizes, the training and the kernel-rule settings;
:func:`method_spec` turns (task, method, axes) into a sweep of experiment ``sine``.

:func:`samples_to_target` estimates the samples a method needs from its seed-mean loss curve (never
from the seeds that happened to reach the target: that average is biased towards the lucky ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.sweep import SweepSpec
from modlab.theory.crossing import first_crossing

METHODS: dict[str, tuple[str, str]] = {
    "monolithic": ("monolithic", "random"),
    "modular (true projections)": ("modular", "true"),
    "modular, plain GD": ("modular", "random"),
    "mixture of experts": ("moe", "random"),
    "kernel rule (joint)": ("modular", "kernel_rule"),
    "kernel rule (per-module, Alg. 1)": ("modular", "kernel_rule_per_module"),
}
KERNEL_RULES = ("kernel rule (joint)", "kernel rule (per-module, Alg. 1)")
# The figures' kernel-rule settings: RBF kernel (see a_sample_complexity's docstring for why); the
# paper presets use the measured search of 200 steps, batch 512, 6 restarts.
RULE_QUICK = dict(kernel="rbf", steps=60, batch_size=128, joint_restarts=3, eval_size=512)
RULE_PAPER = dict(kernel="rbf", steps=200, batch_size=512, joint_restarts=6, eval_size=1024)
# The quick presets' networks: 2 task draws × 2 network seeds, a 64-64 monolithic network and 32-32
# modules, Adam at 3e-3 on batches of 128, 1000 test points, the short kernel-rule search.
QUICK_NETWORKS = dict(
    task_seeds=2,
    net_seeds=2,
    monolithic_hidden=(64, 64),
    module_hidden=(32, 32),
    lr=3e-3,
    batch_size=128,
    n_test=1000,
    kernel_rule=RULE_QUICK,
)
# The paper's network scale, shared by the ``paper`` presets: 4 task draws × 3 network seeds, a
# 256-256 monolithic network, Adam at 1e-3 on batches of 256, 2000 test points.
PAPER_NETWORKS = dict(
    task_seeds=4,
    net_seeds=3,
    monolithic_hidden=(256, 256),
    lr=1e-3,
    batch_size=256,
    n_test=2000,
    kernel_rule=RULE_PAPER,
)


class SineNetworks(Config):
    """What every sine-task network figure sets: seeds (task draws × network seeds), the networks'
    hidden widths, Adam training and the kernel rule's search settings (a ``kernel_rule`` block)."""

    task_seeds: int = Field(ge=1)
    net_seeds: int = Field(ge=1)
    monolithic_hidden: tuple[int, ...]
    module_hidden: tuple[int, ...]
    steps: int = Field(ge=1)
    lr: float = Field(gt=0)
    batch_size: int = Field(ge=1)
    n_test: int = Field(ge=2)
    kernel_rule: dict[str, Any] = Field(default_factory=lambda: dict(RULE_QUICK))


def method_spec(
    name: str,
    method: str,
    task: dict[str, Any],
    preset: SineNetworks,
    axes: dict[str, list],
    model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
) -> SweepSpec:
    """A sweep of ``method`` on ``task`` (random layout, b = 1 unless ``task`` says otherwise) with the
    preset's networks, training and kernel rule; ``model``/``train`` override fields; seeds and other
    axes come from ``axes``."""
    kind, init = METHODS[method]
    hidden = preset.monolithic_hidden if kind == "monolithic" else preset.module_hidden
    base = dict(
        task={"layout": "random", "module_dim": 1, "n_test": preset.n_test, **task},
        model={"kind": kind, "hidden": list(hidden), **(model or {})},
        projection_init=init,
        train={
            "steps": preset.steps,
            "lr": preset.lr,
            "batch_size": preset.batch_size,
            "eval_every": preset.steps,
            **(train or {}),
        },
    )
    if init.startswith("kernel_rule"):
        base["kernel_rule"] = dict(preset.kernel_rule)
    return SweepSpec(experiment="sine", name=f"{name} {method}", base=base, axes=axes)


def seed_axes(preset: SineNetworks) -> dict[str, list[int]]:
    return {"task.seed": list(range(preset.task_seeds)), "seed": list(range(preset.net_seeds))}


def samples_to_target(
    table: pd.DataFrame, metric: str, target: float, *, n_boot: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Samples needed to reach ``target`` on ``metric``, from the seed-mean loss-vs-n curve.

    ``table``: one method at one task setting, rows over ``task.n_train`` × (``task.seed``, ``seed``)
    pairs. The mean over pairs at each n gives one curve; its first crossing (log-log interpolation,
    :func:`~modlab.theory.crossing.first_crossing`) is the estimate. The interval is the 16th–84th
    percentile (± 1 s.e. for a normal law) of the same estimate on ``n_boot`` resamples of the pairs
    with replacement; a resample whose mean curve never reaches the target counts as +inf. Returns
    ``n`` (n_min when left-censored, nan when right-censored), ``censored`` ("left": ≤ n_min, "right": > n_max, or None), ``bound``,
    ``label`` ("123", "> 4096"), ``lo``/``hi``, ``pairs`` and ``pairs_reached`` (pairs whose own
    curve reaches the target within the grid)."""
    rows = table[table["metric"] == metric]
    curves = rows.pivot_table(index=["task.seed", "seed"], columns="task.n_train", values="value").sort_index(axis=1)
    if curves.isna().any().any():
        raise ValueError(f"samples_to_target: {metric} is missing at some (seed pair, n); every pair needs every n")
    n, losses = curves.columns.to_numpy(float), curves.to_numpy(float)
    crossing = first_crossing(n, losses.mean(0), target)
    picks = np.random.default_rng(seed).integers(0, len(losses), size=(n_boot, len(losses)))
    boot = np.array([_estimate(n, losses[pick].mean(0), target) for pick in picks])
    lo, hi = np.quantile(boot, [0.16, 0.84], method="inverted_cdf")
    reached = sum(first_crossing(n, curve, target).censored != "right" for curve in losses)
    return {
        "n": crossing.value,
        "censored": crossing.censored,
        "bound": crossing.bound,
        "label": crossing.describe(),
        "lo": lo,
        "hi": hi,
        "pairs": len(losses),
        "pairs_reached": int(reached),
    }


def _estimate(n: np.ndarray, mean_curve: np.ndarray, target: float) -> float:
    """A crossing as one number for the bootstrap: the value, n_min when left-censored, inf when right."""
    crossing = first_crossing(n, mean_curve, target)
    return np.inf if crossing.censored == "right" else crossing.value
