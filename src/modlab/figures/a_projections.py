"""Figure ``a-projections``: did the learned modules find the task's true projections, and why does
the paper's per-module rule miss them?

Sine task, random layout (m = 8, K = 3 modules of b = 1), one n. Overlaps are cos² of the angle
between a true direction and a learned one (:func:`modlab.measures.overlap_matrix`; 1 = same
direction, ≈ 1/m for a random one; |cos| = √overlap). Panels: the overlap matrix (true module i ×
learned module j) after training, for one run (task seed 0, network seed 0) of each method: plain GD
from random projections, the kernel rule's joint variant (RBF kernel, as in ``a-sample-complexity``),
the paper's per-module Algorithm 1 (RBF), and the joint variant with each module's own empirical NTK;
then the mean overlap (best-matching learned module per true one, averaged) vs iteration — for the
kernel rules first along the projection search (dashed), then along end-to-end training; for plain
GD along training — mean ± s.e. over task × network seeds; last, the per-module objective
yᵀ(K_j + εI)⁻¹y of Algorithm 1 at each true direction and at each direction its descents found
(mean ± s.e. over runs). Where the found directions score LOWER than every true one, the
descents did their job: the objective itself prefers a mix of modules (one 1-D projection has to
explain all of y), so the failure is the objective's, not the optimiser's.

JSON: ``mean_overlap_kernel_rule`` (joint, RBF — the default variant), ``mean_overlap_kernel_rule_per_module``,
``mean_overlap_plain_gd`` and ``mean_overlap_kernel_rule_module_kernel``, each the mean over runs of
the overlap (cos²) after training, with ``*_se``; ``*_after_search`` the same right after the search;
``module_objectives`` and ``summary``.

Presets: ``quick`` n = 1024, 500 training steps, 2 task draws × 2 network seeds (≈ 20 s on 2 free
cores); ``full`` n = 2000 and 1000 training steps (the paper plots 0–1000 iterations), 3 × 2 seeds,
≈ 1–2 min (seeds cut from the paper preset); ``paper`` n = 2000, 1500 steps of the paper-scale
networks, the 200-step search with batch 512, 4 × 3 seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.figures.registry import FigureContext, figure
from modlab.figures.sine_methods import (
    PAPER_NETWORKS,
    QUICK_NETWORKS,
    RULE_PAPER,
    RULE_QUICK,
    SineNetworks,
    method_spec,
    seed_axes,
)
from modlab.plots import METHOD_COLORS, legend_below, mean_se, new_figure


class ProjectionsPreset(SineNetworks):
    """Task dimension m, training-set size n and the evaluation interval, besides the networks."""

    m: int = Field(ge=2)
    n: int = Field(ge=8)
    eval_every: int = Field(ge=1)


RULE = {**RULE_QUICK, "steps": 200, "batch_size": 256, "joint_restarts": 6, "record_every": 5}
QUICK = ProjectionsPreset(
    **{**QUICK_NETWORKS, "kernel_rule": RULE},
    m=8,
    n=1024,
    steps=500,
    eval_every=50,
)
PRESETS: dict[str, Config] = {
    "quick": QUICK,
    "full": QUICK.replace(n=2000, steps=1000, task_seeds=3),
    "paper": QUICK.replace(
        **{**PAPER_NETWORKS, "kernel_rule": {**RULE_PAPER, "record_every": 5}},
        n=2000,
        steps=1500,
    ),
}
# label → (method of sine_methods, kernel of the rule, JSON key)
PANELS = {
    "modular, plain GD": ("modular, plain GD", None, "mean_overlap_plain_gd"),
    "kernel rule (joint)": ("kernel rule (joint)", "rbf", "mean_overlap_kernel_rule"),
    "kernel rule (per-module, Alg. 1)": (
        "kernel rule (per-module, Alg. 1)",
        "rbf",
        "mean_overlap_kernel_rule_per_module",
    ),
    "kernel rule (joint, module NTK)": ("kernel rule (joint)", "module", "mean_overlap_kernel_rule_module_kernel"),
}
PER_MODULE = "kernel rule (per-module, Alg. 1)"


def _table(ctx: FigureContext, label: str) -> pd.DataFrame:
    cfg: ProjectionsPreset = ctx.settings
    method, kernel, _ = PANELS[label]
    preset = cfg.replace(kernel_rule={**cfg.kernel_rule, "kernel": kernel or "rbf"})
    axes = {"task.n_train": [cfg.n], **seed_axes(cfg)}
    spec = method_spec(
        f"a-projections {label}",
        method,
        {"input_dim": cfg.m, "n_modules": 3},
        preset,
        axes,
        train={"eval_every": cfg.eval_every},
    )
    return ctx.sweep(spec)


def _curve(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean ± s.e. of a curve metric at each of its own x-values (training or search steps)."""
    return mean_se(table, ["x"], metric).sort_values("x")


