"""The five ways of learning paper A's sine task that the kernel-rule figures compare, as sweep specs.

Methods: a monolithic MLP; the modular network trained by plain gradient descent from random
projections; the mixture of experts (modules reading all of x); and the modular network whose
projections the kernel rule found first — the joint variant (modlab's default) and the paper's
per-module Algorithm 1 — then trained end to end. A figure gives the network sizes, the training
and the kernel-rule settings in its preset; :func:`method_spec` turns (task, method, axes) into a
sweep of experiment ``sine``. :func:`crossing_n` reads the samples needed for a target loss off a
loss-vs-n curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec

METHODS: dict[str, tuple[str, str]] = {
    "monolithic": ("monolithic", "random"),
    "modular, plain GD": ("modular", "random"),
    "mixture of experts": ("moe", "random"),
    "kernel rule (joint)": ("modular", "kernel_rule"),
    "kernel rule (per-module, Alg. 1)": ("modular", "kernel_rule_per_module"),
}
COLORS = {
    "monolithic": "C0",
    "modular, plain GD": "C1",
    "mixture of experts": "C7",
    "kernel rule (joint)": "C3",
    "kernel rule (per-module, Alg. 1)": "C4",
}
KERNEL_RULES = ("kernel rule (joint)", "kernel rule (per-module, Alg. 1)")
# The figures' kernel-rule settings: RBF kernel (see a_sample_complexity's docstring for why); the
# paper presets use the spec's measured search (batch 512, 200 steps, 6 restarts).
RULE_QUICK = dict(kernel="rbf", steps=60, batch_size=128, joint_restarts=3, eval_size=512)
RULE_PAPER = dict(kernel="rbf", steps=200, batch_size=512, joint_restarts=6, eval_size=1024)


def method_spec(
    name: str,
    method: str,
    task: dict[str, Any],
    preset: dict[str, Any],
    axes: dict[str, list],
    model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
) -> SweepSpec:
    """A sweep of ``method`` on ``task``: the preset's hidden widths (``monolithic_hidden``,
    ``module_hidden``), training (``steps``, ``lr``, ``batch_size``) and ``kernel_rule`` settings;
    ``model``/``train`` override fields; seeds come from ``axes``."""
    kind, init = METHODS[method]
    hidden = preset["monolithic_hidden"] if kind == "monolithic" else preset["module_hidden"]
    base = dict(
        task={"layout": "random", "module_dim": 1, "n_test": preset["n_test"], **task},
        model={"kind": kind, "hidden": hidden, **(model or {})},
        projection_init=init,
        train={
            "steps": preset["steps"],
            "lr": preset["lr"],
            "batch_size": preset["batch_size"],
            "eval_every": preset["steps"],
            **(train or {}),
        },
    )
    if init != "random":
        base["kernel_rule"] = preset["kernel_rule"]
    return SweepSpec(experiment="sine", name=f"{name} {method}", base=base, axes=axes)


def seed_axes(preset: dict[str, Any]) -> dict[str, list[int]]:
    return {"task.seed": list(range(preset["task_seeds"])), "seed": list(range(preset["net_seeds"]))}


def crossing_n(n: np.ndarray, loss: np.ndarray, target: float) -> float:
    """Log-log interpolated n where a loss-vs-n curve first falls to ``target``: ``n[0]`` if it
    starts below, nan if it never gets there."""
    below = np.flatnonzero(np.asarray(loss) <= target)
    if below.size == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(n[0])
    lo, hi = np.log(loss[i - 1]), np.log(loss[i])
    frac = (lo - np.log(target)) / (lo - hi)
    return float(np.exp(np.log(n[i - 1]) + frac * (np.log(n[i]) - np.log(n[i - 1]))))


def samples_needed(table: pd.DataFrame, metric: str, target: float, by: str) -> pd.DataFrame:
    """Per ``by`` value: the samples each (task seed, network seed) run needs to reach ``target``
    on ``metric``, then mean ± s.e. over the pairs that reach it within the n grid
    (columns: by, mean, se, reached, pairs)."""
    rows = table[table["metric"] == metric]
    per_pair = [
        {
            by: key[0],
            "n": crossing_n(
                group.sort_values("task.n_train")["task.n_train"].to_numpy(),
                group.sort_values("task.n_train")["value"].to_numpy(),
                target,
            ),
        }
        for key, group in rows.groupby([by, "task.seed", "seed"])
    ]
    frame = pd.DataFrame(per_pair)
    out = []
    for value, group in frame.groupby(by):
        reached = group["n"].dropna()
        se = reached.std() / np.sqrt(len(reached)) if len(reached) > 1 else 0.0
        out.append(
            {
                by: value,
                "mean": reached.mean() if len(reached) else np.nan,
                "se": se,
                "reached": len(reached),
                "pairs": len(group),
            }
        )
    return pd.DataFrame(out)
