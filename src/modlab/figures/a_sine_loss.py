"""Figure ``a-sine-loss``: test loss vs training samples on paper A's modular sine-wave task.

Top row, the paper's preset (random layout: D = m, K = 3 modules each reading one random
direction): in-distribution test loss (solid) and scale-shift OOD loss (x ~ N(0, 1.5² I), dotted)
vs n, one panel per task dimension m. Bottom row, the orthogonal layout (D fixed, b = 2, m = K·b)
trained with module correlation ρ = 0.9: in-distribution (ρ = 0.9, solid) and combinatorial OOD
(ρ = 0, dashed) test loss, one panel per m. Networks: monolithic ReLU MLP, modular network started
at the true projections, modular network learning its projections from a random start.
Markers: mean ± s.e. over task draws × network seeds; losses are test MSE / Var(y) of that set.

Claim (tested): with few samples the modular network given the true projections beats the
monolithic one, in and out of distribution, in both layouts.

Presets (modlab): ``quick`` a 2 × 64 monolithic MLP, 500 steps, m = 2, 8 (random) and 4, 8
(orthogonal), n = 64 … 1024, 2 task draws × 2 network seeds (about a minute on 2 free cores);
``full`` the paper's m = 2, 4, 8, 16 (random) and 2, 4, 8 (orthogonal, D = 16) and n = 64 … 4000
with the quick networks, 1000 steps and 3 task draws × 1 network seed (seeds and network sizes cut
from the paper preset to fit a 2-core CPU; estimated ≈ 6× the quick preset's work, 3–4 min);
``paper`` the sanity-reference networks and training (2 × 256 MLP, modules 2 × 32, 1500 Adam
steps, lr 1e-3, batch 256), 4 × 3 seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.figures.registry import FigureContext, figure
from modlab.figures.sine_methods import QUICK_NETWORKS, SineNetworks, method_spec, seed_axes
from modlab.plots import METHOD_COLORS, legend_below, mean_se, new_figure, reference_line, sim_markers


class SineLossPreset(SineNetworks):
    """The n grid, the task dimensions of the random layout and of the orthogonal layout (m = K·b,
    b = 2, in D = ``orthogonal_dim``), besides the networks."""

    n_axis: tuple[int, ...]
    random_m: tuple[int, ...]
    orthogonal_m: tuple[int, ...]
    orthogonal_dim: int = Field(ge=2)


QUICK = SineLossPreset(
    **QUICK_NETWORKS,
    n_axis=(64, 256, 1024),
    random_m=(2, 8),
    orthogonal_m=(4, 8),
    orthogonal_dim=12,
    steps=500,
)
PRESETS: dict[str, Config] = {
    "quick": QUICK,
    "full": QUICK.replace(
        n_axis=(64, 125, 250, 500, 1000, 2000, 4000),
        random_m=(2, 4, 8, 16),
        orthogonal_m=(2, 4, 8),
        orthogonal_dim=16,
        steps=1000,
        task_seeds=3,
        net_seeds=1,
    ),
    "paper": QUICK.replace(
        n_axis=(64, 125, 250, 500, 1000, 2000, 4000),
        task_seeds=4,
        net_seeds=3,
        random_m=(2, 4, 8, 16),
        orthogonal_m=(2, 4, 8),
        orthogonal_dim=16,
        monolithic_hidden=(256, 256),
        steps=1500,
        lr=1e-3,
        batch_size=256,
        n_test=2000,
    ),
}
NETWORKS = ("monolithic", "modular (true projections)", "modular, plain GD")
RHO = 0.9


def _task(layout: str, m: int, cfg: SineLossPreset) -> dict[str, Any]:
    if layout == "random":
        return dict(layout="random", input_dim=m, n_modules=3, module_dim=1)
    return dict(layout="orthogonal", input_dim=cfg.orthogonal_dim, n_modules=m // 2, module_dim=2, rho=RHO)


def _curves(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    return mean_se(table, ["task.n_train"], metric).sort_values("task.n_train")


@figure(
    "a-sine-loss",
    "paper A: test loss (ID and OOD) vs n on the modular sine task, monolithic vs modular",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    cfg: SineLossPreset = ctx.settings
    rows = [
        ("random", cfg.random_m, "scale_nmse", "scale shift"),
        ("orthogonal", cfg.orthogonal_m, "ood_nmse", "combinatorial OOD"),
    ]
    ncols = max(len(cfg.random_m), len(cfg.orthogonal_m))
    fig, axes = new_figure(2 * ncols, ncols=ncols, width=3.4, height=3.0)
    panels: dict[str, Any] = {}
    for row, (layout, m_values, ood_metric, _ood_label) in enumerate(rows):
        for col in range(ncols):
            ax = axes[row * ncols + col]
            if col >= len(m_values):
                ax.set_visible(False)
                continue
            m = m_values[col]
            panels[f"{layout}_m{m}"] = _panel(ctx, ax, layout, m, ood_metric)
            where = "D = m, K = 3" if layout == "random" else f"D = {cfg.orthogonal_dim}, K = {m // 2}, b = 2"
            ax.set(xscale="log", yscale="log", xlabel="training samples n", ylabel="test MSE / Var(y)")
            ax.set_title(f"{layout} layout, m = {m} ({where})", fontsize=8)
            ax.xaxis.set_minor_formatter("")
            reference_line(ax, 1.0, "predicting the mean", side="right")
    fig.suptitle(
        "Sine task: test loss vs n, mean ± s.e. over task draws × network seeds; filled/solid: ID; hollow: OOD —\n"
        f"top: scale shift ×1.5 (dotted); bottom: trained at module correlation ρ = {RHO}, tested at ρ = 0 (dashed)",
        fontsize=8,
    )
    legend_below(fig, axes[:1], ncol=min(3, ncols))
    return fig, {"panels": panels, "summary": _summary(panels)}


def _panel(ctx: FigureContext, ax, layout: str, m: int, ood_metric: str) -> dict[str, Any]:
    """One (layout, m) panel: ID and OOD loss vs n for every network."""
    cfg: SineLossPreset = ctx.settings
    panel: dict[str, Any] = {}
    for network in NETWORKS:
        axes = {"task.n_train": list(cfg.n_axis), **seed_axes(cfg)}
        table = ctx.sweep(method_spec(f"a-sine-loss {layout} m={m}", network, _task(layout, m, cfg), cfg, axes))
        ident, ood = _curves(table, "test_nmse"), _curves(table, ood_metric)
        color = METHOD_COLORS[network]
        sim_markers(ax, ident["task.n_train"], ident["mean"], ident["se"], color, network)
        ax.plot(ident["task.n_train"], ident["mean"], color=color, lw=1.2)
        sim_markers(ax, ood["task.n_train"], ood["mean"], ood["se"], color, marker="s", hollow=np.ones(len(ood), bool))
        ax.plot(ood["task.n_train"], ood["mean"], color=color, lw=1.0, ls="--" if layout == "orthogonal" else ":")
        panel[network] = {
            "n": ident["task.n_train"],
            "id_mean": ident["mean"],
            "id_se": ident["se"],
            "ood_mean": ood["mean"],
            "ood_se": ood["se"],
            "runs": ident["count"],
        }
    return panel


def _summary(panels: dict[str, Any]) -> dict[str, Any]:
    """Per panel and network: ID and OOD loss at the smallest and largest n, and the OOD/ID ratio
    at the largest n (how much a network relied on the training correlation)."""
    out: dict[str, Any] = {}
    for name, panel in panels.items():
        for network, data in panel.items():
            ident, ood = np.asarray(data["id_mean"]), np.asarray(data["ood_mean"])
            out[f"{name} {network}"] = {
                "id_at_min_n": ident[0],
                "id_at_max_n": ident[-1],
                "ood_at_min_n": ood[0],
                "ood_at_max_n": ood[-1],
                "ood_over_id_at_max_n": ood[-1] / ident[-1],
            }
    return out
