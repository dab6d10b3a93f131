"""Figure ``a-compute-matched``: test loss vs total training compute, the kernel rule's projection
search counted (a question of paper A's reviewers, beyond the paper).

Sine task, random layout (m = 8, K = 3, b = 1), one n. Each run's test loss is recorded along
training; its compute at training step t is ``search FLOPs + 6 · parameters · batch · t``
(:func:`modlab.experiments.sine.train_flops`; the search's FLOPs from
:func:`modlab.rules.kernel_rule.search_flops`: every descent's kernels, Cholesky (n³/3) and its
solve, QR, backward counted as twice the forward; both bound torch's own matmul count from above,
tested). So a kernel-rule curve starts to the right, at its search's cost (an identity, not a claim). Curves: mean ± s.e. over task × network seeds.
Summary: each method's loss at one compute budget, the smallest final total compute among the
methods (interpolated in log FLOPs; nan where a method's curve does not reach back to it).

Presets: ``quick`` n = 1024, 1000 steps, 2 × 2 seeds (≈ 10 s on 2 free cores); ``full`` n = 2000,
3000 steps, the quick networks and search, 3 × 2 seeds (network sizes and search cut from the paper
preset; estimated ≈ 1 min); ``paper`` the paper-scale networks and the 200-step search, 4 × 3 seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.figures.registry import FigureContext, figure
from modlab.figures.sine_methods import PAPER_NETWORKS, QUICK_NETWORKS, SineNetworks, method_spec, seed_axes
from modlab.plots import METHOD_COLORS, legend_below, mean_se, new_figure


class ComputeMatchedPreset(SineNetworks):
    """Task dimension m, n and the evaluation interval, besides the networks."""

    m: int = Field(ge=2)
    n: int = Field(ge=8)
    eval_every: int = Field(ge=1)


QUICK = ComputeMatchedPreset(
    **QUICK_NETWORKS,
    m=8,
    n=1024,
    steps=1000,
    eval_every=100,
)
PRESETS: dict[str, Config] = {
    "quick": QUICK,
    "full": QUICK.replace(n=2000, steps=3000, task_seeds=3),
    "paper": QUICK.replace(
        **PAPER_NETWORKS,
        n=2000,
        steps=3000,
    ),
}
METHODS = ("monolithic", "modular, plain GD", "kernel rule (joint)", "kernel rule (per-module, Alg. 1)")


def _flops_curve(table: pd.DataFrame, batch_size: int) -> pd.DataFrame:
    """Mean ± s.e. test loss at each evaluation step, with that step's total FLOPs (mean over runs)."""
    loss = mean_se(table, ["x"], "test_curve_nmse").sort_values("x")
    steps = loss["x"].to_numpy()
    params = mean_se(table, ["task.n_train"], "n_params")["mean"].iloc[0]
    search = mean_se(table, ["task.n_train"], "search_flops")["mean"].iloc[0]
    return loss.assign(flops=search + 6.0 * params * batch_size * steps, search_flops=search)


@figure(
    "a-compute-matched",
    "beyond paper A: test loss vs total training FLOPs, the kernel rule's search counted",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    cfg: ComputeMatchedPreset = ctx.settings
    fig, axes = new_figure(1, width=5.0, height=3.8)
    ax = axes[0]
    curves: dict[str, Any] = {}
    for method in METHODS:
        spec = method_spec(
            "a-compute-matched",
            method,
            {"input_dim": cfg.m, "n_modules": 3, "n_train": cfg.n},
            cfg,
            seed_axes(cfg),
            train={"eval_every": cfg.eval_every},
        )
        curve = _flops_curve(ctx.sweep(spec), cfg.batch_size)
        curve = curve[curve["flops"] > 0]
        color = METHOD_COLORS[method]
        ax.fill_between(
            curve["flops"], curve["mean"] - curve["se"], curve["mean"] + curve["se"], color=color, alpha=0.2, lw=0
        )
        ax.plot(curve["flops"], curve["mean"], color=color, lw=1.4, label=method)
        if curve["search_flops"].iloc[0] > 0:
            ax.axvline(curve["search_flops"].iloc[0], color=color, lw=0.7, ls=":")
        curves[method] = {
            "flops": curve["flops"],
            "mean": curve["mean"],
            "se": curve["se"],
            "search_flops": curve["search_flops"].iloc[0],
        }
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="total training FLOPs (kernel-rule search included)",
        ylabel="ID test MSE / Var(y)",
        title=f"compute-matched (m = {cfg.m}, n = {cfg.n}): mean ± s.e. over task × network seeds\n"
        "dotted: each kernel rule's search cost",
    )
    ax.title.set_fontsize(8)
    ax.xaxis.set_minor_formatter("")
    budget = min(float(np.asarray(c["flops"])[-1]) for c in curves.values())
    ax.axvline(budget, color="black", lw=0.7, ls="--")
    ax.annotate(
        "common budget",
        (budget, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-2, -8),
        textcoords="offset points",
        ha="right",
        fontsize=6,
    )
    legend_below(fig, [ax], ncol=2)
    summary = {"budget_flops": budget, **{f"loss_at_budget {m}": _at(curves[m], budget) for m in METHODS}}
    return fig, {"curves": curves, "summary": summary}


def _at(curve: dict[str, Any], flops: float) -> float:
    x, y = np.log(np.asarray(curve["flops"], float)), np.log(np.asarray(curve["mean"], float))
    if not x[0] <= np.log(flops) <= x[-1]:
        return float("nan")
    return float(np.exp(np.interp(np.log(flops), x, y)))
