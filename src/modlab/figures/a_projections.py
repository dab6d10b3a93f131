"""Figure ``a-projections``: did the learned modules find the task's true projections?

Sine task, random layout (m = 8, K = 3 modules of b = 1), one n. Left panels: the overlap matrix (true
module i × learned module j, :func:`modlab.measures.overlap_matrix`, 1 = same direction) after
training, for one run (task seed 0, network seed 0) of each method: plain GD from random
projections, the kernel rule's joint variant (RBF kernel, as in ``a-sample-complexity``), the
paper's per-module Algorithm 1 (RBF), and the joint variant with each module's own empirical NTK
(the spec's default kernel); every search runs the spec's 200 steps from 6 restarts (batch 256 in
the quick preset, 512 in the paper preset). Right: the mean overlap (best-matching learned module per true one,
averaged) vs iteration — for the kernel rules first along the projection search (its Adam steps),
then along end-to-end training; for plain GD along training — mean ± s.e. over task × network
seeds (the paper plots a similarity score vs iteration, 0–1000).

JSON: ``mean_overlap_kernel_rule`` (joint, RBF — the default variant), ``mean_overlap_kernel_rule_per_module``,
``mean_overlap_plain_gd`` and ``mean_overlap_kernel_rule_module_kernel``, each the mean over runs of
the overlap after training; ``*_after_search`` the same right after the search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modlab.figures.registry import FigureContext, figure
from modlab.figures.sine_methods import COLORS, RULE_PAPER, RULE_QUICK, method_spec, seed_axes
from modlab.plots import mean_se, new_figure

RULE = {**RULE_QUICK, "steps": 200, "batch_size": 256, "joint_restarts": 6, "record_every": 5}
PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(
        m=8,
        n=1024,
        task_seeds=2,
        net_seeds=2,
        module_hidden=[32, 32],
        monolithic_hidden=[64, 64],
        steps=500,
        lr=3e-3,
        batch_size=128,
        n_test=1000,
        eval_every=50,
        kernel_rule=RULE,
    ),
    "paper": dict(
        m=8,
        n=2000,
        task_seeds=4,
        net_seeds=3,
        module_hidden=[32, 32],
        monolithic_hidden=[256, 256],
        steps=1500,
        lr=1e-3,
        batch_size=256,
        n_test=2000,
        eval_every=50,
        kernel_rule={**RULE_PAPER, "record_every": 5},
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
PANEL_COLORS = {**COLORS, "kernel rule (joint, module NTK)": "C5"}


def _table(ctx: FigureContext, label: str) -> pd.DataFrame:
    cfg = PRESETS[ctx.preset]
    method, kernel, _ = PANELS[label]
    preset = {**cfg, "kernel_rule": {**cfg["kernel_rule"], "kernel": kernel or "rbf"}}
    axes = {"task.n_train": [cfg["n"]], **seed_axes(cfg)}
    spec = method_spec(
        f"a-projections {label}",
        method,
        {"input_dim": cfg["m"], "n_modules": 3},
        preset,
        axes,
        train={"eval_every": cfg["eval_every"]},
    )
    return ctx.sweep(spec)


def _curve(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    return mean_se(table, ["step"], metric).sort_values("step")


@figure(
    "a-projections",
    "paper A: overlap of learned vs true projections (heat-maps, vs iteration): plain GD vs kernel rules",
)
def make(ctx: FigureContext):
    cfg = PRESETS[ctx.preset]
    fig, axes = new_figure(len(PANELS) + 1, ncols=len(PANELS) + 1, width=3.2, height=3.2)
    data: dict[str, Any] = {"matrices": {}, "curves": {}}
    curve_ax = axes[-1]
    for ax, label in zip(axes, PANELS):
        table = _table(ctx, label)
        first = table[(table["task.seed"] == 0) & (table["seed"] == 0) & (table["metric"] == "overlap_matrix")]
        matrix = first.sort_values("step")["value"].to_numpy().reshape(3, -1)
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(
                j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black"
            )
        ax.set(
            xlabel="learned module j",
            ylabel="true module i",
            xticks=range(matrix.shape[1]),
            yticks=range(3),
            title=label,
        )
        ax.title.set_fontsize(8)
        data["matrices"][label] = matrix
        data["curves"][label] = _overlap_course(curve_ax, table, label, cfg)
        final = mean_se(table, ["task.n_train"], "projection_overlap")
        key = PANELS[label][2]
        data[key] = float(final["mean"].iloc[0])
        data[f"{key}_se"] = float(final["se"].iloc[0])
        if PANELS[label][1] is not None:
            data[f"{key}_after_search"] = float(_curve(table, "overlap_curve")["mean"].iloc[0])
    fig.colorbar(image, ax=axes[len(PANELS) - 1], fraction=0.046)
    curve_ax.set(
        xlabel="iteration (search, then training)",
        ylabel="mean overlap with true modules",
        ylim=(0, 1.05),
        title=f"overlap vs iteration (m = {cfg['m']}, n = {cfg['n']})",
    )
    curve_ax.axvline(cfg["kernel_rule"]["steps"], color="grey", lw=0.7, ls=":")
    curve_ax.title.set_fontsize(8)
    curve_ax.legend(fontsize=6)
    fig.suptitle(
        "Sine task, random layout (K = 3, b = 1): overlap (cos² of the angle) of learned vs true projections after training; "
        "right: mean ± s.e. over task × network seeds",
        fontsize=8,
    )
    return fig, {**data, "preset_settings": cfg}


def _overlap_course(ax, table: pd.DataFrame, label: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Overlap along the search (kernel rules) then along training, on one iteration axis."""
    training = _curve(table, "overlap_curve")
    steps = _curve(table, "curve_steps")["mean"].to_numpy()
    offset = 0.0
    out: dict[str, Any] = {}
    color = PANEL_COLORS[label]
    if PANELS[label][1] is not None:
        search = _curve(table, "search_overlap_curve")
        search_steps = _curve(table, "search_steps")["mean"].to_numpy()
        ax.fill_between(
            search_steps, search["mean"] - search["se"], search["mean"] + search["se"], color=color, alpha=0.2, lw=0
        )
        ax.plot(search_steps, search["mean"], color=color, lw=1.2, ls="--")
        offset = float(cfg["kernel_rule"]["steps"])
        out["search"] = {"step": search_steps, "mean": search["mean"], "se": search["se"]}
    x = steps + offset
    ax.fill_between(
        x, training["mean"] - training["se"], training["mean"] + training["se"], color=color, alpha=0.2, lw=0
    )
    ax.plot(x, training["mean"], color=color, lw=1.4, label=label)
    out["training"] = {"iteration": x, "mean": training["mean"], "se": training["se"]}
    return out