@figure(
    "a-projections",
    "paper A: overlap of learned vs true projections (heat-maps, vs iteration) and the per-module objective",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    cfg: ProjectionsPreset = ctx.settings
    fig, axes = new_figure(len(PANELS) + 2, ncols=3, width=3.6, height=3.3)
    data: dict[str, Any] = {"matrices": {}, "curves": {}}
    curve_ax, objective_ax = axes[-2], axes[-1]
    for ax, label in zip(axes, PANELS):
        table = _table(ctx, label)
        data["matrices"][label] = _heat_map(ax, table, label)
        data["curves"][label] = _overlap_course(curve_ax, table, label, cfg)
        final = mean_se(table, ["task.n_train"], "projection_overlap")
        key = PANELS[label][2]
        data[key] = float(final["mean"].iloc[0])
        data[f"{key}_se"] = float(final["se"].iloc[0])
        if PANELS[label][1] is not None:
            data[f"{key}_after_search"] = float(_curve(table, "overlap_curve")["mean"].iloc[0])
        if label == PER_MODULE:
            data["module_objectives"] = _objectives(objective_ax, table)
    curve_ax.set(
        xlabel="iteration (search, then training)",
        ylabel="mean overlap (cos²) with true modules",
        ylim=(0, 1.05),
        title=f"overlap vs iteration (m = {cfg.m}, n = {cfg.n})",
    )
    curve_ax.axvline(cfg.kernel_rule["steps"], color="grey", lw=0.7, ls=":")
    curve_ax.annotate("search ends", (cfg.kernel_rule["steps"], 0.02), fontsize=6, rotation=90, va="bottom")
    for ax in axes:
        ax.title.set_fontsize(8)
    fig.suptitle(
        "Sine task (m = 8, K = 3, b = 1): overlap (cos²) of learned vs true projections; curves and objectives: "
        "mean ± s.e. over task × network seeds",
        fontsize=8,
    )
    legend_below(fig, [curve_ax], ncol=4)
    data["summary"] = summary(data)
    return fig, data


def _heat_map(ax, table: pd.DataFrame, label: str) -> np.ndarray:
    """The overlap matrix after training of run (task seed 0, network seed 0)."""
    first = table[(table["task.seed"] == 0) & (table["seed"] == 0) & (table["metric"] == "overlap_matrix")]
    matrix = first.sort_values("step")["value"].to_numpy().reshape(3, -1)
    ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black")
    ax.set(
        xlabel="learned module j",
        ylabel="true module i",
        xticks=range(matrix.shape[1]),
        yticks=range(3),
        title=f"{label}: cos²",
    )
    return matrix


def _objectives(ax, table: pd.DataFrame) -> dict[str, Any]:
    """Algorithm 1's objective at each true direction and at each found one, mean ± s.e. over runs."""
    true = _per_run(table, "module_objective_true")
    found = _per_run(table, "module_objective_found")
    values = np.concatenate([true, found], axis=1)
    mean, se = values.mean(0), values.std(0, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0 * values[0]
    k = true.shape[1]
    colors = ["black"] * k + [METHOD_COLORS[PER_MODULE]] * found.shape[1]
    ax.bar(range(values.shape[1]), mean, yerr=se, color=colors, capsize=2)
    ax.set_xticks(
        range(values.shape[1]), [f"true {i + 1}" for i in range(k)] + [f"found {j + 1}" for j in range(found.shape[1])]
    )
    ax.tick_params(axis="x", labelsize=6)
    ax.set(ylabel="yᵀ(K_j + εI)⁻¹y", title="Alg. 1 objective: true vs found")
    return {"true": true, "found": found, "true_mean": mean[:k], "found_mean": mean[k:]}


def _per_run(table: pd.DataFrame, metric: str) -> np.ndarray:
    """A list metric as (runs, entries), runs ordered by (task seed, network seed)."""
    rows = table[table["metric"] == metric]
    return rows.pivot_table(index=["task.seed", "seed"], columns="step", values="value").to_numpy(float)


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers: final mean overlaps (cos²) per method, and the per-module objective's
    verdict — in how many runs every found direction scores below the best (lowest) true direction."""
    out: dict[str, Any] = {"overlap_unit": "cos²"}
    for label, (_, _, key) in PANELS.items():
        out[f"overlap {label}"] = data[key]
    objectives = data["module_objectives"]
    true, found = np.asarray(objectives["true"]), np.asarray(objectives["found"])
    out["per-module objective, best true direction (mean over runs)"] = float(true.min(1).mean())
    out["per-module objective, found directions (mean over runs)"] = float(found.mean())
    out["runs where every found direction beats every true one"] = (
        f"{int((found.max(1) < true.min(1)).sum())}/{len(true)}"
    )
    return out


def _overlap_course(ax, table: pd.DataFrame, label: str, cfg: ProjectionsPreset) -> dict[str, Any]:
    """Overlap along the search (kernel rules, dashed) then along training, on one iteration axis."""
    training = _curve(table, "overlap_curve")
    steps = training["x"].to_numpy()
    offset = 0.0
    out: dict[str, Any] = {}
    color = METHOD_COLORS[label]
    if PANELS[label][1] is not None:
        search = _curve(table, "search_overlap_curve")
        search_steps = search["x"].to_numpy()
        ax.fill_between(
            search_steps, search["mean"] - search["se"], search["mean"] + search["se"], color=color, alpha=0.2, lw=0
        )
        ax.plot(search_steps, search["mean"], color=color, lw=1.2, ls="--")
        offset = float(cfg.kernel_rule["steps"])
        out["search"] = {"step": search_steps, "mean": search["mean"], "se": search["se"]}
    x = steps + offset
    ax.fill_between(
        x, training["mean"] - training["se"], training["mean"] + training["se"], color=color, alpha=0.2, lw=0
    )
    ax.plot(x, training["mean"], color=color, lw=1.4, label=label)
    out["training"] = {"iteration": x, "mean": training["mean"], "se": training["se"]}
    return out
