"""Figures ``b-dense``, ``b-split``, ``b-segregated``, ``b-shallow``: paper B's exact learning
dynamics against simulation (spec B §4–5, experiments 1–4), and :func:`plot_setting` for any point.

Panels: (a) each module's mode strengths u(t), simulated (solid, mean ± std over seeds, projected
onto the singular vectors of the module's Σyx) and theory (dashed, from each seed's effective u0:
the start whose sigmoid reaches half the fixed point at the simulated half-rise time; depth 1: the
simulated value at t = 0); (b) the four quadrant norms of the total map, simulated vs the closed
forms evaluated on the theory mode strengths; (c) the training loss, simulated vs theory.
Settings follow spec §3: dense σ = 0.01/50, split and segregated σ = 0.1/50, lr 0.02, shallow
lr 0.005, 300 epochs, hidden 50, default point (n1 n2 k1 k2 r) = (3 1 3 1 1).

Any point of the space, from Python::

    from modlab.figures.b_dynamics import plot_setting
    plot_setting({"task": {"n1": 4, "n2": 2, "k1": 2}, "architecture": "split"}, "results/mine")

writes ``results/mine/b-custom.{png,pdf,json}``; the fields are those of ``modlab run
linear-modules --show-config``. From the shell, ``modlab run linear-modules --set task.n1=4 ...``
prints one seed's curves and its ``max_rel_error``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec
from modlab.experiments.linear_modules import LinearModulesConfig, epochs_axis, point_of
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure, save_figure
from modlab.store import Store
from modlab.theory import QUADRANTS, module_points, modes

SEEDS = {"quick": 20, "paper": 100}
SETTINGS: dict[str, dict[str, Any]] = {
    "b-dense": {"architecture": "dense"},
    "b-split": {"architecture": "split", "init_scale": 0.1 / 50},
    "b-segregated": {"architecture": "segregated", "init_scale": 0.1 / 50},
    "b-shallow": {"architecture": "dense", "depth": 1, "lr": 0.005},
}
QUADRANT_LABELS = {"oy_ox": "‖W[Ωy,Ωx]‖", "oy_gx": "‖W[Ωy,Γx]‖", "gy_ox": "‖W[Γy,Ωx]‖", "gy_gx": "‖W[Γy,Γx]‖"}
MODE_LABELS = {"pi1": "π1", "pi2": "π2", "pi3": "π3"}
U0_NOTES = {
    "deep": "theory u0: effective start per seed (half-rise time matched; spec §5)",
    "shallow": "theory u0: the simulated strength at t = 0 (shallow dynamics are exactly decoupled)",
}


def curve_stats(table: pd.DataFrame, metric: str, by: list[str] | None = None) -> pd.DataFrame:
    """Mean and std over seeds of a curve metric at every step (and ``by`` group)."""
    rows = table[table["metric"] == metric]
    return rows.groupby([*(by or []), "step"])["value"].agg(["mean", "std"]).reset_index()


def scalar_values(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Every seed's value of a scalar metric."""
    return table.loc[(table["metric"] == metric) & table["step"].isna(), "value"].to_numpy()


def band(ax, x, stats: pd.DataFrame, color, label, **kw):
    """Simulation: a solid mean line with a ±std band."""
    mean, std = stats["mean"].to_numpy(), stats["std"].fillna(0).to_numpy()
    ax.plot(x, mean, color=color, lw=2.4, alpha=0.8, label=label, **kw)
    ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, lw=0)


def theory_dashes(ax, x, y, label=None):
    """Theory: a thin black dashed line drawn over the simulation it belongs to."""
    ax.plot(x, y, color="k", ls=(0, (3, 2)), lw=1.1, label=label, zorder=4)


def setting_table(
    ctx: FigureContext, name: str, setting: dict[str, Any], seeds: int
) -> tuple[LinearModulesConfig, pd.DataFrame]:
    """Run (or resume) ``seeds`` seeds of one setting; its config and tidy table."""
    spec = SweepSpec(experiment="linear-modules", name=name, base=setting, axes={"seed": list(range(seeds))})
    return spec.configs()[0], ctx.sweep(spec)


def dynamics_figure(ctx: FigureContext, name: str, setting: dict[str, Any], seeds: int):
    """Draw the three dynamics panels of one setting; returns (figure, data)."""
    cfg, table = setting_table(ctx, name, setting, seeds)
    if not cfg.theory_applies:
        raise ValueError(
            f"{name}: the mode theory needs plain gradient flow on every point (no n_train, gamma = nu = 0)"
        )
    t = epochs_axis(cfg)
    fig, axes = new_figure(3, width=4.4, height=3.6)
    u0_note = U0_NOTES["shallow" if cfg.depth == 1 else "deep"]
    data: dict[str, Any] = {"setting": cfg.to_dict(), "seeds": seeds, "epochs": t, "u0": u0_note}
    data.update(_modes_panel(axes[0], cfg, table, t))
    data.update(_quadrant_panel(axes[1], table, t))
    data.update(_loss_panel(axes[2], table, t))
    point = point_of(cfg.task)
    if point.n2 > 0:
        data["systematicity"] = float(curve_stats(table, "systematicity")["mean"].iloc[-1])
        data["systematic_share_dense_theory"] = point.n_points / point.a
    task = cfg.task
    fig.suptitle(
        f"{name}: {cfg.architecture}, depth {cfg.depth}, (n1 n2 k1 k2 r) = ({task.n1} {task.n2} {task.k1} {task.k2} {task.r:g}), "
        f"lr {cfg.lr:g}, σ {cfg.init_scale:g}, {seeds} seeds — simulation solid (mean ± std), theory black dashed; {u0_note}",
        fontsize=8,
    )
    return fig, data


