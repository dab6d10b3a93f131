"""Figure ``a-module-mismatch``: what if the network has K̂ ≠ K modules? (a question of paper A's
reviewers, beyond the paper).

Sine task, random layout with K = 2 true modules (b = 1) in m = 8 dimensions, one n; networks with
K̂ = K/2 … 4K modules, projections found by the kernel rule (joint and per-module, RBF kernel as in
``a-sample-complexity``) or learned by plain GD from a random start. Panels: in-distribution test
loss, scale-shift OOD loss, and the mean overlap of the true modules with their best-matching
learned ones, each vs K̂; mean ± s.e. over task × network seeds. With K̂ < K a module must serve two
directions; with K̂ > K the joint rule's summed kernel can spread over spare modules.

Claim (tested): the joint rule reads every true direction once K̂ ≥ K, and cannot with K̂ < K.
Presets: ``quick`` K = 2, K̂ = 1, 2, 4, 8, n = 512, 500 steps, 2 × 2 seeds (≈ 15 s on 2 free cores);
``full`` K = 4, K̂ = 2, 3, 4, 6, 8, 12, 16 (K/2 … 4K), n = 2000, the quick networks and steps, 3 × 2
seeds (steps and network sizes cut from the paper preset; estimated 1–2 min); ``paper`` the same
axes with the paper-scale training, 4 × 3 seeds.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modlab.config import Config
from modlab.figures.registry import FigureContext, figure
from modlab.figures.sine_methods import PAPER_NETWORKS, QUICK_NETWORKS, SineNetworks, method_spec, seed_axes
from modlab.plots import METHOD_COLORS, legend_below, mean_se, new_figure, sim_markers


class MismatchPreset(SineNetworks):
    """Task dimension m, true modules K, the network's K̂ values and n, besides the networks."""

    m: int = Field(ge=2)
    k: int = Field(ge=1)
    k_hat: tuple[int, ...]
    n: int = Field(ge=8)


QUICK = MismatchPreset(
    **QUICK_NETWORKS,
    m=8,
    k=2,
    k_hat=(1, 2, 4, 8),
    n=512,
    steps=500,
)
PRESETS: dict[str, Config] = {
    "quick": QUICK,
    "full": QUICK.replace(k=4, k_hat=(2, 3, 4, 6, 8, 12, 16), n=2000, task_seeds=3),
    "paper": QUICK.replace(
        **PAPER_NETWORKS,
        k=4,
        k_hat=(2, 3, 4, 6, 8, 12, 16),
        n=2000,
        steps=1500,
    ),
}
METHODS = ("kernel rule (joint)", "kernel rule (per-module, Alg. 1)", "modular, plain GD")
PANELS = (
    ("test_nmse", "ID test MSE / Var(y)"),
    ("scale_nmse", "OOD (scale shift) MSE / Var(y)"),
    ("projection_overlap", "mean overlap with true modules"),
)


@figure(
    "a-module-mismatch",
    "beyond paper A: test loss and overlap vs the network's number of modules K̂ (K/2 … 4K)",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    cfg: MismatchPreset = ctx.settings
    fig, axes = new_figure(len(PANELS), width=3.8, height=3.3)
    data: dict[str, Any] = {}
    for method in METHODS:
        spec = method_spec(
            "a-module-mismatch",
            method,
            {"input_dim": cfg.m, "n_modules": cfg.k, "n_train": cfg.n},
            cfg,
            {"model.n_modules": list(cfg.k_hat), **seed_axes(cfg)},
        )
        table = ctx.sweep(spec)
        data[method] = {}
        for ax, (metric, label) in zip(axes, PANELS):
            stats = mean_se(table, ["model.n_modules"], metric).sort_values("model.n_modules")
            sim_markers(ax, stats["model.n_modules"], stats["mean"], stats["se"], METHOD_COLORS[method], method)
            ax.plot(stats["model.n_modules"], stats["mean"], color=METHOD_COLORS[method], lw=1.0)
            ax.set(xscale="log", xlabel="network modules K̂", ylabel=label)
            data[method][metric] = {"k_hat": stats["model.n_modules"], "mean": stats["mean"], "se": stats["se"]}
    for ax in axes:
        ax.axvline(cfg.k, color="black", lw=0.7, ls=":")
        ax.annotate(
            f"K = {cfg.k}",
            (cfg.k, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -8),
            textcoords="offset points",
            fontsize=6,
        )
        ax.set_xticks(cfg.k_hat, [str(k) for k in cfg.k_hat])
        ax.xaxis.set_minor_formatter("")
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    fig.suptitle(
        f"Sine task, random layout, K = {cfg.k} true modules (dotted), m = {cfg.m}, n = {cfg.n}: "
        "networks with K̂ modules; mean ± s.e. over task × network seeds",
        fontsize=8,
    )
    legend_below(fig, axes[:1])
    return fig, {"panels": data, "summary": summary(data, cfg)}


def summary(panels: dict[str, Any], cfg: MismatchPreset) -> dict[str, Any]:
    """Per method, the mean overlap (cos²) and ID test loss at each K̂ (K̂ → value)."""
    out: dict[str, Any] = {"k": cfg.k}
    for method, metrics in panels.items():
        for metric in ("projection_overlap", "test_nmse"):
            out[f"{metric} {method}"] = dict(zip(map(str, metrics[metric]["k_hat"]), metrics[metric]["mean"]))
    return out
