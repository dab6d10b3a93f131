"""Figure ``a-sine-loss``: test loss vs training samples on paper A's modular sine-wave task.

Top row, the paper's preset (random layout: D = m, K = 3 modules each reading one random
direction): in-distribution test loss (solid) and scale-shift OOD loss (x ~ N(0, 1.5² I), dotted)
vs n, one panel per task dimension m. Bottom row, the orthogonal layout (D fixed, b = 2, m = K·b)
trained with module correlation ρ = 0.9: in-distribution (ρ = 0.9, solid) and combinatorial OOD
(ρ = 0, dashed) test loss, one panel per m. Networks: monolithic ReLU MLP, modular network started
at the true projections, modular network learning its projections from a random start.
Markers: mean ± s.e. over task draws × network seeds; losses are test MSE / Var(y) of that set.

Choices where the spec is silent (modlab): the quick preset uses a 2 × 64 monolithic MLP and
fewer steps so it runs in about a minute; the paper preset uses the spec's sanity-reference
networks and training (2 × 256 MLP, modules 2 × 32, 1500 Adam steps, lr 1e-3, batch 256).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec
from modlab.figures.registry import FigureContext, figure
from modlab.plots import mean_se, new_figure, sim_markers

PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(
        n_axis=[64, 256, 1024],
        task_seeds=2,
        net_seeds=2,
        random_m=[2, 8],
        orthogonal_m=[4, 8],
        orthogonal_dim=12,
        monolithic_hidden=[64, 64],
        module_hidden=[32, 32],
        steps=500,
        lr=3e-3,
        batch_size=128,
        n_test=1000,
    ),
    "paper": dict(
        n_axis=[64, 125, 250, 500, 1000, 2000, 4000],
        task_seeds=4,
        net_seeds=3,
        random_m=[2, 4, 8, 16],
        orthogonal_m=[2, 4, 8],
        orthogonal_dim=16,
        monolithic_hidden=[256, 256],
        module_hidden=[32, 32],
        steps=1500,
        lr=1e-3,
        batch_size=256,
        n_test=2000,
    ),
}
NETWORKS = {
    "monolithic": ({"kind": "monolithic"}, "random"),
    "modular (true projections)": ({"kind": "modular"}, "true"),
    "modular (random start)": ({"kind": "modular"}, "random"),
}
COLORS = {"monolithic": "C0", "modular (true projections)": "C3", "modular (random start)": "C1"}
RHO = 0.9


def _task(layout: str, m: int, cfg: dict) -> dict[str, Any]:
    if layout == "random":
        return dict(layout="random", input_dim=m, n_modules=3, module_dim=1, n_test=cfg["n_test"])
    return dict(
        layout="orthogonal",
        input_dim=cfg["orthogonal_dim"],
        n_modules=m // 2,
        module_dim=2,
        rho=RHO,
        n_test=cfg["n_test"],
    )


def _spec(layout: str, m: int, network: str, cfg: dict) -> SweepSpec:
    model, init = NETWORKS[network]
    hidden = cfg["monolithic_hidden"] if model["kind"] == "monolithic" else cfg["module_hidden"]
    base = dict(
        task=_task(layout, m, cfg),
        model={**model, "hidden": hidden},
        projection_init=init,
        train=dict(steps=cfg["steps"], lr=cfg["lr"], batch_size=cfg["batch_size"], eval_every=cfg["steps"]),
    )
    axes = {
        "task.n_train": cfg["n_axis"],
        "task.seed": list(range(cfg["task_seeds"])),
        "seed": list(range(cfg["net_seeds"])),
    }
    return SweepSpec(experiment="sine", name=f"a-sine-loss {layout} m={m} {network}", base=base, axes=axes)


def _curves(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    return mean_se(table, ["task.n_train"], metric).sort_values("task.n_train")


@figure("a-sine-loss", "paper A: test loss (ID and OOD) vs n on the modular sine task, monolithic vs modular")
def make(ctx: FigureContext):
    cfg = PRESETS[ctx.preset]
    rows = [
        ("random", cfg["random_m"], "scale_nmse", "scale shift"),
        ("orthogonal", cfg["orthogonal_m"], "ood_nmse", "combinatorial OOD"),
    ]
    ncols = max(len(cfg["random_m"]), len(cfg["orthogonal_m"]))
    fig, axes = new_figure(2 * ncols, ncols=ncols, width=3.8, height=3.2)
    panels: dict[str, Any] = {}
    for row, (layout, m_values, ood_metric, ood_label) in enumerate(rows):
        for col in range(ncols):
            ax = axes[row * ncols + col]
            if col >= len(m_values):
                ax.set_visible(False)
                continue
            m = m_values[col]
            panel: dict[str, Any] = {}
            for network in NETWORKS:
                table = ctx.sweep(_spec(layout, m, network, cfg))
                ident, ood = _curves(table, "test_nmse"), _curves(table, ood_metric)
                color = COLORS[network]
                sim_markers(ax, ident["task.n_train"], ident["mean"], ident["se"], color, network)
                ax.plot(ident["task.n_train"], ident["mean"], color=color, lw=1.2)
                sim_markers(
                    ax, ood["task.n_train"], ood["mean"], ood["se"], color, marker="s", hollow=np.ones(len(ood), bool)
                )
                ax.plot(
                    ood["task.n_train"], ood["mean"], color=color, lw=1.0, ls="--" if layout == "orthogonal" else ":"
                )
                panel[network] = {
                    "n": ident["task.n_train"],
                    "id_mean": ident["mean"],
                    "id_se": ident["se"],
                    "ood_mean": ood["mean"],
                    "ood_se": ood["se"],
                    "runs": ident["count"],
                }
            where = (
                f"random layout, D = m = {m}, K = 3"
                if layout == "random"
                else f"orthogonal, D = {cfg['orthogonal_dim']}, K = {m // 2}, b = 2"
            )
            ax.set(
                xscale="log",
                yscale="log",
                xlabel="training samples n",
                ylabel="test MSE / Var(y)",
                title=f"m = {m} ({where})",
            )
            ax.title.set_fontsize(8)
            ax.axhline(1.0, color="grey", lw=0.7, ls=":")
            if col == 0:
                ax.legend(
                    fontsize=6,
                    title=f"filled/solid: ID; hollow/{'dashed' if layout == 'orthogonal' else 'dotted'}: {ood_label}",
                    title_fontsize=6,
                )
            panels[f"{layout}_m{m}"] = panel
    fig.suptitle(
        "Modular sine-wave task: test loss vs n (mean ± s.e. over task draws × network seeds)\n"
        f"top: random layout (paper preset); bottom: trained at module correlation ρ = {RHO}, OOD: ρ = 0",
        fontsize=9,
    )
    return fig, {"panels": panels, "summary": _summary(panels), "preset_settings": cfg}


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