def _modes_panel(ax, cfg: LinearModulesConfig, table: pd.DataFrame, t) -> dict[str, Any]:
    out: dict[str, Any] = {"modes": {}}
    errors = {}
    color = 0
    for role, point in module_points(cfg.architecture, point_of(cfg.task)).items():
        for mode in modes(point):
            key = f"{role}_{mode.name}"
            label = MODE_LABELS[mode.name] if role == "dense" else f"{role} {MODE_LABELS[mode.name]}"
            sim, theory = curve_stats(table, f"u_{key}"), curve_stats(table, f"theory_u_{key}")
            band(ax, t, sim, f"C{color}", f"{label} (s/d = {mode.fixed_point:.3f})")
            theory_dashes(ax, t, theory["mean"], "theory" if color == 0 else None)
            errors[key] = float(scalar_values(table, f"rel_error_{key}").max())
            out["modes"][key] = {
                "sim_mean": sim["mean"],
                "sim_std": sim["std"],
                "theory_mean": theory["mean"],
                "fixed_point": mode.fixed_point,
                "s": mode.s,
                "d": mode.d,
                "multiplicity": mode.multiplicity,
                "u0_mean": float(scalar_values(table, f"u0_{key}").mean()),
                "max_rel_error": errors[key],
            }
            color += 1
    ax.set(xlabel="epoch", ylabel="mode strength u", title="(a) modes: simulation vs theory")
    ax.legend(fontsize=7)
    return {**out, "max_rel_error": max(errors.values()), "max_rel_error_per_mode": errors}


def _quadrant_panel(ax, table: pd.DataFrame, t) -> dict[str, Any]:
    out: dict[str, Any] = {"quadrants": {}, "final_quadrants": {}}
    for i, q in enumerate(QUADRANTS):
        sim, theory = curve_stats(table, f"q_{q}"), curve_stats(table, f"theory_q_{q}")
        band(ax, t, sim, f"C{i}", QUADRANT_LABELS[q])
        theory_dashes(ax, t, theory["mean"], "theory" if i == 0 else None)
        out["quadrants"][q] = {"sim_mean": sim["mean"], "sim_std": sim["std"], "theory_mean": theory["mean"]}
        out["final_quadrants"][q] = {"sim": float(sim["mean"].iloc[-1]), "theory": float(theory["mean"].iloc[-1])}
    ax.set(xlabel="epoch", ylabel="Frobenius norm", title="(b) quadrant norms of W")
    ax.legend(fontsize=7)
    return out


def _loss_panel(ax, table: pd.DataFrame, t) -> dict[str, Any]:
    out: dict[str, Any] = {"loss": {}}
    for i, metric in enumerate(("loss", "loss_comp", "loss_noncomp")):
        if not (table["metric"] == metric).any():
            continue
        sim = curve_stats(table, metric)
        band(
            ax,
            t,
            sim,
            f"C{i}",
            {"loss": "total", "loss_comp": "compositional (Ωy)", "loss_noncomp": "non-compositional (Γy)"}[metric],
        )
        out["loss"][metric] = {"sim_mean": sim["mean"], "sim_std": sim["std"]}
    theory = curve_stats(table, "theory_loss")
    theory_dashes(ax, t, theory["mean"], "total, theory")
    out["loss"]["theory_total"] = theory["mean"]
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="(c) training loss")
    ax.set_ylim(bottom=max(1e-6, float(np.nanmin(theory["mean"])) / 10))
    ax.legend(fontsize=7)
    return out


def _register(name: str, description: str) -> None:
    @figure(name, description)
    def make(ctx: FigureContext):
        return dynamics_figure(ctx, name, SETTINGS[name], SEEDS[ctx.preset])


_register("b-dense", "paper B: dense two-layer linear network, mode dynamics and quadrant norms vs exact theory")
_register("b-split", "paper B: output-split modules, mode dynamics and quadrant norms vs exact theory")
_register("b-segregated", "paper B: input-segregated modules (systematic map), dynamics vs theory and systematicity")
_register("b-shallow", "paper B: shallow (one-layer) network, exponential mode dynamics vs theory")


def plot_setting(
    setting: dict[str, Any], out_dir: str | Path, *, seeds: int = 20, name: str = "b-custom", device: str = "cpu"
) -> dict[str, Path]:
    """Theory vs simulation for any ``linear-modules`` setting (nested dict of config fields) in
    one call: writes ``NAME.png/.pdf/.json`` (and the store) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with Store(out_dir / "modlab.sqlite", create=True) as store:
        fig, data = dynamics_figure(FigureContext("quick", store, device, progress=False), name, setting, seeds)
    return save_figure(fig, {"figure": name, **data}, out_dir, name)
